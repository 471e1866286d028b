"""Score a model on a dataset split, per mixture and per track, with confidence intervals.

Every number names its metric (asteroid's users stumble on SI-SDRi vs SDRi; STYLE.md):

- ``sdr``     plain SNR-form SDR ``10 log10(||s||^2 / ||s - ŝ||^2)`` of the estimate, dB.
- ``sdri``    ``sdr`` of the estimate minus ``sdr`` of the unprocessed mixture: **the MTASS paper's
  metric** (the MTASS README's results table).
- ``sdr_mix`` ``sdr`` of the unprocessed mixture for each track. Beware: an all-zero estimate has
  ``sdr = 0`` dB, so it scores ``sdri = -sdr_mix``, positive whenever the track is below the rest
  of the mixture. A barely trained model that outputs near-silence shows exactly that: a few dB of
  SDRi with a very negative SI-SDRi. Read the two together.
- ``si_sdr``, ``si_sdri``  scale-invariant SDR and its improvement (Le Roux et al. 2019). A silent
  estimate (energy below 1e-10 of the reference's) has no defined SI-SDR and scores the fixed floor
  ``metrics.SILENCE_FLOOR_DB`` = −50 dB (:func:`mtass_lite.metrics.si_sdr`), so silence's ``si_sdri``
  is strongly negative, never a gain.
- with ``extra=True``: ``bss_sdr`` (BSS-eval v3 SDR, 512-tap distortion filter, fast_bss_eval),
  ``pesq_wb`` and ``stoi`` of the speech track.

Whole files are evaluated, any length, through the chunked :func:`mtass_lite.separate.separate_array`.
The summary gives, per metric and track, the mean over mixtures and the half-width of its 95 %
confidence interval from the t distribution; ``avg`` first averages the three tracks of each mixture.
The metrics themselves are introduced in chapter 03 (:mod:`mtass_lite.metrics`).
:func:`evaluate_with_baselines` scores the trivial separators of :mod:`mtass_lite.baselines` on the same
mixtures, and :func:`comparison_table` puts the model beside them and the paper (chapters 06-10).
"""
from __future__ import annotations

import datetime
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch

from . import SAMPLE_RATE, TRACKS
from . import metrics as M
from .audio import atomic_path
from .data.datasets import MTASSDataset
from .separate import CHUNK_SECONDS, OVERLAP_SECONDS, separate_array

METRIC_DOCS = {
    "sdr": "plain SNR-form SDR 10*log10(|s|^2/|s-s_hat|^2) of the estimate, dB",
    "sdri": "SDR improvement: sdr(estimate) - sdr(mixture), plain SNR form, dB (the MTASS paper's metric)",
    "sdr_mix": "plain SNR-form SDR of the unprocessed mixture for the track, dB (an all-zero estimate "
               "scores sdri = -sdr_mix)",
    "si_sdr": "scale-invariant SDR of the estimate (Le Roux et al. 2019), dB; a silent estimate (energy "
              "< 1e-10 of the reference's) scores the fixed floor -50 dB",
    "si_sdri": "SI-SDR improvement: si_sdr(estimate) - si_sdr(mixture), dB",
    "bss_sdr": "BSS-eval v3 SDR (512-tap distortion filter, fast_bss_eval, no permutation), dB",
    "pesq_wb": "wide-band PESQ (ITU-T P.862.2, MOS-LQO) of the speech estimate",
    "stoi": "STOI (Taal et al. 2011, 0..1) of the speech estimate",
}
TRACK_METRICS = ("sdr", "sdri", "sdr_mix", "si_sdr", "si_sdri")
EXTRA_TRACK_METRICS = ("bss_sdr",)
SPEECH_METRICS = ("pesq_wb", "stoi")


def mean_ci(values, level: float = 0.95) -> dict[str, float]:
    """Mean and half-width of its ``level`` confidence interval (Student t, ``n - 1`` dof).

    ``ci95 = t_{(1+level)/2, n-1} * std / sqrt(n)`` with the sample standard deviation (ddof=1);
    NaN values are dropped; with fewer than two values the half-width is NaN.
    """
    from scipy.stats import t as student_t

    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = int(x.size)
    mean = float(x.mean()) if n else float("nan")
    if n < 2:
        return {"mean": mean, "ci95": float("nan"), "std": float("nan"), "n": n}
    std = float(x.std(ddof=1))
    half = float(student_t.ppf(0.5 + level / 2, n - 1) * std / math.sqrt(n))
    return {"mean": mean, "ci95": half, "std": std, "n": n}


