"""Model cost: parameters, multiply-accumulates per second of audio, CPU real-time factor.

The MTASS comparison (the MTASS README's results table) reports each model's size in parameters and its
cost in MAC per second of 16 kHz audio; :data:`PAPER_TABLE` holds those figures and
:func:`profile_all` measures ours next to them (``python -m mtass_lite profile``), with a CPU real-time
factor that is recorded only when the machine is quiet (:class:`TimingGuard`: timings under load were
wrong by up to 500x here).

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
import os
import sys
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


def _forward_seconds(model: nn.Module, seconds: float, repeats: int, sample_rate: int = SAMPLE_RATE,
                     timer=time.perf_counter) -> list[float]:
    """Wall times of ``repeats`` forward passes (batch 1, no grad) on ``seconds`` of noise, after one
    untimed warm-up pass (allocator, kernels). The model is moved to CPU and its training flag restored."""
    n = int(round(seconds * sample_rate))
    x = torch.randn(1, n, generator=torch.Generator().manual_seed(0))
    was_training = model.training
    model.cpu().eval()
    times = []
    try:
        with torch.no_grad():
            model(x)  # warm-up
            for _ in range(max(1, repeats)):
                t0 = timer()
                model(x)
                times.append(timer() - t0)
    finally:
        model.train(was_training)
    return times


def real_time_factor(model: nn.Module, seconds: float = 4.0, repeats: int = 3,
                     sample_rate: int = SAMPLE_RATE, timer=time.perf_counter) -> float:
    """CPU wall time of one forward pass (batch 1, no grad) divided by the audio duration.

    One warm-up pass, then the **minimum** of ``repeats`` timed passes: other processes can only add
    time to a pass, never remove it, so the fastest pass is the least disturbed estimate (the usual
    estimator for timing under interference; ``timeit`` recommends it too). < 1 means faster than
    real time. The model is moved to CPU (a copy is not made: pass a CPU model if that matters).
    This alone does not make a figure honest on a busy machine: :class:`TimingGuard` decides whether
    the machine was quiet enough to record it.
    """
    return min(_forward_seconds(model, seconds, repeats, sample_rate, timer)) / seconds


# --------------------------------------------------------------------------------------------------
# Timing that survives a busy machine.
#
# results/profile.json once recorded GCRN-lite RTF 3.68 with load average 2.97 on two cores; alone on
# the same machine it measures 0.008 (Complex-MTASSNet at paper size: 10.9 against 0.042). Other
# processes do not add a constant to a timing, they multiply it by an unknown factor (a 2-thread
# OpenMP kernel waits at every barrier for the thread whose core is shared), so a figure timed under
# load cannot be corrected afterwards: the only honest choice is not to record it. Two witnesses decide:
#
# * the **1-minute load average** (``os.getloadavg``) before anything heavy runs. The RTF uses
#   ``threads`` threads; they run undisturbed only if the other runnable tasks fit on the remaining
#   ``cores - threads`` cores, so the limit is ``cores - threads + 0.5`` (half a core of slack for
#   daemons and short bursts): 0.5 on this 2-core machine timing with 2 threads (the bad run had 2.97).
#   During the run our own threads add up to ``threads`` to the average, and it lags by about a
#   minute, so from then on it is only checked against ``limit + threads`` (2.5 here) to catch a
#   steady job that started after us;
# * a fixed **reference workload** timed right before and right after each model, with the same
#   thread count, in the same process: a matmul that any other job on our cores slows down at once,
#   without the load average's lag. A model's figure is refused when either reference took more than
#   ``max_reference_ratio`` (1.5) times the fastest reference of this run: on a quiet machine the
#   minimum of 5 references moves by a few per cent, while one competing single-threaded process made
#   the 2-thread reference 2.7x slower when we tried (a minimum does not filter a steady competitor).
#
# A refused measurement is retried after a pause (``retries`` times, ``pause_s`` apart: the 1-minute
# average needs ~2 minutes to fall from 3 to 0.5), then :class:`MachineBusy` is raised and nothing is
# written. Each row keeps both witnesses so that a reader can judge the figure.

REFERENCE_N = 512      # torch.mm of two N x N float32 matrices ...
REFERENCE_INNER = 8    # ... run this many times per timing (~2.1 GFLOP, tens of ms on two cores)


def reference_workload_seconds(n: int = REFERENCE_N, inner: int = REFERENCE_INNER,
                               timer=time.perf_counter) -> float:
    """Wall time of ``inner`` products of two fixed ``n x n`` float32 matrices (one untimed warm-up),
    with torch's current thread count: the yardstick of :class:`TimingGuard`."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    out = torch.empty(n, n)
    torch.mm(a, b, out=out)
    t0 = timer()
    for _ in range(inner):
        torch.mm(a, b, out=out)
    return timer() - t0


