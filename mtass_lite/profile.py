"""Model cost: parameters, multiply-accumulates per second of audio, CPU real-time factor.

The MTASS comparison (the MTASS README's results table) reports each model's size in parameters and its
cost in MAC per second of 16 kHz audio; :data:`PAPER_TABLE` holds those figures and
:func:`profile_all` measures ours next to them (``python -m mtass_lite profile``).

What :func:`macs_per_second` counts. It runs one forward pass (batch 1, no grad) under
:class:`torch.utils.flop_counter.FlopCounterMode` and halves its FLOPs (one MAC = a multiply + an add):

* counted by FlopCounterMode: convolutions and transposed convolutions (any groups/dilation),
  ``mm``/``addmm``/``bmm``/``baddbmm`` (so ``nn.Linear``, attention, ``nn.GRU``, ``nn.LSTMCell``)
  and scaled-dot-product attention. Bias additions are not counted.
* not counted (cheap next to the above, and not counted by the usual MAC tools either): element-wise
  ops, activations, normalisation, pooling, the FFTs of an STFT front end.
* **added by hand**: torch 2.13 runs ``nn.LSTM`` (and ``nn.RNN``) as one fused kernel that
  FlopCounterMode does not see (measured: 0 FLOPs for a BiLSTM, while ``nn.GRU`` decomposes into
  ``addmm`` and is counted). A forward hook on every ``nn.RNNBase`` module adds the analytic count
  ``gates * H * (I + H_out)`` per step, layer and direction (+ ``H * proj_size`` with a projection)
  whenever the counter saw nothing inside that module, so nothing is counted twice.

Two conventions for transposed convolutions (``macs_per_second(..., convention=...)``, chapter 06):

* ``"true"`` (default): what FlopCounterMode counts, ``in_numel * C_out * prod(kernel) / groups``:
  every input position meets every kernel tap once.
* ``"thop"``: ``out_numel * C_in * prod(kernel) / groups``, one full kernel per *output* position, as
  the popular counter ``thop`` charges it. A stride-s transposed conv writes each output from about
  1/s of the taps, so this overcounts it about s times; it is the convention that reproduces the MTASS
  table's GCRN and Demucs costs (chapters 06 and 08). A forward hook on every ``nn.ConvTranspose*d``
  adds the difference to the true count.
"""
from __future__ import annotations

import argparse
import math
import statistics
import time
from contextlib import contextmanager

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from mtass_lite import SAMPLE_RATE, results_dir
from mtass_lite.results import write_json