def headline(summary: dict) -> dict:
    """The reported part of a :func:`summarize` result: ``{"sdri"|"si_sdri": {track|"avg": mean_ci}}``."""
    return {m: {t: summary[m][t] for t in (*TRACKS, "avg")} for m in ("sdri", "si_sdri")}


def paired_mean_ci(before: dict[str, float], after: dict[str, float], level: float = 0.95) -> dict[str, float]:
    """Mean and confidence interval of ``after - before`` over the mixtures both score (by id).

    Two systems scored on the *same* mixtures differ far less than their separate confidence
    intervals suggest: most of the spread is mixture difficulty, which a paired difference cancels.
    """
    return pooled_paired_mean_ci([(before, after)], level)


def pooled_paired_mean_ci(pairs, level: float = 0.95) -> dict[str, float]:
    """:func:`paired_mean_ci` over several ``(before, after)`` pairs of ``{mixture id: value}``.

    Per mixture (the ids every dict scores), the differences ``after - before`` are averaged over the
    pairs first (over seeds of one comparison, or over the settings of other factors), then the mean
    and its interval are taken over mixtures.
    """
    pairs = list(pairs)
    ids = sorted(set.intersection(*(set(d) for pair in pairs for d in pair))) if pairs else []
    if not ids:
        raise ValueError("no mixture id is scored by both systems")
    return mean_ci([float(np.mean([after[i] - before[i] for before, after in pairs])) for i in ids], level)


def per_item(result: dict, metric: str = "sdri", track: str = "avg") -> dict[str, float]:
    """``{mixture id: value}`` from :func:`evaluate_model`'s ``items`` (``track="avg"``: mean over tracks)."""
    if track == "avg":
        return {it["id"]: float(np.mean([it[metric][t] for t in TRACKS])) for it in result["items"]}
    return {it["id"]: float(it[metric][track]) for it in result["items"]}


def score_item(estimates: np.ndarray, references: np.ndarray, mixture: np.ndarray,
               extra: bool = False, sample_rate: int = SAMPLE_RATE) -> dict[str, dict[str, float]]:
    """Metrics of one mixture: ``[3, T], [3, T], [T] -> {metric: {track: value}}``."""
    est = np.asarray(estimates, np.float64)
    ref = np.asarray(references, np.float64)
    mix = np.asarray(mixture, np.float64)
    values = {
        "sdr": M.sdr(est, ref),
        "sdri": M.sdr_improvement(est, ref, mix),
        "sdr_mix": M.sdr(np.repeat(mix[None], len(ref), axis=0), ref),
        "si_sdr": M.si_sdr(est, ref),
        "si_sdri": M.si_sdr_improvement(est, ref, mix),
    }
    if extra:
        values["bss_sdr"] = M.bss_eval_sdr(est, ref)
    out = {k: {t: float(v[i]) for i, t in enumerate(TRACKS)} for k, v in values.items()}
    if extra:
        s = TRACKS.index("speech")
        out["pesq_wb"] = {"speech": M.pesq_wb(est[s], ref[s], sample_rate)}
        out["stoi"] = {"speech": M.stoi(est[s], ref[s], sample_rate)}
    return out


def summarize(items: list[dict]) -> dict:
    """``{metric: {track | "avg": mean_ci(...)}}`` over per-mixture results (see :func:`mean_ci`).

    ``avg`` is computed from each mixture's mean over the three tracks (for per-track metrics only).
    """
    summary: dict = {}
    metrics = [m for m in items[0] if isinstance(items[0][m], dict)] if items else []
    for m in metrics:
        tracks = [t for t in TRACKS if t in items[0][m]]
        summary[m] = {t: mean_ci([it[m][t] for it in items]) for t in tracks}
        if len(tracks) == len(TRACKS):
            summary[m]["avg"] = mean_ci([np.mean([it[m][t] for t in TRACKS]) for it in items])
    return summary


def _model_info(model: torch.nn.Module) -> dict:
    return {
        "name": getattr(model, "mtass_name", type(model).__name__),
        "size": getattr(model, "mtass_size", None),
        "params": int(sum(p.numel() for p in model.parameters())),
    }


def _show_progress(progress: bool | None) -> bool:
    if progress is not None:
        return progress
    return sys.stderr.isatty() and "PYTEST_CURRENT_TEST" not in os.environ


