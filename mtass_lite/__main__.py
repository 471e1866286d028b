"""One command line for the course: ``python -m mtass_lite <command> --help``.

Commands::

    make-data   build (or check) the offline MTASS-tiny dataset
    train       train a model from a preset (fast | full) and/or a YAML config; resumes a run in --out
    evaluate    score a checkpoint on a split: SDRi, SI-SDRi (+ BSS-eval SDR, PESQ-wb, STOI with --extra)
    separate    split audio files into speech / music / noise stems
    profile     parameters, MAC per second and CPU real-time factor of the models
    reproduce   train and evaluate every model with the same budget: the SDRi comparison
    mix         mix a dataset from folders of real recordings, alone or with synthetic sources
    fetch-real  download, verify and convert a small real set (realmini, realmore) from GitHub

Multi-GPU training goes through torchrun, e.g. ``torchrun --nproc_per_node 4 -m mtass_lite train ...``.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from . import get_mode

EPILOG = """examples:
  python -m mtass_lite make-data
  python -m mtass_lite train --model complex_mtassnet --preset fast --out runs/complex_mtassnet
  python -m mtass_lite evaluate --checkpoint runs/complex_mtassnet/best.pt --out results/eval_cm.json
  python -m mtass_lite separate song.wav --checkpoint runs/complex_mtassnet/best.pt --out separated
  python -m mtass_lite profile --sizes lite
  python -m mtass_lite reproduce --mode cpu
  python -m mtass_lite fetch-real realmini --out data/realmini
