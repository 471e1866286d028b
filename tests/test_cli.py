"""The command line: every --help works; train -> evaluate -> separate round trip on a fabricated set."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from _tiny_helpers import make_tiny_dataset
from mtass_lite.__main__ import main

TESTS = Path(__file__).resolve().parent
COMMANDS = ["make-data", "train", "evaluate", "separate", "profile", "reproduce", "fetch-real"]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_exits_zero(command, capsys):
    with pytest.raises(SystemExit) as e:
        main(([command] if command else []) + ["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage:")
    if command is None:
        assert all(c in out for c in COMMANDS)


def test_train_evaluate_separate_round_trip(tmp_path, capsys):
    data = make_tiny_dataset(tmp_path / "data", n_train=4, n_dev=1, n_test=2)
    run = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), str(TESTS.parent)]))
    cmd = [sys.executable, "-m", "mtass_lite", "train", "--model", "_tiny_helpers:TinySeparator",
           "--preset", "fast", "--data", str(data), "--out", str(run), "--max-steps", "4", "--no-progress",
           "--set", "segment=0.25", "batch_size=2", "valid_every=2", "valid_items=1", "lr=3e-3"]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "best checkpoint" in p.stdout
    summary = json.loads((run / "summary.json").read_text())
    assert summary["last_step"] == 4 and summary["best_step"] in (2, 4)
    assert len((run / "log.csv").read_text().splitlines()) == 5

    out = tmp_path / "results" / "eval.json"
    assert main(["evaluate", "--checkpoint", str(run / "best.pt"), "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "| track | SDRi (dB) | SI-SDRi (dB) |" in printed
    res = json.loads(out.read_text())
    assert res["n_items"] == 2 and res["data_root"] == str(data) and res["checkpoint"]["step"] == summary["best_step"]
    assert res["model"]["name"] == "_tiny_helpers:TinySeparator"

    song = tmp_path / "song.flac"
    sf.write(song, 0.1 * np.random.default_rng(0).standard_normal((22050, 2)), 22050)
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    code = main(["separate", str(song), str(bad), "--checkpoint", str(run / "best.pt"), "--out",
                 str(tmp_path / "sep")])
    captured = capsys.readouterr()
    assert code == 1 and "bad.wav" in captured.err
    for t in ("speech", "music", "noise"):
        info = sf.info(tmp_path / "sep" / "song" / f"{t}.wav")
        assert info.samplerate == 16000 and info.channels == 1 and info.frames == 16000


def test_separate_without_weights_says_how_to_get_them(tmp_path, monkeypatch, capsys):
    import mtass_lite.shipped as sh

    monkeypatch.setattr(sh, "PRETRAINED_DIR", tmp_path)
    song = tmp_path / "song.wav"
    sf.write(song, np.zeros(1600, np.float32), 16000)
    assert main(["separate", str(song), "--model", "complex_mtassnet"]) == 1
    err = capsys.readouterr().err
    assert "complex_mtassnet_lite.pt" in err and "python -m mtass_lite train --model complex_mtassnet" in err


def test_train_config_names_its_run_folder_and_continues_there(tmp_path):
    """A recipe file (model, data, out_dir, steps) is the whole command: run twice with a larger
    max_steps, the second call continues the first run in the recipe's folder."""
    data = make_tiny_dataset(tmp_path / "data", n_train=4, n_dev=1, n_test=1)
    run = tmp_path / "recipe_run"
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"model: _tiny_helpers:TinySeparator\ndata_root: {data}\nout_dir: {run}\nsegment: 0.25\n"
                      f"batch_size: 2\nvalid_every: 2\nvalid_items: 1\nmax_steps: 2\nprogress: false\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), str(TESTS.parent)]))
    cmd = [sys.executable, "-m", "mtass_lite", "train", "--config", str(recipe)]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads((run / "summary.json").read_text())["last_step"] == 2
    p = subprocess.run(cmd + ["--max-steps", "4"], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "resuming" in p.stdout + p.stderr and json.loads((run / "summary.json").read_text())["last_step"] == 4
    assert not (tmp_path / "runs").exists()  # nothing went to the default folder
