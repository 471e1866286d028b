"""CPU inference time of our Conv-TasNet against torchaudio's at the same configuration.

    python benchmarks/conv_tasnet_vs_reference.py [--size paper|lite] [--seconds 4] [--repeats 5]

Both models get the same hyperparameters (N, L, B, H, P, X, R, 3 sources), the same input (batch 1,
``--seconds`` of audio, no grad) and the same protocol (one warm-up pass, median of ``--repeats``).
Prints both times and the ratio ours / torchaudio, plus both parameter counts (they must be equal).
torchaudio does not install alongside torch 2.13 (the version this course pins): when it is missing the
script says so, times ours alone and exits 0. Not a test: timings depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from mtass_lite.models import build_model
from mtass_lite.models.conv_tasnet import torchaudio_param_count
from mtass_lite.profile import count_params


def time_forward(fn, x: torch.Tensor, repeats: int) -> float:
    """Median wall time (s) of ``fn(x)`` over ``repeats`` passes after one warm-up pass."""
    with torch.no_grad():
        fn(x)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn(x)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", choices=("paper", "lite"), default="lite")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)

    ours = build_model("conv_tasnet", args.size).eval()
    cfg = ours.mtass_config
    x = torch.randn(1, int(args.seconds * 16000), generator=torch.Generator().manual_seed(0))
    t_ours = time_forward(ours, x, args.repeats)
    print(f"Conv-TasNet ({args.size}: N={cfg['N']} L={cfg['L']} B={cfg['B']} H={cfg['H']} P={cfg['P']} "
          f"X={cfg['X']} R={cfg['R']}), batch 1 x {args.seconds:g} s, {torch.get_num_threads()} threads")
    print(f"  ours:       {t_ours * 1000:8.1f} ms  (RTF {t_ours / args.seconds:.3f}), "
          f"{count_params(ours):,} params")

    try:
        import torchaudio  # noqa: F401
        from torchaudio.models import ConvTasNet as ReferenceConvTasNet
    except ImportError as err:
        print(f"  torchaudio: not available ({err}); it does not install with this torch version, so no "
              f"ratio. Its parameter count at this config, derived from its source: "
              f"{torchaudio_param_count(3, *(cfg[k] for k in ('N', 'L', 'B', 'H', 'P', 'X', 'R'))):,}.")
        return 0

    ref = ReferenceConvTasNet(num_sources=cfg["n_sources"], enc_kernel_size=cfg["L"], enc_num_feats=cfg["N"],
                              msk_kernel_size=cfg["P"], msk_num_feats=cfg["B"], msk_num_hidden_feats=cfg["H"],
                              msk_num_layers=cfg["X"], msk_num_stacks=cfg["R"]).eval()
    t_ref = time_forward(lambda m: ref(m.unsqueeze(1)), x, args.repeats)
    print(f"  torchaudio: {t_ref * 1000:8.1f} ms  (RTF {t_ref / args.seconds:.3f}), {count_params(ref):,} params")
    print(f"  ratio ours / torchaudio: {t_ours / t_ref:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