"""


class _Formatter(argparse.HelpFormatter):
    """Shows a flag's default when it has a meaningful one and the help text does not say it already."""

    def _get_help_string(self, action):
        h = action.help or ""
        if action.default not in (None, False, [], argparse.SUPPRESS) and "default" not in h:
            h += " (default: %(default)s)"
        return h


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors whose message is the whole story for a user (printed without a traceback)."""
    from .audio import AudioError
    from .train import NonFiniteLossError, ResumeError

    return AudioError, FileNotFoundError, ResumeError, NonFiniteLossError


# --------------------------------------------------------------------------------------------------
def _add_make_data(sub) -> None:
    p = sub.add_parser("make-data", formatter_class=_Formatter,
                       help="build (or check) the offline MTASS-tiny dataset",
                       description="Generate MTASS-tiny (English speech from a Piper neural voice, Mandarin "
                                   "from eSpeak NG, music from a General-MIDI "
                                   "SoundFont, procedural noise; a stand-in for the paper's data, built "
                                   "offline in minutes). An existing complete build is checked and kept. "
                                   "For the real MTASS corpora see data_scripts/prepare_mtass.py.")
    p.add_argument("--root", default=None, help="where to build (default: <data root>/mtass_tiny)")
    p.add_argument("--seed", type=int, default=None, help="build seed (default 0)")
    p.add_argument("--n-train", type=int, default=None, help="train mixtures (default 400)")
    p.add_argument("--n-dev", type=int, default=None, help="dev mixtures (default 50)")
    p.add_argument("--n-test", type=int, default=None, help="test mixtures (default 50)")
    p.add_argument("--segment-seconds", type=float, default=None, help="mixture length (default 6)")
    p.add_argument("--workers", type=int, default=2, help="worker processes")
    p.add_argument("--force", action="store_true", help="delete an existing build at --root and rebuild")
    p.set_defaults(func=cmd_make_data)


def cmd_make_data(args) -> int:
    from .data.tiny import build_tiny, default_tiny_root, ensure_tiny

    settings = {k: v for k, v in {"seed": args.seed, "n_train": args.n_train, "n_dev": args.n_dev,
                                   "n_test": args.n_test, "segment_seconds": args.segment_seconds}.items()
                if v is not None}
    if args.force:
        build_tiny(args.root, workers=args.workers, force=True, **settings)
        root = Path(args.root) if args.root else default_tiny_root()
    else:
        root = ensure_tiny(args.root, workers=args.workers, **settings)
    print(f"MTASS-tiny ready at {root}")
    return 0


# --------------------------------------------------------------------------------------------------
def _add_train(sub) -> None:
    p = sub.add_parser("train", formatter_class=_Formatter, help="train a model (resumes a run in --out)",
                       description="Train a model with mtass_lite.train.Trainer. Settings come from the "
                                   "preset mtass_lite/configs/<model>_<preset>.yaml, then --config, then "
                                   "the flags below. If --out already holds a checkpoint with the same "
                                   "settings, training continues from it (same data order, optimizer "
                                   "state and RNG). Ctrl-C stops after the current step and saves.",
                       epilog="Under torchrun (torchrun --nproc_per_node N -m mtass_lite train ...) each "
                              "process trains on its share of every batch; only rank 0 writes.")
    p.add_argument("--model", default=None,
                   help="registry name (gcrn, conv_tasnet, demucs, d3net, complex_mtassnet; extra: bsrnn) "
                        "or 'package.module:Class' for your own model")
    p.add_argument("--preset", choices=("fast", "full"), default=None,
                   help="fast: lite model on MTASS-tiny, minutes on a CPU; full: paper size on MTASS, GPU "
                        "(default: $MTASS_MODE, else fast)")
    p.add_argument("--config", default=None, help="a YAML file of TrainConfig settings applied on top")
    p.add_argument("--out", default=None,
                   help="run directory (default: the --config's out_dir if it names one, else runs/<model>_<preset>)")
    p.add_argument("--data", default=None,
                   help="dataset root (default: MTASS-tiny in fast mode, built if missing; "
                        "<data root>/mtass in full mode)")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many optimizer steps")
    p.add_argument("--max-minutes", type=float, default=None, help="stop this call after this many minutes")
    p.add_argument("--seed", type=int, default=None, help="seed of initialisation, data order and crops")
    p.add_argument("--device", default=None, help="auto, cpu, cuda, cuda:1 ...")
    p.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                   help="any other TrainConfig setting, e.g. --set batch_size=8 lr=3e-4 (YAML values)")
    p.add_argument("--restart", action="store_true", help="start over even if --out holds a checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)


def _parse_sets(pairs: list[str]) -> dict:
    import yaml

    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise SystemExit(f"error: --set expects KEY=VALUE, got {pair!r}")
        k, v = pair.split("=", 1)
        out[k.strip()] = yaml.safe_load(v)
    return out


def default_data_root(preset: str) -> Path:
    """MTASS-tiny in fast mode (built when missing; not under torchrun), ``<data root>/mtass`` in full."""
    if preset == "full":
        from . import data_root

        return data_root() / "mtass"
    from .data.tiny import default_tiny_root, ensure_tiny, is_complete

    if int(os.environ.get("WORLD_SIZE", 1)) > 1 and not is_complete(default_tiny_root()):
        raise FileNotFoundError(f"MTASS-tiny is not built at {default_tiny_root()}; run "
                                f"`python -m mtass_lite make-data` once before launching torchrun")
    return ensure_tiny()


def cmd_train(args) -> int:
    import torch

    from .train import TrainConfig, Trainer, load_config

    preset = args.preset or get_mode()
    overrides = _parse_sets(args.set)
    overrides.update({k: v for k, v in {"max_steps": args.max_steps, "max_minutes": args.max_minutes,
                                        "seed": args.seed, "device": args.device}.items() if v is not None})
    if args.no_progress:
        overrides["progress"] = False
    model = args.model
    if model is None and args.config is None:
        raise SystemExit("error: train needs --model (or a --config that names a model)")
    try:
        cfg = load_config(model, preset if model else None, args.config, **overrides)
    except ValueError as e:
        raise SystemExit(f"error: {e}")
    if cfg.model is None:
        raise SystemExit("error: no model given (--model or `model:` in --config)")
    default_out = str(Path("runs") / f"{cfg.model.replace(':', '_').replace('.', '_')}_{preset}")
    # --out, else a run folder named by --config (a recipe that is continued across sessions), else the default
    cfg.out_dir = args.out or (cfg.out_dir if args.config and cfg.out_dir != TrainConfig.out_dir else default_out)
    data = Path(args.data) if args.data else Path(cfg.data_root) if cfg.data_root else default_data_root(preset)
    torch.manual_seed(cfg.seed)  # the initial weights are part of the seeded run
    trainer = Trainer(cfg.model, data, cfg, resume=False if args.restart else "auto")
    result = trainer.fit()
    if trainer.rank == 0:
        print(f"run: {cfg.out_dir}  best checkpoint: {result['best_checkpoint']}  log: {result['log']}")
    return 0


# --------------------------------------------------------------------------------------------------
def _add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", formatter_class=_Formatter, help="score a checkpoint on a dataset split",
                       description="Separate every mixture of a split (whole files, chunked) and report "
                                   "per-track SDRi (plain SNR form, the MTASS paper's metric) and SI-SDRi "
                                   "with 95 % confidence intervals; --extra adds BSS-eval SDR, PESQ-wb "
                                   "and STOI (speech).")
    p.add_argument("--checkpoint", required=True, help="a checkpoint written by train (best.pt / last.pt)")
    p.add_argument("--split", default="test", choices=("train", "dev", "test"), help="dataset split")
    p.add_argument("--data", default=None, help="dataset root (default: the one the checkpoint trained on)")
    p.add_argument("--max-items", type=int, default=None, help="score only the first N mixtures")
    p.add_argument("--extra", action="store_true", help="also BSS-eval SDR, PESQ-wb and STOI (slower)")
    p.add_argument("--out", default=None, help="write the full result (per mixture + summary) to this JSON")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda ...")
    p.add_argument("--chunk-seconds", type=float, default=10.0, help="separation chunk length")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args) -> int:
    from .evaluate import evaluate_model, summary_table, write_results
    from .checkpoint import load_checkpoint, resolve_device

    model, ckpt = load_checkpoint(args.checkpoint, map_location="cpu")
    model.to(resolve_device(args.device))
    data = args.data or ckpt.get("data_root")
    if data is None or not Path(data).exists():
        data = default_data_root(get_mode())
    result = evaluate_model(model, data, args.split, max_items=args.max_items, extra=args.extra,
                            progress=False if args.no_progress else None, chunk_seconds=args.chunk_seconds)
    result["checkpoint"] = {"path": str(args.checkpoint), "step": ckpt.get("step")}
    metrics = ("sdri", "si_sdri") + (("bss_sdr", "pesq_wb", "stoi") if args.extra else ())
    print(f"{result['model']['name']} on {result['n_items']} {args.split} mixtures of {data}")
    print(summary_table(result, metrics, markdown=True))
    if args.out:
        print(f"wrote {write_results(result, args.out)}")
    return 0


# --------------------------------------------------------------------------------------------------
def _add_separate(sub) -> None:
    p = sub.add_parser("separate", formatter_class=_Formatter, help="split audio files into three stems",
                       description="Write <out>/<name>/{speech,music,noise}.wav (16 kHz mono, 32-bit float) "
                                   "for each FILE. Any length, sample rate and channel count: the input is "
                                   "downmixed to mono and resampled to 16 kHz (a note says so) and run in "
                                   "overlapping chunks, so memory does not grow with the file. Without "
                                   "--model or --checkpoint, the default shipped model separates: the best "
                                   "on the real test set according to the model card "
                                   "(results/shipped_models.json), else complex_mtassnet. --list shows "
                                   "what ships.")
    p.add_argument("files", nargs="*", metavar="FILE", help="audio files (wav, flac, ogg, ...)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--model", default=None,
                   help="a shipped model (mtass_lite/pretrained/<name>_<size>.pt; see --list); default: the "
                        "best shipped model on the real test set (complex_mtassnet until the models are scored)")
    g.add_argument("--checkpoint", default=None, help="a checkpoint written by train")
    p.add_argument("--size", default="lite", help="size part of the shipped file name, with --model")
    p.add_argument("--list", action="store_true",
                   help="print the shipped models (training, real-test and MTASS-tiny scores) and exit")
    p.add_argument("--out", default="separated", help="output directory")
    p.add_argument("--chunk-seconds", type=float, default=10.0, help="chunk length")
    p.add_argument("--overlap", type=float, default=1.0, help="seconds shared by consecutive chunks")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda ...")
    p.set_defaults(func=cmd_separate, separate_parser=p)


def cmd_separate(args) -> int:
    from .audio import AudioError
    from .separate import resolve_model, separate_file

    if args.list:
        if args.files:
            args.separate_parser.error("--list takes no FILE")
        from .shipped import list_table

        list_table(out=sys.stdout)
        return 0
    if not args.files:
        args.separate_parser.error("no FILE to separate: give one or more audio files "
                                   "(or --list to see the shipped models)")
    model = resolve_model(args.model, args.checkpoint, args.device, size=args.size)
    failed = 0
    for f in args.files:
        try:
            paths = separate_file(f, model, args.out, chunk_seconds=args.chunk_seconds, overlap=args.overlap)
        except AudioError as e:
            print(f"error: {e}", file=sys.stderr)
            failed += 1
            continue
        print(f"{f} -> {Path(paths['speech']).parent}/{{speech,music,noise}}.wav")
    return 1 if failed else 0


# --------------------------------------------------------------------------------------------------
def _add_fetch_real(sub) -> None:
    p = sub.add_parser("fetch-real", formatter_class=_Formatter,
                       help="download, verify and convert a small real set (realmini, realmore) from GitHub",
                       description="Rebuild realmini or realmore (real speech / music / noise, 16 kHz mono "
                                   "FLAC in {train,test}/{speech,music,noise}/) from the original files in "
                                   "public GitHub repositories, listed with commit, path, licence and "
                                   "SHA-256 in the shipped MANIFEST.tsv. Each original is verified against "
                                   "its SHA-256; a rerun resumes. ATTRIBUTION.md beside the data lists the "
                                   "licences and the credits CC BY requires. See docs/real_data.md.")
    p.add_argument("name", nargs="?", help="realmini or realmore")
    p.add_argument("--out", default=None, help="where to build (default: <data root>/<name>)")
    p.add_argument("--mirror", default=None, metavar="DIR",
                   help="read originals from DIR/<repo>/<commit>/<path> instead of the network "
                        "($MTASS_CACHE/originals of a finished download has this layout)")
    p.add_argument("--base-url", default=None,
                   help="fetch <BASE_URL>/<repo>/<commit>/<path> instead of https://raw.githubusercontent.com")
    p.add_argument("--manifest", default=None, help="build from this MANIFEST.tsv instead of the shipped one")
    p.add_argument("--cache", default=None, help="where downloaded originals are kept (default: $MTASS_CACHE)")
    p.add_argument("--workers", type=int, default=4, help="files fetched and converted at once")
    p.add_argument("--retries", type=int, default=5, help="retries per file after a dropped connection")
    p.add_argument("--list", action="store_true", help="list the sets: files, minutes per split and track")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_fetch_real)


def cmd_fetch_real(args) -> int:
    from .data.download import DownloadError
    from .data.real_corpora import (RAW_BASE_URL, REAL_SETS, ManifestError, build_real_set,
                                    real_set_table)

    if args.list:
        print(real_set_table())
        return 0
    if args.name not in REAL_SETS:
        raise SystemExit(f"error: name one of {', '.join(REAL_SETS)} (or give --list)")
    try:
        out = build_real_set(args.name, args.out, manifest=args.manifest, mirror=args.mirror, cache=args.cache,
                             base_url=args.base_url or RAW_BASE_URL, workers=args.workers,
                             progress=not args.no_progress, retries=args.retries)
    except (DownloadError, ManifestError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{args.name} ready at {out} (licences and credits: {out / 'ATTRIBUTION.md'})")
    return 0


# --------------------------------------------------------------------------------------------------
# Commands whose own module parses the arguments (imported only when used).
PASSTHROUGH = {
    "profile": ("mtass_lite.profile", "parameters, MAC/s and CPU real-time factor of the models"),
    "reproduce": ("mtass_lite.reproduce", "train and evaluate every model with one budget: the SDRi table"),
    "mix": ("mtass_lite.data.sources", "mix a dataset from real-recording folders (+ synthetic sources)"),
}


def _add_passthrough(sub) -> None:
    for name, (module, help_text) in PASSTHROUGH.items():
        p = sub.add_parser(name, add_help=False, help=help_text, description=f"Runs {module} (see `{name} --help`).")
        p.add_argument("args", nargs=argparse.REMAINDER)
        p.set_defaults(func=lambda a, module=module: _run_passthrough(module, a.args))


def _run_passthrough(module: str, argv: list[str]) -> int:
    import importlib

    code = importlib.import_module(module).main(argv)
    return code if isinstance(code, int) else 0


# --------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mtass_lite",
                                     description="mtass-lite: multi-task audio source separation (speech / "
                                                 "music / noise). `python -m mtass_lite COMMAND --help` "
                                                 "explains each command.",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in (_add_make_data, _add_train, _add_evaluate, _add_separate, _add_fetch_real, _add_passthrough):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m mtass_lite`` and the ``mtass-lite`` console script; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] and argv[0] in PASSTHROUGH:  # everything after the command (--help too) is its module's
        return _run_passthrough(PASSTHROUGH[argv[0]][0], argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("mtass_lite").setLevel(logging.INFO)  # our notes (resampled, downmixed...)
    try:
        return args.func(args)
    except _user_errors() as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