# The MTASS paper's cost columns (the MTASS README's results table): parameters in
# millions, GMAC per second of audio. Same keys as results/paper_mtass.json, which also holds the SDRi
# (a test checks the two agree).
PAPER_TABLE: dict[str, dict[str, float]] = {
    "gcrn": {"params_m": 9.88, "gmac_per_s": 2.5},
    "demucs": {"params_m": 243.32, "gmac_per_s": 5.6},
    "d3net": {"params_m": 7.93, "gmac_per_s": 3.5},
    "conv_tasnet": {"params_m": 5.14, "gmac_per_s": 5.2},
    "complex_mtassnet": {"params_m": 28.18, "gmac_per_s": 1.8},
}


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters (``requires_grad``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _rnn_macs(module: nn.RNNBase, x) -> int:
    """Analytic MACs of one ``nn.LSTM``/``nn.GRU``/``nn.RNN`` forward on input ``x``."""
    if isinstance(x, nn.utils.rnn.PackedSequence):
        steps = int(x.data.shape[0])  # sum of the sequence lengths over the batch
    elif x.dim() == 2:  # unbatched [T, I]
        steps = int(x.shape[0])
    else:
        steps = int(x.shape[0] * x.shape[1])  # B * T whatever batch_first says
    gates = {"LSTM": 4, "GRU": 3}.get(module.mode, 1)
    hidden = module.hidden_size
    proj = getattr(module, "proj_size", 0) or 0
    h_out = proj or hidden
    dirs = 2 if module.bidirectional else 1
    macs = 0
    for layer in range(module.num_layers):
        i_in = module.input_size if layer == 0 else h_out * dirs
        per_step = gates * hidden * (i_in + h_out) + hidden * proj
        macs += dirs * per_step * steps
    return macs


@contextmanager
def _count_flops():
    """FlopCounterMode plus the hand-counted recurrent layers (see module docstring).

    Yields a callable returning the total FLOPs counted so far.
    """
    extra = [0]
    counter = FlopCounterMode(display=False)
    seen_before: dict[int, int] = {}

    def pre_hook(module, args):
        seen_before[id(module)] = counter.get_total_flops()

    def post_hook(module, args, output):
        if counter.get_total_flops() == seen_before.pop(id(module), 0):  # the counter missed it
            extra[0] += 2 * _rnn_macs(module, args[0])

    handles = [nn.modules.module.register_module_forward_pre_hook(
        lambda m, a: pre_hook(m, a) if isinstance(m, nn.RNNBase) else None),
        nn.modules.module.register_module_forward_hook(
        lambda m, a, o: post_hook(m, a, o) if isinstance(m, nn.RNNBase) else None)]
    try:
        with counter:
            yield lambda: counter.get_total_flops() + extra[0]
    finally:
        for h in handles:
            h.remove()


MAC_CONVENTIONS = ("true", "thop")
_TRANSPOSED_CONVS = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


@contextmanager
def _thop_transposed_conv_extra():
    """Yields a callable returning the MACs that the ``thop`` convention adds to the true count of the
    transposed convolutions run so far: ``(out_numel * C_in - in_numel * C_out) * prod(kernel) / groups``."""
    extra = [0]

    def hook(m, inputs, out):
        if isinstance(m, _TRANSPOSED_CONVS):
            k = math.prod(m.kernel_size)
            extra[0] += (out.numel() * m.in_channels - inputs[0].numel() * m.out_channels) * k // m.groups

    handle = nn.modules.module.register_module_forward_hook(hook)
    try:
        yield lambda: extra[0]
    finally:
        handle.remove()


def macs_per_second(model: nn.Module, seconds: float = 1.0, sample_rate: int = SAMPLE_RATE,
                    convention: str = "true") -> float:
    """MACs of one forward pass on ``seconds`` of audio (batch 1, no grad), divided by ``seconds``.

    ``convention``: ``"true"`` counts transposed convolutions per input position (what they compute),
    ``"thop"`` per output position, as ``thop`` and the MTASS table do (see the module docstring).
    The model is put in eval mode for the pass and its training flag restored afterwards.
    """
    if convention not in MAC_CONVENTIONS:
        raise ValueError(f"convention must be one of {MAC_CONVENTIONS}, got {convention!r}")
    n = int(round(seconds * sample_rate))
    x = torch.randn(1, n, generator=torch.Generator().manual_seed(0))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), _count_flops() as total, _thop_transposed_conv_extra() as thop_extra:
            model(x.to(device))
            macs = total() / 2 + (thop_extra() if convention == "thop" else 0)
    finally:
        model.train(was_training)
    return macs / seconds


def real_time_factor(model: nn.Module, seconds: float = 4.0, repeats: int = 3,
                     sample_rate: int = SAMPLE_RATE) -> float:
    """CPU wall time of one forward pass (batch 1, no grad) divided by the audio duration.

    One warm-up pass, then the median of ``repeats`` timed passes. < 1 means faster than real time.
    The model is moved to CPU (a copy is not made: pass a CPU model if that matters).
    """
    n = int(round(seconds * sample_rate))
    x = torch.randn(1, n, generator=torch.Generator().manual_seed(0))
    was_training = model.training
    model.cpu().eval()
    times = []
    try:
        with torch.no_grad():
            model(x)  # warm-up: allocator, kernels
            for _ in range(max(1, repeats)):
                t0 = time.perf_counter()
                model(x)
                times.append(time.perf_counter() - t0)
    finally:
        model.train(was_training)
    return statistics.median(times) / seconds


# Clip lengths for the RTF: paper-size models are slow on CPU, so they are timed on a short clip.
RTF_SECONDS = {"paper": 1.0, "lite": 4.0}


def profile_model(name: str, size: str, seconds: float = 1.0, rtf_seconds: float | None = None,
                  repeats: int | None = None) -> dict:
    """One row of the profile table for model ``name`` at ``size``."""
    from mtass_lite.models import build_model

    torch.manual_seed(0)
    model = build_model(name, size)
    rtf_s = rtf_seconds if rtf_seconds is not None else RTF_SECONDS[size]
    reps = repeats if repeats is not None else (1 if size == "paper" else 3)
    row = {"model": name, "size": size, "params": count_params(model),
           "macs_per_second": macs_per_second(model, seconds), "macs_seconds": seconds,
           "rtf": real_time_factor(model, rtf_s, reps), "rtf_seconds": rtf_s, "rtf_repeats": reps,
           "torch_threads": torch.get_num_threads()}
    if size == "paper" and name in PAPER_TABLE:
        ref = PAPER_TABLE[name]
        row["paper_params"] = ref["params_m"] * 1e6
        row["paper_macs_per_second"] = ref["gmac_per_s"] * 1e9
    return row