def reference_gflop(n: int = REFERENCE_N, inner: int = REFERENCE_INNER) -> float:
    """GFLOP of one :func:`reference_workload_seconds` call (2 n^3 per product)."""
    return 2 * n ** 3 * inner / 1e9


class MachineBusy(RuntimeError):
    """The machine stayed too busy for honest timings: nothing was recorded."""


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (containers, taskset)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class TimingGuard:
    """Decides whether the machine is quiet enough to record a timing (see the comment above).

    ``loadavg`` (-> ``(1 min, 5 min, 15 min)``), ``reference`` (-> seconds of one reference workload),
    ``sleep`` and ``log`` are injectable so that tests run without real timing or waiting.

    * :meth:`start`: before any model is built; refuses while the 1-min load average exceeds
      ``max_load`` (default ``cores - threads + 0.5``).
    * :meth:`measure`: runs ``fn()`` between two reference timings and returns its value with the
      witnesses; retries, then raises :class:`MachineBusy`, when a reference is slower than
      ``max_reference_ratio`` x the best of this run or the load average exceeds ``max_load + threads``.
    """

    def __init__(self, max_load: float | None = None, max_reference_ratio: float = 1.5, retries: int = 4,
                 pause_s: float = 30.0, reference_repeats: int = 5, cores: int | None = None,
                 threads: int | None = None, loadavg=os.getloadavg, reference=reference_workload_seconds,
                 sleep=time.sleep, log=None):
        self.cores = cores or _available_cores()
        self.threads = threads or torch.get_num_threads()
        self.max_load = max_load if max_load is not None else max(0, self.cores - self.threads) + 0.5
        self.max_reference_ratio = max_reference_ratio
        self.retries, self.pause_s, self.reference_repeats = retries, pause_s, max(1, reference_repeats)
        self._loadavg, self._reference, self._sleep = loadavg, reference, sleep
        self._log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.best_reference = math.inf
        self.start_load: float | None = None

    def settings(self) -> dict:
        """The thresholds, for the results file."""
        return {"cores": self.cores, "threads": self.threads, "max_load_1min_at_start": self.max_load,
                "max_load_1min_during": self.max_load + self.threads,
                "max_reference_ratio": self.max_reference_ratio, "retries": self.retries,
                "pause_s": self.pause_s, "reference_repeats": self.reference_repeats}

    def load(self) -> float:
        """The 1-minute load average now."""
        return float(self._loadavg()[0])

    def reference_time(self) -> float:
        """Minimum of ``reference_repeats`` reference timings; updates the best of this run."""
        t = min(self._reference() for _ in range(self.reference_repeats))
        self.best_reference = min(self.best_reference, t)
        return t

    def _retry_or_fail(self, attempt: int, what: str, problems: list[str]) -> None:
        msg = f"{what}: machine busy ({'; '.join(problems)})"
        if attempt > self.retries:
            raise MachineBusy(f"{msg}; gave up after {attempt} tries {self.pause_s:g} s apart. Timings under "
                              "load are wrong by up to 500x, so nothing was recorded: run again on an idle "
                              "machine (or, beside one single-threaded job on two cores, with OMP_NUM_THREADS=1: "
                              "single-thread figures).")
        self._log(f"{msg}; retry {attempt}/{self.retries} in {self.pause_s:g} s")
        self._sleep(self.pause_s)

    def start(self) -> float:
        """Wait (``retries`` x ``pause_s`` at most) for a quiet machine; returns the 1-min load average.

        Also times the reference workload once, so that the run has a best reference from a quiet moment.
        """
        for attempt in range(1, self.retries + 2):
            load = self.load()
            if load <= self.max_load:
                self.reference_time()
                self.start_load = load
                return load
            self._retry_or_fail(attempt, "start", [
                f"load average {load:.2f} > {self.max_load:g} before starting "
                f"({self.cores} cores, {self.threads} timing threads)"])
        raise AssertionError("unreachable")

    def measure(self, fn, what: str = "timing"):
        """``fn()`` between two reference timings -> ``(value, witnesses)``; retries or raises
        :class:`MachineBusy` (see the class docstring). ``witnesses``: ``reference_s_before``,
        ``reference_s_after``, ``reference_ratio`` (the slower of the two / the best of this run),
        ``load_average_1min`` (right after ``fn``) and ``attempts``."""
        for attempt in range(1, self.retries + 2):
            before = self.reference_time()
            value = fn()
            after = self.reference_time()
            load = self.load()
            ratio = max(before, after) / self.best_reference
            problems = []
            if ratio > self.max_reference_ratio:
                problems.append(f"reference workload {ratio:.2f}x slower than its best in this run "
                                f"(limit {self.max_reference_ratio:g}x)")
            if load > self.max_load + self.threads:
                problems.append(f"load average {load:.2f} > {self.max_load + self.threads:g} "
                                f"(start limit + this run's own {self.threads} threads)")
            if not problems:
                return value, {"reference_s_before": before, "reference_s_after": after,
                               "reference_ratio": ratio, "load_average_1min": load, "attempts": attempt}
            self._retry_or_fail(attempt, what, problems)
        raise AssertionError("unreachable")