def evaluate_model(
    model: torch.nn.Module,
    data_root: str | os.PathLike,
    split: str = "test",
    max_items: int | None = None,
    extra: bool = False,
    progress: bool | None = None,
    chunk_seconds: float | None = CHUNK_SECONDS,
    overlap: float = OVERLAP_SECONDS,
) -> dict:
    """Separate every mixture of ``<data_root>/<split>`` (whole files) and score it.

    Args:
        max_items: score only the first ``max_items`` mixtures (in metadata order).
        extra: add BSS-eval SDR per track and PESQ-wb / STOI for speech (slower: ~0.5 s per 10-s clip).
        progress: a tqdm bar (default: only on a terminal).
        chunk_seconds, overlap: passed to :func:`mtass_lite.separate.separate_array`.

    Returns:
        ``{"split", "data_root", "model", "n_items", "metrics" (what each name means), "items"
        (per mixture: id, seconds, {metric: {track: value}}), "summary" ({metric: {track | "avg":
        {"mean", "ci95", "std", "n"}}})}``.
    """
    from tqdm.auto import tqdm

    ds = MTASSDataset(data_root, split)
    n = len(ds) if max_items is None else min(int(max_items), len(ds))
    items = []
    for i in tqdm(range(n), desc=f"evaluate {split}", disable=not _show_progress(progress), leave=False):
        mixture, targets = ds[i]
        est = separate_array(model, mixture, chunk_seconds, overlap)
        scores = score_item(est, targets.numpy(), mixture.numpy(), extra=extra)
        items.append({"id": ds.ids[i], "seconds": round(mixture.shape[-1] / SAMPLE_RATE, 4), **scores})
    used = set(TRACK_METRICS) | (set(EXTRA_TRACK_METRICS) | set(SPEECH_METRICS) if extra else set())
    return {
        "split": split,
        "data_root": str(data_root),
        "model": _model_info(model),
        "n_items": n,
        "metrics": {k: v for k, v in METRIC_DOCS.items() if k in used},
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "items": items,
        "summary": summarize(items),
    }


def score_sets(model, roots: dict, split: str = "test", max_items: int | None = None, progress: bool = False,
               metrics=("si_sdri", "sdri"), decimals: int = 3) -> dict:
    """One model on several data sets: ``{label: {metric: {track|"avg": mean_ci}, "n_mixtures",
    "per_mixture": {metric: {track|"avg": {mixture id: dB}}}}}`` for ``roots = {label: data root}``.

    The per-mixture values (rounded to ``decimals``) let two models scored on the same mixtures be
    compared pairwise later (:func:`paired_mean_ci`) without separating anything again.
    """
    out = {}
    for label, root in roots.items():
        res = evaluate_model(model, root, split, max_items=max_items, progress=progress)
        out[label] = {**headline(res["summary"]), "n_mixtures": res["n_items"],
                      "per_mixture": {m: {t: {i: round(v, decimals) for i, v in per_item(res, m, t).items()}
                                          for t in (*TRACKS, "avg")} for m in metrics}}
    return out


def baseline_sets(roots: dict, split: str = "test", max_items: int | None = None) -> dict:
    """``{label: {"mixture/3"|"silence": headline}}``: what doing (almost) nothing scores on each data set."""
    return {label: {name: headline(s) for name, s in baseline_summaries(root, split, max_items).items()}
            for label, root in roots.items()}


def baseline_summaries(data_root: str | os.PathLike, split: str = "test", max_items: int | None = None,
                       progress: bool | None = False, **kwargs) -> dict[str, dict]:
    """Summaries of the trivial separators of :data:`mtass_lite.baselines.BASELINES` on a split.

    ``{label: summary}`` (``label`` as in ``BASELINES``: ``"mixture/3"``, ``"silence"``), each summary
    as :func:`evaluate_model` returns it; the arguments are passed on to it. Why every model must beat
    them: :mod:`mtass_lite.baselines` (chapter 03).
    """
    from .baselines import BASELINES

    return {label: evaluate_model(cls(), data_root, split, max_items=max_items, progress=progress,
                                  **kwargs)["summary"]
            for label, cls in BASELINES.items()}


def evaluate_with_baselines(model: torch.nn.Module, data_root: str | os.PathLike, split: str = "test",
                            max_items: int | None = None, progress: bool | None = False, **kwargs) -> dict:
    """:func:`evaluate_model` of ``model``, plus ``result["baselines"]`` from :func:`baseline_summaries`
    on the same mixtures with the same settings (``kwargs``: ``extra``, ``chunk_seconds``, ``overlap``).

    A positive plain-SNR SDRi is no evidence of separation (chapter 06, :mod:`mtass_lite.baselines`);
    beating ``"mixture/3"`` is. :func:`comparison_table` renders the result.
    """
    result = evaluate_model(model, data_root, split, max_items=max_items, progress=progress, **kwargs)
    result["baselines"] = baseline_summaries(data_root, split, max_items, progress, **kwargs)
    return result


