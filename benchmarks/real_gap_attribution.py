"""Which real source breaks the models: speech, music or noise?

The MTASS-tiny test set and the real-recording test set of benchmarks/real_generalisation.py are
mixed with the same recipe seed, so mixture ``i`` of both has the same SNR draws. This benchmark
builds the eight test sets of a 2 x 2 x 2 design: speech, music and noise each taken from the
synthetic or the real mixture ``i``, music and noise rescaled to mixture ``i``'s recipe SNRs relative
to the chosen speech (:func:`mtass_lite.data.mixing.mix_at_snr`), the recipe's peak guard applied.
Every model is scored on all eight; the *effect of real X* is the paired (same mixtures) change of
SI-SDRi when X alone is swapped from synthetic to real, averaged over the four settings of the other
two sources. Writes results/real_gap_attribution.json.

    python benchmarks/real_gap_attribution.py [--checkpoints NAME=PATH ...]

Default checkpoints: the shipped weights (mtass_lite/pretrained) and the equal-step runs of
benchmarks/real_gap_augment.py that exist under runs/aug.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

from mtass_lite import REPO_ROOT, TRACKS, data_root
from mtass_lite.audio import save_audio
from mtass_lite.data.datasets import MTASSDataset, read_metadata
from mtass_lite.data.mixing import mix_at_snr, peak_guard, write_csv_atomic
from mtass_lite.evaluate import evaluate_model, headline, per_item, pooled_paired_mean_ci
from mtass_lite.results import update_json
from mtass_lite.separate import resolve_model
from real_generalisation import test_sets

SOURCES = ("synthetic", "real")


def set_label(choice: tuple[str, str, str]) -> str:
    """``("real", "synthetic", "synthetic") -> "speech:real music:synthetic noise:synthetic"``."""
    return " ".join(f"{t}:{c}" for t, c in zip(TRACKS, choice))


def build_hybrid(tiny: Path, real: Path, choice: tuple[str, str, str], out: Path) -> Path:
    """Write the test split whose track ``k`` comes from ``tiny`` or ``real`` as ``choice[k]`` says."""
    split = out / "test"
    if (split / "metadata.csv").exists():
        return out
    roots = {"synthetic": MTASSDataset(tiny, "test"), "real": MTASSDataset(real, "test")}
    meta = read_metadata(tiny, "test")
    assert [r["snr_music"] for r in meta] == [r["snr_music"] for r in read_metadata(real, "test")], \
        "the two test sets were not mixed with the same recipe draws"
    rows = []
    for i, row in enumerate(meta):
        stems = [roots[c][i][1][k].numpy() for k, c in enumerate(choice)]
        n = min(s.shape[-1] for s in stems)
        speech = stems[0][:n]
        music, _ = mix_at_snr(speech, stems[1][:n], float(row["snr_music"]))
        noise, _ = mix_at_snr(speech, stems[2][:n], float(row["snr_noise"]))
        mixture, tracks, scale = peak_guard(np.stack([speech, music, noise]))
        for name, x in (("mixture", mixture), *zip(TRACKS, tracks)):
            save_audio(split / name / f"{row['id']}.wav", x)
        rows.append({"id": row["id"], "snr_music": row["snr_music"], "snr_noise": row["snr_noise"],
                     **{f"{t}_from": c for t, c in zip(TRACKS, choice)}, "clip_scale": round(scale, 6)})
    write_csv_atomic(split / "metadata.csv", rows, list(rows[0]))
    return out


def default_checkpoints() -> dict[str, Path]:
    from mtass_lite.separate import pretrained_path

    found = {f"{m} lite, shipped weights": pretrained_path(m) for m in ("complex_mtassnet", "conv_tasnet")}
    for kind in ("none", "remix"):
        p = REPO_ROOT / "runs" / "aug" / kind / "complex_mtassnet" / "best.pt"
        found[f"complex_mtassnet lite, 600 steps, augment {kind}"] = p
    return {k: v for k, v in found.items() if v.exists()}


def effects(per_set: dict[str, dict[str, dict[str, dict[str, float]]]]) -> dict:
    """Paired effect of swapping each source from synthetic to real.

    ``per_set[label][metric][track]`` is ``{mixture id: value}`` (``track`` may be ``"avg"``). The effect
    of source ``k`` on ``(metric, track)`` is, per mixture, the mean over the 4 settings of the other
    two sources of (real ``k`` - synthetic ``k``); returned as ``{source: {metric: {track: mean_ci}}}``.
    """
    out = {}
    for k, source in enumerate(TRACKS):
        pairs = []
        for choice in itertools.product(SOURCES, repeat=3):
            if choice[k] == "synthetic":
                real_choice = tuple("real" if j == k else c for j, c in enumerate(choice))
                pairs.append((per_set[set_label(choice)], per_set[set_label(real_choice)]))
        out[source] = {metric: {track: pooled_paired_mean_ci((a[metric][track], b[metric][track]) for a, b in pairs)
                                for track in (*TRACKS, "avg")}
                       for metric in ("sdri", "si_sdri")}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--realmini", default=str(REPO_ROOT.parent / "shared" / "data" / "realmini"))
    ap.add_argument("--checkpoints", nargs="*", default=None, help="NAME=PATH pairs (default: see above)")
    ap.add_argument("--out", default="real_gap_attribution")
    a = ap.parse_args(argv)

    sets = test_sets(Path(a.realmini))
    if sets is None:
        return 0
    tiny, real = sets
    ckpts = (dict(kv.split("=", 1) for kv in a.checkpoints) if a.checkpoints else default_checkpoints())
    roots = {set_label(c): build_hybrid(tiny, real, c, data_root() / "gap_attribution" / "_".join(x[0] for x in c))
             for c in itertools.product(SOURCES, repeat=3)}
    for name, path in ckpts.items():
        model = resolve_model(checkpoint=path, device="cpu")
        per_set, summary = {}, {}
        for label, root in roots.items():
            res = evaluate_model(model, root, "test", progress=False)
            summary[label] = headline(res["summary"])
            per_set[label] = {m: {t: per_item(res, m, t) for t in (*TRACKS, "avg")} for m in ("sdri", "si_sdri")}
        path = Path(path).resolve()
        row = {"checkpoint": str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path),
               "sets": summary, "effect_of_real": effects(per_set)}

        def put(out, name=name, row=row):
            out["design"] = ("2x2x2: each of speech / music / noise from the synthetic (MTASS-tiny test) or the real "
                             "(realmini test) mixture i, same recipe SNRs; effect = paired mean change over the "
                             "4 settings of the other two tracks")
            out.setdefault("models", {})[name] = row

        update_json(a.out, put)
        e = row["effect_of_real"]
        for src in TRACKS:
            d = e[src]["si_sdri"]
            print(f"{name}: real {src:6s} changes SI-SDRi of " + "  ".join(
                f"{t} {d[t]['mean']:+.2f}±{d[t]['ci95']:.2f}" for t in (*TRACKS, "avg")), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
