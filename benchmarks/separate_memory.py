"""Does `separate` run long files in bounded memory, and do its stems add up to the input?

Builds 44.1 kHz stereo test files (default 0.5 and 3 minutes) from MTASS-tiny test mixtures
(concatenated, resampled 16 -> 44.1 kHz; left = 1.2 x mixture, right = 0.8 x mixture, so the
downmix is the mixture), runs ``python -m mtass_lite separate`` on each in a subprocess and reports:

- peak resident memory of that subprocess (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` in a
  small launcher), next to a subprocess that only imports the library and loads the model and one
  that also separates a single 10-s chunk: bounded memory means the peak does not grow with the
  file length (beyond the 16 kHz mono input it holds: 3.8 MB per minute);
- the SNR of (speech + music + noise stems) against the downmixed, resampled input. A model with a
  free output (time-domain or the released ``ri_scaling`` mask) does not make the stems sum to the
  input exactly; this measures by how much;
- SDRi of each stem against the known references (the concatenated MTASS-tiny targets), plain SNR form.

The model: ``--checkpoint PATH`` if given, else a lite Complex-MTASSNet trained here for a few minutes
on MTASS-tiny (``--train-minutes``, resumable in ``runs/bench_separate_memory``). Such a briefly
trained model separates poorly; its numbers say so. Writes ``results/separate_memory.json``.

    python benchmarks/separate_memory.py [--checkpoint runs/x/best.pt] [--minutes 0.5 3]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from mtass_lite import REPO_ROOT, SAMPLE_RATE, TRACKS, results_dir
from mtass_lite.audio import load_audio, resample
from mtass_lite.data.datasets import MTASSDataset
from mtass_lite.evaluate import write_results
from mtass_lite.metrics import sdr

FILE_RATE = 44_100


def long_example(root: Path, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated test mixtures and their targets at 16 kHz: ``[T]``, ``[3, T]``."""
    ds = MTASSDataset(root, "test")
    need = int(seconds * SAMPLE_RATE)
    mixes, tgts, n, i = [], [], 0, 0
    while n < need:
        m, t = ds[i % len(ds)]
        mixes.append(m.numpy())
        tgts.append(t.numpy())
        n += m.shape[0]
        i += 1
    return np.concatenate(mixes)[:need], np.concatenate(tgts, axis=1)[:, :need]


def write_stereo_44k(path: Path, mixture16k: np.ndarray) -> None:
    x = resample(mixture16k, SAMPLE_RATE, FILE_RATE)
    sf.write(path, np.stack([1.2 * x, 0.8 * x], axis=1), FILE_RATE, subtype="PCM_16")


# ru_maxrss of a child counts the memory of the process it was forked from (Linux carries the
# pre-exec high-water mark over exec), and this process holds torch and a model. So the command runs
# under a fresh, small launcher whose only child it is; the launcher reports
# resource.getrusage(RUSAGE_CHILDREN).ru_maxrss (KiB on Linux).
_LAUNCHER = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
             "print('MAXRSS_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")


def run_with_rusage(cmd: list[str]) -> tuple[float, float, str]:
    """Run ``cmd``; return (its peak RSS in MB, wall seconds, its stderr)."""
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", _LAUNCHER, *map(str, cmd)], capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{p.stderr[-3000:]}")
    kib = int(p.stdout.rsplit("MAXRSS_KIB", 1)[1].split()[0])
    return kib / 1024, time.perf_counter() - t0, p.stderr