def profile_all(sizes=("paper", "lite"), models=None, seconds: float = 1.0,
                rtf_seconds: float | None = None, repeats: int | None = None) -> list[dict]:
    """Profile every model at every size; a model that fails to build is reported with its error."""
    from mtass_lite.models import MODEL_NAMES

    rows = []
    for name in models or MODEL_NAMES:
        for size in sizes:
            try:
                rows.append(profile_model(name, size, seconds, rtf_seconds, repeats))
            except Exception as err:  # keep going: one broken model should not hide the others
                rows.append({"model": name, "size": size, "error": f"{type(err).__name__}: {err}"})
    return rows


def format_table(rows: list[dict]) -> str:
    """A plain-text table of :func:`profile_all` rows, paper figures beside ours."""
    head = f"{'model':<17} {'size':<5} {'params':>9} {'paper':>9} {'GMAC/s':>8} {'paper':>6} {'CPU RTF':>8}"
    lines = [head, "-" * len(head)]
    for r in rows:
        if "error" in r:
            lines.append(f"{r['model']:<17} {r['size']:<5} error: {r['error']}")
            continue
        pp = f"{r['paper_params'] / 1e6:.2f}M" if "paper_params" in r else "-"
        pm = f"{r['paper_macs_per_second'] / 1e9:.1f}" if "paper_macs_per_second" in r else "-"
        lines.append(f"{r['model']:<17} {r['size']:<5} {r['params'] / 1e6:>8.2f}M {pp:>9} "
                     f"{r['macs_per_second'] / 1e9:>8.2f} {pm:>6} {r['rtf']:>8.3f}")
    ok = [r for r in rows if "error" not in r]
    if ok:
        lines.append(f"MAC/s from a {ok[0]['macs_seconds']:g}-s forward (FlopCounterMode + hand-counted LSTMs); "
                     f"RTF = median CPU time / audio time, batch 1, {ok[0]['torch_threads']} threads, on "
                     + ", ".join(sorted({f"{r['rtf_seconds']:g}-s clips ({r['size']})" for r in ok})) + ".")
    return "\n".join(lines)


def main(argv=None) -> list[dict]:
    """``python -m mtass_lite profile [--sizes paper lite] [--models ...] [--out FILE]``.

    Prints the table and writes ``results/profile.json``: ``{"models": [rows], "errors": [rows],
    "note": ...}`` (a row per model and size: params, macs_per_second, rtf, ...). Returns all rows.
    """
    from mtass_lite.models import MODEL_NAMES, SIZES

    p = argparse.ArgumentParser(prog="mtass_lite profile", description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", default=list(SIZES), choices=SIZES)
    p.add_argument("--models", nargs="+", default=list(MODEL_NAMES), choices=MODEL_NAMES)
    p.add_argument("--seconds", type=float, default=1.0, help="audio length for the MAC count")
    p.add_argument("--rtf-seconds", type=float, default=None,
                   help=f"audio length for the CPU timing (default {RTF_SECONDS})")
    p.add_argument("--repeats", type=int, default=None, help="timed passes (default 1 paper, 3 lite)")
    p.add_argument("--out", default=None, help="json file (default results/profile.json)")
    args = p.parse_args(argv)

    rows = profile_all(args.sizes, args.models, args.seconds, args.rtf_seconds, args.repeats)
    print(format_table(rows))
    out = write_json(args.out or results_dir() / "profile.json", {
        "models": [r for r in rows if "error" not in r],
        "errors": [r for r in rows if "error" in r],
        # RTF depends on what else runs: record the 1-minute load average at the end of the run
        "load_average_1min": round(__import__("os").getloadavg()[0], 2),
        "note": "macs_per_second: FlopCounterMode MACs (FLOPs/2) of a batch-1 forward on macs_seconds of "
                "audio, LSTMs counted analytically; rtf: median CPU forward time / audio time "
                "(rtf_seconds of audio, rtf_repeats passes, torch_threads threads).",
    })
    print(f"wrote {out}")
    return rows


if __name__ == "__main__":
    main()
