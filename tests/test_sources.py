"""Real recordings as a source kind: folders -> pools, bad files, disjoint splits, weighted kinds, the builder."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import soundfile as sf

from _scripts import load_script
from mtass_lite import SAMPLE_RATE, TRACKS
from mtass_lite.data import sources
from mtass_lite.data.datasets import MTASSDataset, read_metadata
from mtass_lite.data.mixing import MixConfig, Source, make_mixture, pool_fingerprint
from mtass_lite.data.sources import (
    DisjointError, GroupRule, WeightedPool, build_real_set, check_disjoint, folder_pools, mixed_pools,
)

SR = SAMPLE_RATE
CFG = MixConfig(segment_seconds=1.0)


def tone(seconds: float, seed: int, sr: int = SR) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    x = np.sin(2 * np.pi * rng.uniform(100, 900) * t) + 0.3 * rng.standard_normal(t.size)
    return (0.1 * x).astype(np.float32)


def write(root, rel: str, x: np.ndarray, sr: int = SR, **kw) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x, sr, **kw)


# Files of a small source folder: split/track/name -> seconds (speaker ids in LibriSpeech, AISHELL and
# VCTK spelling; a manifest gives two noise files one explicit group and a music file its piece).
FILES = {
    "train/speech/ls_19-198-0001.wav": 1.5, "train/speech/ls_19-198-0002.flac": 1.2,
    "train/speech/BAC009S0002W0122.flac": 1.3, "train/speech/harvard.wav": 2.0,
    "test/speech/p225_001.wav": 1.5, "test/speech/ls_26-495-0000.wav": 1.4,
    "train/music/song_b.flac": 2.5, "train/music/song_a.wav": 3.0,
    "test/music/hymn.ogg": 2.0,
    "train/noise/rain_1.wav": 1.5, "train/noise/rain_2.wav": 1.5, "train/noise/fan.flac": 2.0,
    "test/noise/street.wav": 2.5,
}
MANIFEST = [
    ("file", "class", "split", "license", "source_repo", "group"),
    ("train/noise/rain_1.wav", "noise", "train", "CC0", "someone/rain", "rain_recording"),
    ("train/noise/rain_2.wav", "noise", "train", "CC0", "someone/rain", "rain_recording"),
    ("train/music/song_b.flac", "music", "train", "CC BY 4.0", "someone/songs", ""),
]


def make_folder(root, files=FILES, manifest=MANIFEST):
    for k, (rel, seconds) in enumerate(sorted(files.items())):
        sr = 22050 if rel.endswith("song_a.wav") else SR  # one file at another rate
        write(root, rel, tone(seconds, k, sr), sr)
    if manifest:
        (root / "MANIFEST.tsv").write_text("\n".join("\t".join(r) for r in manifest) + "\n")
    return root


@pytest.fixture
def folder(tmp_path):
    return make_folder(tmp_path / "real")


def test_folder_pools_groups_order_and_manifest(folder):
    pools = folder_pools(folder, "train")
    assert [s.id for s in pools["speech"]] == ["aishell1_spkS0002", "harvard", "librispeech_spk19"]
    assert [s.id for s in pools["music"]] == ["song_a", "song_b"]
    assert [s.id for s in pools["noise"]] == ["fan", "rain_recording"]  # manifest group column
    # a speaker's files are concatenated in file order, in memory (MTASS cuts per speaker)
    spk = pools["speech"][2]
    assert spk.audio is not None and spk.num_samples() == int(1.5 * SR) + int(1.2 * SR)
    np.testing.assert_array_equal(spk.read(0, int(1.5 * SR)), sf.read(str(folder / "train/speech/ls_19-198-0001.wav"),
                                                                      dtype="float32")[0])
    # music/noise: one file read from disk (resampled when drawn), several files concatenated when drawn
    song_a = pools["music"][0]
    assert song_a.path == str(folder / "train/music/song_a.wav") and song_a.num_samples() == 3 * SR
    assert pools["noise"][1].loader is not None and pools["noise"][1].num_samples() == 2 * int(1.5 * SR)
    rep = pools.report
    assert rep.bad == [] and rep.groups["noise"]["rain_recording"] == [
        str(folder / "train/noise/rain_1.wav"), str(folder / "train/noise/rain_2.wav")]
    assert rep.provenance["music"]["song_b"] == {"license": ["CC BY 4.0"], "source_repo": ["someone/songs"]}
    assert rep.summary()["speech"]["groups"] == 3
    test = folder_pools(folder, "test")
    assert [s.id for s in test["speech"]] == ["librispeech_spk26", "vctk_p225"]
    # stable: the same call gives the same pools
    assert pool_fingerprint(folder_pools(folder, "train")) == pool_fingerprint(pools)
    # other rules: an AISHELL speaker as a bare id (the benchmarks' v1 grouping)
    v1 = folder_pools(folder, "train", rules=(GroupRule("a", r"(S\d{4})W\d{4}", r"\1"),))
    assert [s.id for s in v1["speech"]] == ["S0002", "harvard", "ls_19-198-0001", "ls_19-198-0002"]


def test_group_rules():
    g = sources.group_of
    assert g("kaldi-asr-aishell-sample__BAC009S0252W0001", "speech") == ("aishell1_spkS0252", "aishell1")
    assert g("resemblyzer__ls_testother_1688-142285-0001", "speech") == ("librispeech_spk1688", "librispeech")
    assert g("Real-Time-Voice-Cloning__p240_00000", "speech") == ("vctk_p240", "vctk")
    assert g("pyroomacoustics__cmu_arctic_us_aew_a0001", "speech") == ("arctic_aew", "cmu_arctic")
    assert g("pyroomacoustics__arctic_a0010", "speech") == ("pyroomacoustics__arctic_a0010", "file")
    assert g("p225_001", "noise") == ("p225_001", "file")  # rules are for speech file names
    assert g("x", "speech", {"speaker_or_piece": "spk7"}) == ("spk7", "manifest:speaker_or_piece")
    assert g("x", "speech", {"group": "g", "speaker_or_piece": "s"}) == ("g", "manifest:group")


def test_bad_files_are_reported_and_skipped(folder):
    (folder / "train/speech/broken.wav").write_bytes(b"RIFF not really audio")
    write(folder, "train/speech/silent.wav", np.zeros(2 * SR, np.float32))
    write(folder, "train/speech/short.wav", tone(0.5, 1))
    nan = tone(1.5, 2)
    nan[100] = np.nan
    write(folder, "train/speech/nan.wav", nan, subtype="FLOAT")
    pools = folder_pools(folder, "train")
    reasons = {b.path.rsplit("/", 1)[-1]: b.reason for b in pools.report.bad}
    assert set(reasons) == {"broken.wav", "silent.wav", "short.wav", "nan.wav"}
    assert reasons["broken.wav"].startswith("unreadable") and reasons["silent.wav"].startswith("silent")
    assert reasons["short.wav"].startswith("too short (0.50 s") and "NaN" in reasons["nan.wav"]
    assert [s.id for s in pools["speech"]] == ["aishell1_spkS0002", "harvard", "librispeech_spk19"]
    assert "skipped" in str(pools.report) and "broken.wav" in str(pools.report)


def test_shared_group_is_refused(folder, tmp_path):
    write(folder, "test/speech/ls_19-198-0009.wav", tone(1.5, 9))  # speaker 19 is in train
    with pytest.raises(DisjointError) as e:
        check_disjoint(folder)
    msg = str(e.value)
    assert "librispeech_spk19" in msg and "ls_19-198-0009.wav" in msg and "ls_19-198-0001.wav" in msg
    with pytest.raises(DisjointError):
        folder_pools(folder, "train")
    assert [s.id for s in folder_pools(folder, "train", check=False)["speech"]][-1] == "librispeech_spk19"
    # an explicit group column joins files the rules would keep apart, across folders too
    other = make_folder(tmp_path / "other", {"test/noise/drizzle.wav": 1.5},
                        [("file", "group"), ("test/noise/drizzle.wav", "rain_recording")])
    (folder / "test/speech/ls_19-198-0009.wav").unlink()
    assert check_disjoint(folder) == {"train": 7, "test": 4}  # groups: 3+2+2, 2+1+1
    with pytest.raises(DisjointError, match="rain_recording"):
        check_disjoint([folder, other])


def test_dev_held_out_from_train_groups(folder):
    pools = folder_pools(folder, "dev", dev_from_train=0.5)
    train = folder_pools(folder, "train", dev_from_train=0.5)
    for t in TRACKS:
        dev_ids, train_ids = {s.id for s in pools[t]}, {s.id for s in train[t]}
        assert dev_ids and train_ids and not dev_ids & train_ids
    assert folder_pools(folder, "dev")["speech"] == []  # without it, no dev split


def arrays(prefix: str, n: int, seed: int) -> dict[str, list[Source]]:
    return {t: [Source(f"{prefix}_{t}{k}", audio=tone(1.2, seed + 10 * j + k)) for k in range(n)]
            for j, t in enumerate(TRACKS)}


def test_weighted_kinds():
    real, syn = arrays("real", 3, 0), arrays("syn", 4, 100)
    # weights 1/0: exactly the single-kind mixtures
    only = mixed_pools({"real": real, "synthetic": syn}, {"real": 1.0, "synthetic": 0.0})
    assert pool_fingerprint(only) == pool_fingerprint(real)
    for i in range(4):
        a, b = make_mixture(i, only, 5, "train", CFG), make_mixture(i, real, 5, "train", CFG)
        assert a.row == b.row and np.array_equal(a.mixture, b.mixture)
    # a WeightedPool with one kind draws as the plain list
    one = {t: WeightedPool({"real": real[t]}, {"real": 1}) for t in TRACKS}
    assert make_mixture(3, one, 5, "test", CFG).row == make_mixture(3, real, 5, "test", CFG).row
    # 0.5/0.5: both kinds appear in every track; same seed -> same mixtures
    half = mixed_pools({"real": real, "synthetic": syn}, {"real": 0.5, "synthetic": 0.5})
    assert all(isinstance(half[t], WeightedPool) for t in TRACKS)
    rows = [make_mixture(i, half, 5, "train", CFG).row for i in range(40)]
    for t in TRACKS:
        kinds = [half[t].kind_of(r[f"{t}_id"]) for r in rows]
        assert 8 <= kinds.count("real") <= 32, kinds
    again = [make_mixture(i, half, 5, "train", CFG).row for i in range(40)]
    assert again == rows
    assert pool_fingerprint(half) != pool_fingerprint(mixed_pools({"real": real, "synthetic": syn},
                                                                  {"real": 0.6, "synthetic": 0.4}))
    # per-track weights; a kind with no items for a track gives its weight to the others
    per = mixed_pools({"real": {**real, "music": []}, "synthetic": syn},
                      {"real": {"speech": 1, "music": 1, "noise": 0}, "synthetic": {"music": 1, "noise": 1}})
    assert [s.id for s in per["speech"]] == [s.id for s in real["speech"]]
    assert [s.id for s in per["music"]] == [s.id for s in syn["music"]] and per["noise"][0].id == "syn_noise0"
    with pytest.raises(ValueError, match="no music sources"):
        mixed_pools({"real": {**real, "music": []}}, None)
    with pytest.raises(ValueError, match="unknown kinds"):
        mixed_pools({"real": real}, {"realz": 1})


def synthetic_provider(split, n, segment_seconds, seed):
    return arrays(f"syn_{split}", 3, 50 + len(split))


def mtimes(root):
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*.wav")}


def test_build_real_set_writes_reads_and_resumes(folder, tmp_path):
    out = tmp_path / "mixed"
    kw = dict(sources={"real": [folder], "synthetic": synthetic_provider}, weights={"real": 0.5, "synthetic": 0.5},
              n_mixtures=(6, 2, 3), seed=3, segment_seconds=1.0, workers=0, progress=False, dev_from_train=0.3)
    marker = build_real_set(out, **kw)
    for split, n in (("train", 6), ("dev", 2), ("test", 3)):
        ds = MTASSDataset(out, split)
        mix, tgt = ds[0]
        assert len(ds) == n and mix.shape == (SR,) and tgt.shape == (3, SR)
        np.testing.assert_allclose(mix.numpy(), tgt.numpy().sum(0), atol=1e-6)
        rows = read_metadata(out, split)
        assert all(r[f"{t}_kind"] in ("real", "synthetic") for r in rows for t in TRACKS)
        with open(out / split / "sources.csv", newline="") as f:
            assert {r["kind"] for r in csv.DictReader(f)} == {"real", "synthetic"}
    saved = json.loads((out / sources.MARKER).read_text())
    assert saved == json.loads(json.dumps(marker))
    assert saved["config"]["sources"]["real"] == {"type": "folders", "roots": [str(folder.resolve())]}
    assert saved["config"]["sources"]["synthetic"]["type"] == "callable"
    assert saved["config"]["weights"]["music"] == {"real": 0.5, "synthetic": 0.5} and saved["config"]["seed"] == 3
    assert saved["bad_files"] == [] and saved["splits"]["train"]["weights"]["speech"] == {"real": 0.5, "synthetic": 0.5}
    assert sum(saved["splits"]["train"]["stems_per_kind"]["noise"].values()) == 6

    # an interrupted build: one mixture and the marker missing -> only that mixture is written again
    before = mtimes(out)
    lost = out / "train" / "mixture" / "000004.wav"
    audio = sf.read(str(lost), dtype="float32")[0]
    lost.unlink()
    (out / sources.MARKER).unlink()
    build_real_set(out, **kw)
    after = mtimes(out)
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {f"train/{t}/000004.wav" for t in ("mixture",) + TRACKS}
    np.testing.assert_array_equal(sf.read(str(lost), dtype="float32")[0], audio)
    assert (out / sources.MARKER).exists()
    # complete: nothing to do; other settings into the same root are refused
    build_real_set(out, **kw)
    assert mtimes(out) == after
    with pytest.raises(ValueError, match="other settings"):
        build_real_set(out, **{**kw, "weights": {"real": 0.7, "synthetic": 0.3}})


def test_build_records_bad_files_and_refuses_leaks(folder, tmp_path):
    write(folder, "test/noise/silent.wav", np.zeros(SR * 2, np.float32))
    marker = build_real_set(tmp_path / "a", {"real": str(folder)}, n_mixtures={"train": 2, "test": 1},
                            segment_seconds=1.0, workers=0, progress=False)
    assert [(b["split"], b["kind"], b["path"].rsplit("/", 1)[-1]) for b in marker["bad_files"]] == [
        ("test", "real", "silent.wav")]
    assert not (tmp_path / "a" / "dev").exists()
    assert {r["speech_kind"] for r in read_metadata(tmp_path / "a", "train")} == {"real"}
    write(folder, "test/music/song_a.flac", tone(2, 3))  # piece song_a already in train
    with pytest.raises(DisjointError, match="song_a"):
        build_real_set(tmp_path / "b", {"real": str(folder)}, n_mixtures=(2, 0, 1), segment_seconds=1.0,
                       workers=0, progress=False)
    assert not (tmp_path / "b").exists()


def test_cli_mix(folder, tmp_path, capsys):
    from mtass_lite.__main__ import main

    out = tmp_path / "cli"
    assert main(["mix", "--real", str(folder), "--out", str(out), "--mixtures", "3", "1", "1",
                 "--segment-seconds", "1", "--workers", "2", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "train: 3 mixtures" in printed and "ready at" in printed
    assert len(MTASSDataset(out, "dev")) == 1
    assert json.loads((out / sources.MARKER).read_text())["config"]["weights"]["speech"] == {"real": 1.0}
    assert main(["mix", "--real", str(folder), "--check"]) == 0
    checked = capsys.readouterr().out  # --dev-from-train 0.1: one train group per track lent to dev
    assert "train: speech 2 groups / 3 files" in checked and "dev: speech 1 groups" in checked
    assert main(["mix", "--real", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x")]) == 1
    assert "no source folder" in capsys.readouterr().err


def test_synthetic_kind_renders_mtass_tiny_pools(folder, tmp_path):
    out = tmp_path / "syn"
    marker = build_real_set(out, {"real": folder, "synthetic": sources.SYNTHETIC}, {"real": 0.5, "synthetic": 0.5},
                            (3, 1, 1), segment_seconds=1.0, workers=1, progress=False)
    # the engine is in the config, so a set mixed with eSpeak speech (before the switch) is refused, not reused
    assert marker["config"]["sources"]["synthetic"] == {"type": "synthetic", "generator": "mtass_tiny",
                                                        "speech": "piper"}
    with open(out / "train" / "sources.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == "synthetic"]
    assert {r["track"] for r in rows} == set(TRACKS) and all(r["description"] for r in rows)
    assert all(r["id"].startswith("train_") for r in rows)
    assert len(MTASSDataset(out, "test")) == 1


def test_real_sources_plan_names_each_models_file_and_repeats_its_settings(folder, tmp_path, capsys):
    """benchmarks/real_sources.py --dry-run: one results file per model (real_test for the reference,
    real_test_<model> otherwise), and the printed commands carry the plan's own non-default settings."""
    bench = load_script("benchmarks/real_sources.py")
    common = ["--folders", str(folder), "--data", str(tmp_path / "data"), "--runs", str(tmp_path / "runs"), "--dry-run"]
    assert bench.main(common) == 0
    out = capsys.readouterr().out
    assert "writes: results/real_test.json" in out and "--model" not in out and "--seeds" not in out
    assert bench.main(common + ["--model", "d3net", "--seeds", "0", "1", "--steps", "700"]) == 0
    out = capsys.readouterr().out
    assert "writes: results/real_test_d3net.json" in out and f"{tmp_path}/runs/real/d3net: new" in out
    assert ("--kinds real+synthetic --model d3net --steps 700 --seeds 0 1 > "
            "runs/logs/real_sources_real_test_d3net_b.log") in out