# Clip lengths for the RTF: paper-size models are slow on CPU, so they are timed on a short clip.
RTF_SECONDS = {"paper": 1.0, "lite": 4.0}
# Timed passes (after one warm-up); the RTF is their minimum, so a few are needed even for big models.
RTF_REPEATS = {"paper": 3, "lite": 5}


def profile_model(name: str, size: str, seconds: float = 1.0, rtf_seconds: float | None = None,
                  repeats: int | None = None, guard: TimingGuard | None = None) -> dict:
    """One row of the profile table for model ``name`` at ``size``.

    The RTF is timed under ``guard`` (a fresh :class:`TimingGuard`, started here, when None): it raises
    :class:`MachineBusy` rather than return a figure timed on a busy machine. Besides ``rtf`` (minimum
    over ``rtf_repeats`` passes) the row keeps ``rtf_median``, the guard's witnesses
    (``reference_s_before``/``_after``, ``reference_ratio``, ``load_average_1min``, ``attempts``) and
    ``rtf_reference_units``: ``rtf`` divided by the reference workload's time (the faster of the two
    around this model), i.e. the forward time per second of audio counted in reference workloads, a
    figure that moves much less than the RTF from one CPU to another.
    """
    from mtass_lite.models import build_model

    if guard is None:
        guard = TimingGuard()
        guard.start()
    torch.manual_seed(0)
    model = build_model(name, size)
    rtf_s = rtf_seconds if rtf_seconds is not None else RTF_SECONDS[size]
    reps = repeats if repeats is not None else RTF_REPEATS[size]
    row = {"model": name, "size": size, "params": count_params(model),
           "macs_per_second": macs_per_second(model, seconds), "macs_seconds": seconds}
    times, seen = guard.measure(lambda: _forward_seconds(model, rtf_s, reps), what=f"{name} {size}")
    rtf = min(times) / rtf_s
    reference_s = min(seen["reference_s_before"], seen["reference_s_after"])
    row.update({"rtf": rtf, "rtf_median": sorted(times)[len(times) // 2] / rtf_s, "rtf_estimator": "min",
                "rtf_seconds": rtf_s, "rtf_repeats": reps, "torch_threads": torch.get_num_threads(),
                "rtf_reference_units": rtf / reference_s,
                "reference_s_before": seen["reference_s_before"],
                "reference_s_after": seen["reference_s_after"],
                "reference_ratio": round(seen["reference_ratio"], 3),
                "load_average_1min": round(seen["load_average_1min"], 2), "attempts": seen["attempts"]})
    if size == "paper" and name in PAPER_TABLE:
        ref = PAPER_TABLE[name]
        row["paper_params"] = ref["params_m"] * 1e6
        row["paper_macs_per_second"] = ref["gmac_per_s"] * 1e9
    return row


def profile_all(sizes=("paper", "lite"), models=None, seconds: float = 1.0,
                rtf_seconds: float | None = None, repeats: int | None = None,
                guard: TimingGuard | None = None) -> list[dict]:
    """Profile every model at every size; a model that fails to build is reported with its error.

    ``guard``: a started :class:`TimingGuard` (a fresh one is made and started when None). A busy
    machine is not a model's error: :class:`MachineBusy` propagates and nothing is returned.
    """
    from mtass_lite.models import MODEL_NAMES

    if guard is None:
        guard = TimingGuard()
        guard.start()
    rows = []
    for name in models or MODEL_NAMES:
        for size in sizes:
            try:
                rows.append(profile_model(name, size, seconds, rtf_seconds, repeats, guard))
            except MachineBusy:
                raise
            except Exception as err:  # keep going: one broken model should not hide the others
                rows.append({"model": name, "size": size, "error": f"{type(err).__name__}: {err}"})
    return rows


def format_table(rows: list[dict]) -> str:
    """A plain-text table of :func:`profile_all` rows, paper figures beside ours."""
    head = (f"{'model':<17} {'size':<5} {'params':>9} {'paper':>9} {'GMAC/s':>8} {'paper':>6} {'CPU RTF':>8} "
            f"{'ref ms':>7} {'load':>5}")
    lines = [head, "-" * len(head)]
    for r in rows:
        if "error" in r:
            lines.append(f"{r['model']:<17} {r['size']:<5} error: {r['error']}")
            continue
        pp = f"{r['paper_params'] / 1e6:.2f}M" if "paper_params" in r else "-"
        pm = f"{r['paper_macs_per_second'] / 1e9:.1f}" if "paper_macs_per_second" in r else "-"
        ref = (f"{1e3 * min(r['reference_s_before'], r['reference_s_after']):>7.1f}"
               if "reference_s_before" in r else f"{'-':>7}")
        load = f"{r['load_average_1min']:>5.2f}" if "load_average_1min" in r else f"{'-':>5}"
        lines.append(f"{r['model']:<17} {r['size']:<5} {r['params'] / 1e6:>8.2f}M {pp:>9} "
                     f"{r['macs_per_second'] / 1e9:>8.2f} {pm:>6} {r['rtf']:>8.3f} {ref} {load}")
    ok = [r for r in rows if "error" not in r]
    if ok:
        lines.append(f"MAC/s from a {ok[0]['macs_seconds']:g}-s forward (FlopCounterMode + hand-counted LSTMs); "
                     f"RTF = minimum CPU time / audio time, batch 1, {ok[0]['torch_threads']} threads, on "
                     + ", ".join(sorted({f"{r['rtf_seconds']:g}-s clips ({r['size']})" for r in ok})) + "; "
                     "ref ms: the reference matmul timed beside each model; load: 1-min load average "
                     "(includes this run's own threads).")
    return "\n".join(lines)


def main(argv=None, guard: TimingGuard | None = None) -> list[dict]:
    """``python -m mtass_lite profile [--sizes paper lite] [--models ...] [--out FILE]``.

    Prints the table and writes ``results/profile.json``: ``{"models": [rows], "errors": [rows],
    "load_average_1min": <at the start>, "load_average_1min_end", "reference": {...}, "guard": {...},
    "note": ...}`` (a row per model and size: params, macs_per_second, rtf, the timing witnesses, ...).
    Returns all rows. On a busy machine (see :class:`TimingGuard`) it prints why on stderr, writes
    nothing and exits with status 2. ``guard``: for tests (an injected clock and load average).
    """
    from mtass_lite.models import ALL_MODELS, MODEL_NAMES, SIZES

    p = argparse.ArgumentParser(prog="mtass_lite profile", description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", default=list(SIZES), choices=SIZES)
    # default: the five of the MTASS comparison; an extra registry model (bsrnn) on request
    p.add_argument("--models", nargs="+", default=list(MODEL_NAMES), choices=ALL_MODELS)
    p.add_argument("--seconds", type=float, default=1.0, help="audio length for the MAC count")
    p.add_argument("--rtf-seconds", type=float, default=None,
                   help=f"audio length for the CPU timing (default {RTF_SECONDS})")
    p.add_argument("--repeats", type=int, default=None, help=f"timed passes (default {RTF_REPEATS})")
    p.add_argument("--max-load", type=float, default=None,
                   help="refuse to start above this 1-min load average (default: cores - threads + 0.5)")
    p.add_argument("--max-reference-ratio", type=float, default=1.5,
                   help="refuse a model's timing when the reference matmul beside it is this much slower "
                        "than its best in the run (default 1.5)")
    p.add_argument("--retries", type=int, default=4,
                   help="tries after a refusal before giving up (default 4)")
    p.add_argument("--pause", type=float, default=30.0, help="seconds between tries (default 30)")
    p.add_argument("--out", default=None, help="json file (default results/profile.json)")
    args = p.parse_args(argv)

    if guard is None:
        guard = TimingGuard(max_load=args.max_load, max_reference_ratio=args.max_reference_ratio,
                            retries=args.retries, pause_s=args.pause)
    try:
        start_load = guard.start()
        rows = profile_all(args.sizes, args.models, args.seconds, args.rtf_seconds, args.repeats, guard)
    except MachineBusy as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    print(format_table(rows))
    out = write_json(args.out or results_dir() / "profile.json", {
        "models": [r for r in rows if "error" not in r],
        "errors": [r for r in rows if "error" in r],
        # before any model ran: what other jobs were doing (the per-row figures include our own threads)
        "load_average_1min": round(start_load, 2),
        "load_average_1min_end": round(guard.load(), 2),
        "reference": {"workload": f"torch.mm of two {REFERENCE_N}x{REFERENCE_N} float32 matrices, "
                                  f"{REFERENCE_INNER} times, torch_threads threads",
                      "gflop": reference_gflop(), "best_s": guard.best_reference,
                      "best_gflop_per_s": reference_gflop() / guard.best_reference},
        "guard": guard.settings(),
        "note": "macs_per_second: FlopCounterMode MACs (FLOPs/2) of a batch-1 forward on macs_seconds of "
                "audio, LSTMs counted analytically; rtf: minimum CPU forward time / audio time "
                "(rtf_seconds of audio, rtf_repeats passes after a warm-up, torch_threads threads), recorded "
                "only when the machine was quiet: load average at the start <= guard.max_load_1min_at_start, "
                "and the reference workload timed just before and after each model (reference_s_before/"
                "_after) at most guard.max_reference_ratio times its best of the run (reference_ratio); "
                "rtf_reference_units = rtf / reference seconds (machine-independent-ish); a row's "
                "load_average_1min is read right after its timing and includes this run's own threads.",
    })
    print(f"wrote {out}")
    return rows


if __name__ == "__main__":
    main()