def _json_safe(x):
    """NaN / Inf become null (JSON has no NaN), numpy scalars become Python numbers."""
    if isinstance(x, dict):
        return {str(k): _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, Path):
        return str(x)
    return x


def write_results(result: dict, path: str | os.PathLike) -> Path:
    """Write ``result`` as JSON (atomically; NaN -> null); return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_json_safe(result), indent=2) + "\n")
    return path


def summary_table(result: dict, metrics=("sdri", "si_sdri"), markdown: bool = False, digits: int = 2):
    """The summary as a table: rows speech, music, noise, avg; per metric a mean and a 95 % CI column.

    Returns a pandas DataFrame, or with ``markdown=True`` a markdown string with ``mean ± ci95``
    cells (column headers name the metric, e.g. ``SDRi (dB)``).
    """
    import pandas as pd

    summary = result["summary"]
    metrics = [m for m in metrics if m in summary]
    rows = [r for r in (*TRACKS, "avg") if any(r in summary[m] for m in metrics)]
    nan = float("nan")

    def val(m, r, k):
        v = summary[m].get(r, {}).get(k, nan)
        return nan if v is None else v

    data = {}
    for m in metrics:
        data[m] = [val(m, r, "mean") for r in rows]
        data[f"{m}_ci95"] = [val(m, r, "ci95") for r in rows]
    df = pd.DataFrame(data, index=pd.Index(rows, name="track"))
    if not markdown:
        return df
    names = {"sdri": "SDRi (dB)", "si_sdri": "SI-SDRi (dB)", "sdr": "SDR (dB)", "si_sdr": "SI-SDR (dB)",
             "bss_sdr": "BSS-eval SDR (dB)", "pesq_wb": "PESQ-wb", "stoi": "STOI"}
    header = ["track"] + [names.get(m, m) for m in metrics]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = []
        for m in metrics:
            mean, ci = df.loc[r, m], df.loc[r, f"{m}_ci95"]
            cell = "" if not np.isfinite(mean) else f"{mean:.{digits}f}"
            if cell and np.isfinite(ci):
                cell += f" ± {ci:.{digits}f}"
            cells.append(cell)
        lines.append("| " + " | ".join([r] + cells) + " |")
    return "\n".join(lines) + "\n"


def comparison_table(result: dict, label: str, paper_sdri: dict | None = None, beats: str = "mixture/3",
                     digits: int | None = 2):
    """The model's SDRi beside the trivial baselines' and the paper's, one row per track (and ``avg``).

    ``result`` is a :func:`evaluate_with_baselines` result (or its JSON). Columns: ``<label> SDRi``,
    ``± 95 % CI`` (its half-width), ``<label> SI-SDRi``, ``<baseline> SDRi`` for each entry of
    ``result["baselines"]``, ``beats <beats>`` (the model's mean SDRi above that baseline's, compared
    before rounding) and, with ``paper_sdri`` (``{track: dB}``, ``avg`` or ``average`` for the mean;
    e.g. ``paper_table()[name]["sdri"]``), ``paper SDRi (real data)``. Values rounded to ``digits``
    (``None``: not rounded). Built on :func:`summary_table`.
    """
    import pandas as pd

    ours = summary_table(result, metrics=("sdri", "si_sdri"))
    table = pd.DataFrame({f"{label} SDRi": ours["sdri"], "± 95 % CI": ours["sdri_ci95"],
                          f"{label} SI-SDRi": ours["si_sdri"]})
    for name, summary in result.get("baselines", {}).items():
        table[f"{name} SDRi"] = summary_table({"summary": summary}, metrics=("sdri",))["sdri"]
    if digits is not None:
        table = table.round(digits)
    if f"{beats} SDRi" in table:
        base = summary_table({"summary": result["baselines"][beats]}, metrics=("sdri",))["sdri"]
        table[f"beats {beats}"] = ours["sdri"] > base
    if paper_sdri is not None:
        table["paper SDRi (real data)"] = [paper_sdri.get(r, paper_sdri.get("average") if r == "avg" else None)
                                           for r in table.index]
    return table
