#!/usr/bin/env python
"""Build an MTASS dataset from real corpora: fetch, cut into 10 s segments, split, mix.

Examples:
  python data_scripts/prepare_mtass.py --recipe open-mini --n-train 200 --n-dev 20 --n-test 20
  python data_scripts/prepare_mtass.py --recipe open --workers 8
  python data_scripts/prepare_mtass.py --recipe paper --workers 16
  python data_scripts/prepare_mtass.py --recipe paper --corpus-dir didispeech=/data/DiDi_Speech_WAV_16k
  python data_scripts/prepare_mtass.py --recipe paper --corpus-dir aishell1=/data/aishell
      (a copy you already have; likewise dsd100=/data/DSD100, dns_noise=/data/DNS/datasets/noise)
  MTASS_MODE=full python -m mtass_lite train ...   # reads $MTASS_DATA_ROOT/mtass (the paper recipe's default --out)

Recipes (python data_scripts/download.py --list shows sizes and licences):
  paper      AISHELL-1 (+ DiDiSpeech if given) speech, DSD100 mixtures (left channel, 44.1 -> 16 kHz)
             music, DNS-Challenge noise -- the MTASS paper's corpora
  open       LibriSpeech dev-clean + test-clean speech, MUSAN music, MUSAN noise
  open-mini  LibriSpeech dev-clean, DSD100 4-song subset, ESC-50: a quick real-data smoke test

Stages (each resumes after an interruption; rerun the same command):
  download   fetch + verify + unpack into $MTASS_CACHE (skipped for --corpus-dir corpora)
  segments   split sources (speakers / songs / recordings) into train/dev/test by --split-fractions
             (AISHELL-1 keeps its own speaker split), concatenate per speaker / song (noise as one
             stream), cut into --segment-seconds pieces, resample to 16 kHz -> <out>/_sources/
             with segments.csv (where each piece came from) and splits.csv (which split each source went to)
  mix        the MTASS recipe (mtass_lite.data.mixing): one speech + one music + one noise segment,
             music and noise at U(-5, 5) dB SNR w.r.t. the speech -> <out>/<split>/{mixture,speech,
             music,noise}/<id>.wav + metadata.csv (float32 WAV: ~2.6 MB per mixture, ~56 GB for 22,000)

Output: --out (default $MTASS_DATA_ROOT/mtass for --recipe paper, $MTASS_DATA_ROOT/mtass_<recipe>
otherwise; MTASS_DATA_ROOT defaults to <repo>/data) with recipe.json recording corpora, checksums,
licences, seed and counts. Mixture i of a split is a pure function of (seed, split, i, segments).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mtass_lite.data.corpora import RECIPES, get_corpus, with_base_url  # noqa: E402
from mtass_lite.data.download import DownloadError  # noqa: E402
from mtass_lite.data.prepare import (DEFAULT_FRACTIONS, DEFAULT_MIXTURES, PrepareError,  # noqa: E402
                                     build_recipe, default_out_root)


def _corpus_dir(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {text!r}")
    return name, path


def _fractions(text: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(v) for v in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected three numbers like 0.8,0.1,0.1, got {text!r}")
    return parts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n", 2)[2],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipe", choices=list(RECIPES), required=True, help="which corpora (see below)")
    p.add_argument("--out", type=Path, default=None,
                   help="dataset root (default: $MTASS_DATA_ROOT/mtass for paper, .../mtass_<recipe> otherwise)")
    p.add_argument("--cache", type=Path, default=None,
                   help="download cache (default: $MTASS_CACHE or ~/.cache/mtass_lite)")
    p.add_argument("--corpus-dir", type=_corpus_dir, action="append", default=[], metavar="NAME=PATH",
                   help="use a copy you already have instead of downloading (repeatable); "
                        "also how DiDiSpeech joins the paper recipe")
    p.add_argument("--base-url", default=None, help="fetch every archive from <BASE_URL>/<file name> (a mirror)")
    for split in ("train", "dev", "test"):
        p.add_argument(f"--n-{split}", type=int, default=DEFAULT_MIXTURES[split],
                       help=f"{split} mixtures (default {DEFAULT_MIXTURES[split]:,}, as in MTASS)")
    p.add_argument("--seed", type=int, default=0, help="seed of the source split and of every mixture (default 0)")
    p.add_argument("--segment-seconds", type=float, default=10.0, help="segment length (default 10, as in MTASS)")
    p.add_argument("--split-fractions", type=_fractions, default=DEFAULT_FRACTIONS, metavar="TRAIN,DEV,TEST",
                   help="share of *sources* (speakers, songs, recordings) per split where the corpus has "
                        "no split of its own (default 0.8,0.1,0.1)")
    p.add_argument("--min-rms-db", type=float, default=-60.0,
                   help="drop segments quieter than this (dBFS; default -60)")
    p.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1),
                   help="parallel processes for cutting and mixing (default: CPUs - 1)")
    p.add_argument("--stage", choices=("all", "download", "segments", "mix"), default="all",
                   help="download: fetch only; segments: fetch if needed, then cut; mix: mix the segments "
                        "already cut (default: all; each resumes)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    stages = {"all": ("download", "segments", "mix"), "download": ("download",),
              "segments": ("download", "segments"), "mix": ("mix",)}[args.stage]
    corpus_dirs = dict(args.corpus_dir)
    overrides = {}
    if args.base_url:
        for name in {n for r in RECIPES.values() for n in (*r.speech, *r.music, *r.noise)}:
            if get_corpus(name).downloadable:
                overrides[name] = with_base_url(get_corpus(name), args.base_url)
    out = args.out or default_out_root(args.recipe)
    print(f"recipe {args.recipe} -> {out}", flush=True)
    try:
        root = build_recipe(
            args.recipe, out, cache=args.cache, corpus_dirs=corpus_dirs, overrides=overrides,
            n_mixtures={"train": args.n_train, "dev": args.n_dev, "test": args.n_test}, seed=args.seed,
            segment_seconds=args.segment_seconds, fractions=args.split_fractions, workers=args.workers,
            progress=not args.quiet, min_rms_db=args.min_rms_db, stages=stages)
    except (PrepareError, DownloadError, FileNotFoundError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"done: {root}  (recipe.json, _sources/segments.csv, <split>/metadata.csv)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