def quick_checkpoint(root: Path, minutes: float) -> Path:
    """A lite Complex-MTASSNet trained for ``minutes`` on MTASS-tiny (resumes a previous run)."""
    from mtass_lite.train import Trainer, load_config

    cfg = load_config("complex_mtassnet", "fast", max_minutes=minutes, max_steps=100_000, segment=2.0,
                      batch_size=4, valid_every=25, valid_items=5,
                      out_dir=str(REPO_ROOT / "runs" / "bench_separate_memory"))
    torch.manual_seed(cfg.seed)
    res = Trainer("complex_mtassnet", root, cfg).fit()
    return Path(res["best_checkpoint"])


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=None, help="model to use (default: train a quick one)")
    p.add_argument("--train-minutes", type=float, default=6.0, help="budget of the quick training")
    p.add_argument("--minutes", type=float, nargs="+", default=[0.5, 3.0], help="test file lengths")
    p.add_argument("--chunk-seconds", type=float, default=10.0)
    p.add_argument("--out", default=str(results_dir() / "separate_memory.json"))
    args = p.parse_args(argv)

    from mtass_lite.data.tiny import ensure_tiny

    root = ensure_tiny()
    ckpt = Path(args.checkpoint) if args.checkpoint else quick_checkpoint(root, args.train_minutes)
    env_py = [sys.executable]
    ck = torch.load(ckpt, map_location="cpu", weights_only=True)
    load = f"from mtass_lite.separate import resolve_model; m = resolve_model(checkpoint={str(ckpt)!r}, device='cpu')"
    baseline_rss, _, _ = run_with_rusage(env_py + ["-c", load])
    one_chunk_rss, _, _ = run_with_rusage(env_py + ["-c", load + (
        "; import numpy as np; from mtass_lite.separate import separate_array; "
        f"separate_array(m, np.zeros(int({args.chunk_seconds} * 16000), np.float32))")])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for minutes in args.minutes:
            mix, tgt = long_example(root, 60 * minutes)
            f = tmp / f"stereo_{minutes:g}min.wav"
            write_stereo_44k(f, mix)
            cmd = env_py + ["-m", "mtass_lite", "separate", str(f), "--checkpoint", str(ckpt), "--out",
                            str(tmp / "sep"), "--chunk-seconds", str(args.chunk_seconds), "--device", "cpu"]
            rss, wall, err = run_with_rusage(cmd)
            stems = np.stack([sf.read(tmp / "sep" / f.stem / f"{t}.wav", dtype="float32")[0] for t in TRACKS])
            # What separate had to work with: the file downmixed and resampled (the library's reader).
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                x16 = load_audio(f)
            n = min(x16.shape[0], stems.shape[1], tgt.shape[1])
            sum_snr = float(sdr(stems.sum(0)[:n].astype(np.float64), x16[:n].astype(np.float64)))
            sdri = sdr(stems[:, :n].astype(np.float64), tgt[:, :n].astype(np.float64)) - \
                sdr(np.broadcast_to(x16[:n], (3, n)).astype(np.float64), tgt[:, :n].astype(np.float64))
            row = {
                "file_minutes": minutes,
                "file": f"{FILE_RATE} Hz stereo PCM_16, {f.stat().st_size / 1e6:.1f} MB",
                "peak_rss_mb": round(rss, 1),
                "wall_seconds": round(wall, 1),
                "realtime_factor": round(wall / (60 * minutes), 3),
                "stems_samples": int(stems.shape[1]),
                "stems_rate": sf.info(tmp / "sep" / f.stem / "speech.wav").samplerate,
                "input_samples_16k": int(x16.shape[0]),
                "sum_vs_input_snr_db": round(sum_snr, 2),
                "sdri_db": {t: round(float(v), 2) for t, v in zip(TRACKS, sdri)},
                "notes": [line for line in err.splitlines() if "resampled" in line or "downmixed" in line],
            }
            rows.append(row)
            print(json.dumps(row))
    result = {
        "what": "peak RSS of `python -m mtass_lite separate` on 44.1 kHz stereo files of growing length, "
                "and the SNR of the stems' sum against the downmixed 16 kHz input",
        "checkpoint": str(ckpt),
        "model": ck.get("model_name"),
        "model_step": ck.get("step"),
        "model_dev_sdri_db": (ck.get("valid") or {}).get("valid_sdri"),
        "chunk_seconds": args.chunk_seconds,
        "rss_mb_import_and_load_model": round(baseline_rss, 1),
        "rss_mb_one_chunk": round(one_chunk_rss, 1),
        "runs": rows,
        "machine": f"{os.cpu_count()} CPU cores, torch {torch.__version__}",
    }
    print(f"wrote {write_results(result, args.out)}")
    return result


if __name__ == "__main__":
    main()
