"""Interactive explorers for the chapters (ipywidgets), each a one-call cell.

Every explorer is a pure *state* function (parameters -> numbers, signals, figure), unit-tested
without a browser, plus a thin widget wrapper built on :func:`live`. :func:`live` shows the default
state as ordinary notebook outputs (a figure, embedded players, a table) under a ``display_id``, with the
controls above them; moving a control re-renders and *updates those outputs in place*. So a committed
notebook shows the default state in JupyterLab, nbviewer and the HTML book, and a running kernel makes
it move.
"""
from __future__ import annotations

import html as _html
import itertools
import math
from typing import Callable

import numpy as np
import torch

from . import SAMPLE_RATE, TRACKS

_ids = itertools.count()


class LiveView(dict):
    """What :func:`live` returns: ``{"controls", "handles", "update"}``, shown in a notebook as one
    plain line (not the widgets' and functions' reprs, whose memory addresses change every run)."""

    def __repr__(self) -> str:
        names = ", ".join(getattr(w, "description", "") or "?" for w in self["controls"].children)
        return f"explorer ({names}): a running kernel makes the controls move the outputs above"

    def _repr_pretty_(self, p, cycle):
        p.text(repr(self))


def live(render: Callable[..., list], controls: dict, columns: int = 0):
    """Show ``render(**defaults)`` as ordinary outputs, with the controls above them; re-render on change.

    Args:
        render: ``render(**values) -> list`` of displayable objects (a matplotlib figure, an
            ``IPython.display.HTML``/``Markdown``, a DataFrame, ...). Figures are closed after display.
        controls: ``{name: ipywidget}``; each widget's ``value`` is passed to ``render`` as ``name``.
    Returns:
        a :class:`LiveView`, ``{"controls": box, "handles": [DisplayHandle, ...], "update": callable}`` — ``update()``
        re-renders with the widgets' current values (what a change of any control calls).
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import DisplayHandle, display

    base = f"mtass-explore-{next(_ids)}"

    def _objects():
        objs = render(**{k: w.value for k, w in controls.items()})
        for o in objs:
            if isinstance(o, plt.Figure):
                plt.close(o)
        return objs

    box = widgets.HBox(list(controls.values())) if columns == 0 else widgets.GridBox(
        list(controls.values()), layout=widgets.Layout(grid_template_columns=f"repeat({columns}, auto)"))
    display(box)
    handles = []
    for j, o in enumerate(_objects()):
        handles.append(DisplayHandle(f"{base}-{j}"))
        handles[-1].display(o)

    def update(change=None):
        for h, o in zip(handles, _objects()):
            h.update(o)

    for w in controls.values():
        w.observe(update, names="value")
    return LiveView(controls=box, handles=handles, update=update)


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------
EXPLORE_SECONDS = 6.0  # explorers cut longer input to this (fast renders, small notebooks)
FLOOR_DB = -80.0


def _np(x, max_seconds: float | None = None, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """numpy float64 copy of ``x[..., T]`` (torch or numpy), cut to ``max_seconds`` if given."""
    a = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    a = a.astype(np.float64)
    if max_seconds is not None:
        a = a[..., : int(round(max_seconds * sample_rate))]
    return a


def _snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    """``10 log10(||s||^2 / ||s - ŝ||^2)`` (inf when they are identical)."""
    err = float(np.sum((reference - estimate) ** 2))
    return math.inf if err == 0 else 10 * math.log10(float(np.sum(reference ** 2)) / err)


def _fmt_db(v: float | None, exact_above: float = 120.0) -> str:
    if v is None or v == -math.inf:
        return "–"
    if v > exact_above:
        return f"> {exact_above:.0f} dB (exact up to float rounding)"
    return f"{v:+.2f} dB"


def _table_html(header: list[str], rows: list[list[str]], caption: str = "") -> str:
    """A small left-aligned HTML table (cells are HTML)."""
    th = "".join(f'<th style="text-align:left">{h}</th>' for h in header)
    body = "".join("<tr>" + "".join(f'<td style="text-align:left">{c}</td>' for c in r) + "</tr>"
                   for r in rows)
    cap = f'<caption style="text-align:left">{_html.escape(caption)}</caption>' if caption else ""
    return f"<table>{cap}<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _players(clips: list[tuple[str, np.ndarray]], sample_rate: int = SAMPLE_RATE):
    """Labelled embedded players side by side (:func:`mtass_lite.viz.player_html`), as one HTML object."""
    from IPython.display import HTML

    from . import viz

    cells = "".join('<div style="margin-right:1.5em">'
                    f"{viz.player_html(np.asarray(x, np.float32), label, sample_rate)}</div>" for label, x in clips)
    return HTML(f'<div style="display:flex;flex-wrap:wrap">{cells}</div>')


def _note(text: str):
    from IPython.display import HTML

    return HTML(f"<div>{text}</div>")


# ---------------------------------------------------------------------------------------------
# Chapter 01: STFT settings, invertibility (NOLA) and plain overlap-add (COLA)
# ---------------------------------------------------------------------------------------------
WINDOWS = ("hann", "hamming", "sqrt-hann", "rectangular", "blackman")
N_FFTS = (128, 256, 512, 1024, 2048)
HOP_FRACTIONS = {"n_fft/8": 1 / 8, "n_fft/4": 1 / 4, "n_fft/2": 1 / 2, "3·n_fft/4": 3 / 4,
                 "n_fft": 1.0, "5·n_fft/4": 5 / 4}
COLA_TOL = 1e-4  # relative ripple of Σ_k w[n - k·hop] below which the window counts as COLA
NOLA_TOL = 1e-11  # torch.istft's own threshold on Σ_k w²[n - k·hop]


def analysis_window(n_fft: int, kind: str = "hann") -> torch.Tensor:
    """Periodic analysis window ``[n_fft]`` (float64): the library's :func:`mtass_lite.stft.make_window`
    for "hann"/"hamming", and "sqrt-hann", "rectangular" (boxcar), "blackman" for exploring."""
    from . import stft as S

    if kind in ("hann", "hamming"):
        return S.make_window(n_fft, kind, dtype=torch.float64)
    if kind == "sqrt-hann":
        return S.make_window(n_fft, "hann", dtype=torch.float64).sqrt()
    if kind in ("rectangular", "boxcar"):
        return torch.ones(n_fft, dtype=torch.float64)
    if kind == "blackman":
        return torch.blackman_window(n_fft, periodic=True, dtype=torch.float64)
    raise ValueError(f"unknown window {kind!r}; choose one of {WINDOWS}")


def _stft(x: torch.Tensor, n_fft: int, hop: int, kind: str) -> torch.Tensor:
    """:func:`mtass_lite.stft.stft` for its own windows; the same call (centred, reflect padding) with
    the other windows, which the library does not offer."""
    from . import stft as S

    if kind in ("hann", "hamming"):
        return S.stft(x, n_fft, hop, kind)
    return torch.stft(x, n_fft, hop, n_fft, analysis_window(n_fft, kind), center=True, pad_mode="reflect",
                      return_complex=True)


def _istft(X: torch.Tensor, length: int, n_fft: int, hop: int, kind: str) -> torch.Tensor:
    """:func:`mtass_lite.stft.istft` (weighted overlap-add, divides by Σw²) for any window."""
    from . import stft as S

    if kind in ("hann", "hamming"):
        return S.istft(X, length, n_fft, hop, kind)
    return torch.istft(X, n_fft, hop, n_fft, analysis_window(n_fft, kind), center=True, length=length)


def _overlap_add(frames: torch.Tensor, hop: int) -> torch.Tensor:
    """Plain overlap-add of ``frames [n_fft, N]`` at ``hop`` -> ``[(N - 1) hop + n_fft]``."""
    n_fft, n = frames.shape
    out = torch.nn.functional.fold(frames[None], output_size=(1, (n - 1) * hop + n_fft),
                                   kernel_size=(1, n_fft), stride=(1, hop))
    return out.reshape(-1)


def window_sums(n_fft: int, hop: int, kind: str = "hann") -> dict:
    """Steady-state overlap sums of the shifted windows: ``Σ_k w[n - k·hop]`` (COLA: constant?) and
    ``Σ_k w²[n - k·hop]`` (NOLA: nowhere zero?), over a stretch where every overlapping frame exists.

    Returns ``{"n": sample index, "shifted": [M, L] the shifted windows, "sum_w", "sum_w2",
    "steady": (start, stop), "cola": bool, "nola": bool, "cola_ripple": relative peak-to-peak ripple}``.
    """
    w = analysis_window(n_fft, kind)
    m = math.ceil(n_fft / hop) + 4
    length = (m - 1) * hop + n_fft
    rows = np.zeros((m, length))
    for k in range(m):
        rows[k, k * hop: k * hop + n_fft] = w.numpy()
    sum_w, sum_w2 = rows.sum(0), (rows ** 2).sum(0)
    start, stop = n_fft, (m - 1) * hop + 1  # every frame that overlaps these samples exists
    s_w, s_w2 = sum_w[start:stop], sum_w2[start:stop]
    ripple = float((s_w.max() - s_w.min()) / max(s_w.max(), 1e-30))
    return {"n": np.arange(length), "shifted": rows, "sum_w": sum_w, "sum_w2": sum_w2, "steady": (start, stop),
            "cola": bool(ripple < COLA_TOL), "nola": bool(hop <= n_fft and s_w2.min() > NOLA_TOL),
            "cola_ripple": ripple}


def stft_state(x, n_fft: int = 512, hop: int = 128, window: str = "hann", sample_rate: int = SAMPLE_RATE) -> dict:
    """STFT of ``x[T]`` with these settings and both ways back to a waveform (float64 throughout).

    - ``recon_istft``: :func:`mtass_lite.stft.istft` / ``torch.istft`` — weighted overlap-add that
      divides by ``Σ_k w²[n - k·hop]``, so it is exact whenever that sum is nowhere zero (**NOLA**).
      When NOLA fails it is ``None``, ``nola`` is False and ``istft_error`` says why (never raised).
    - ``recon_ola``: *plain* overlap-add of the inverse FFT frames, divided only by the constant
      ``Σw / hop``: exact only when ``Σ_k w[n - k·hop]`` is constant (**COLA**); otherwise the frame-rate
      ripple of that sum modulates the signal (an audible buzz). Its error is measured on the interior
      (``interior``: the clip minus ``n_fft`` samples at each end, where the centred frames' sums are
      incomplete for any window).

    Returns a dict: ``spec_db [F, N]`` (dB re the max, floored at −80), ``n_frames``, ``n_bins``,
    ``window_ms``, ``hop_ms``, ``freq_resolution_hz``, ``nola``, ``cola``, ``cola_ripple``,
    ``recon_istft`` (``[T]`` or None), ``max_err_istft``, ``snr_istft_db``, ``istft_error``,
    ``recon_ola [T]``, ``max_err_ola``, ``snr_ola_db``, ``interior``, ``sums`` (:func:`window_sums`),
    and the inputs.
    """
    x = _np(x).reshape(-1)
    T, hop, n_fft = x.size, int(hop), int(n_fft)
    if hop < 1:
        raise ValueError("hop must be at least 1 sample")
    xt = torch.from_numpy(x)
    X = _stft(xt, n_fft, hop, window)
    mag_db = 20 * np.log10(X.abs().numpy() + 1e-12)
    spec_db = np.maximum(mag_db - mag_db.max(), FLOOR_DB)
    sums = window_sums(n_fft, hop, window)

    recon_istft, istft_error = None, ""
    if sums["nola"]:
        try:
            recon_istft = _istft(X, T, n_fft, hop, window).numpy()
        except RuntimeError as e:  # NOLA fails at the clip's edges only
            istft_error = str(e).strip().splitlines()[-1][:200] or "torch.istft failed"
    else:
        istft_error = ("hop > n_fft: samples between frames are never analysed" if hop > n_fft
                       else "Σ w²[n − k·hop] = 0 at some samples")
    nola = recon_istft is not None

    w = analysis_window(n_fft, window)
    frames = torch.fft.irfft(X, n=n_fft, dim=-2)  # the windowed frames w · x[k·hop + m]
    ola = (_overlap_add(frames, hop) / (w.sum() / hop)).numpy()[n_fft // 2: n_fft // 2 + T]
    recon_ola = np.pad(ola, (0, T - ola.size))
    lo, hi = (n_fft, T - n_fft) if T > 4 * n_fft else (0, T)

    return {
        "x": x, "n_fft": n_fft, "hop": hop, "window": window, "sample_rate": sample_rate,
        "spec_db": spec_db, "n_bins": X.shape[-2], "n_frames": X.shape[-1],
        "window_ms": 1000 * n_fft / sample_rate, "hop_ms": 1000 * hop / sample_rate,
        "freq_resolution_hz": sample_rate / n_fft,
        "nola": nola, "cola": sums["cola"], "cola_ripple": sums["cola_ripple"], "sums": sums,
        "recon_istft": recon_istft, "istft_error": istft_error,
        "max_err_istft": None if not nola else float(np.abs(recon_istft - x).max()),
        "snr_istft_db": None if not nola else _snr_db(x, recon_istft),
        "recon_ola": recon_ola, "interior": (lo, hi),
        "max_err_ola": float(np.abs(recon_ola[lo:hi] - x[lo:hi]).max()),
        "snr_ola_db": _snr_db(x[lo:hi], recon_ola[lo:hi]),
    }


def stft_figure(state: dict):
    """Spectrogram with the state's settings (left) and the shifted windows with their sums Σw (COLA)
    and Σw² (NOLA) (right)."""
    import librosa.display
    import matplotlib.pyplot as plt

    st, sums = state, state["sums"]
    fig, (ax, axw) = plt.subplots(1, 2, figsize=(12, 3.2), gridspec_kw={"width_ratios": [3, 1.3]})
    librosa.display.specshow(st["spec_db"], sr=st["sample_rate"], hop_length=st["hop"], n_fft=st["n_fft"],
                             x_axis="time", y_axis="hz", ax=ax, cmap="magma", vmin=FLOOR_DB, vmax=0)
    ax.set(title=f"{st['window']} window, n_fft {st['n_fft']} ({st['window_ms']:.0f} ms), hop {st['hop']} "
                 f"→ {st['n_bins']} bins × {st['n_frames']} frames, Δf = {st['freq_resolution_hz']:.1f} Hz",
           xlabel="time (s)", ylabel="freq (Hz)")
    ax.title.set_fontsize(9)
    n, w_sum = sums["n"], analysis_window(st["n_fft"], st["window"]).sum().item()
    for row in sums["shifted"]:
        axw.plot(n, row, color="0.75", lw=0.8)
    axw.plot(n, sums["sum_w"] / (w_sum / st["hop"]), color="tab:blue", label="Σw ÷ (Σw/hop)  (COLA: flat at 1)")
    axw.plot(n, sums["sum_w2"] / max(sums["sum_w2"][slice(*sums["steady"])].mean(), 1e-30), color="tab:red",
             ls="--", label="Σw² ÷ mean  (NOLA: never 0)")
    axw.axvspan(*sums["steady"], color="tab:green", alpha=0.08)
    axw.set(xlabel="sample", ylim=(-0.05, 2.6),
            title=f"COLA {'✓' if st['cola'] else '✗'}   NOLA {'✓' if st['nola'] else '✗'}")
    axw.legend(fontsize=7, loc="upper center", ncol=1, framealpha=0.9)
    fig.tight_layout()
    return fig


def _stft_summary(st: dict) -> str:
    if st["nola"]:
        istft = f"max |error| {st['max_err_istft']:.1e}, SNR {_fmt_db(st['snr_istft_db'])}"
    else:
        istft = f"<b>not invertible (NOLA fails)</b>: {_html.escape(st['istft_error'])}"
    ola = (f"max |error| {st['max_err_ola']:.1e}, SNR {_fmt_db(st['snr_ola_db'])} — "
           + ("COLA holds: exact up to a constant" if st["cola"]
              else f"<b>not COLA</b> (Σw ripples by {100 * st['cola_ripple']:.0f} %): the ripple is audible"))
    rows = [["torch.istft (weighted OLA, ÷ Σw²)", istft],
            ["plain overlap-add (÷ the constant Σw/hop; clip edges excluded)", ola],
            ["resolution", f"{st['window_ms']:.1f} ms window, {st['hop_ms']:.1f} ms hop, "
                           f"{st['freq_resolution_hz']:.1f} Hz per bin"]]
    return _table_html(["STFT → waveform", "reconstruction"], rows)


def stft_explorer(x, sample_rate: int = SAMPLE_RATE, n_fft: int = 512, hop: str = "n_fft/4", window: str = "hann",
                  max_seconds: float = EXPLORE_SECONDS) -> dict:
    """Chapter 01 — STFT explorer: pick n_fft, hop (a fraction of n_fft) and window.

    Shows the spectrogram with those settings next to the shifted windows and their sums (COLA / NOLA),
    the round-trip error of ``torch.istft`` and of a plain overlap-add, and players of both
    reconstructions (a NOLA-failing setting reports "not invertible" instead of a player). ``x[T]``
    (numpy or torch) is cut to ``max_seconds``. One cell: ``explore.stft_explorer(mix.numpy())``.
    Returns :func:`live`'s dict.
    """
    import ipywidgets as widgets

    x = _np(x, max_seconds, sample_rate).reshape(-1)
    controls = {
        "n_fft": widgets.Dropdown(options=list(N_FFTS), value=n_fft, description="n_fft"),
        "hop": widgets.Dropdown(options=list(HOP_FRACTIONS), value=hop, description="hop"),
        "window": widgets.Dropdown(options=list(WINDOWS), value=window, description="window"),
    }

    def render(n_fft, hop, window):
        st = stft_state(x, n_fft, max(1, round(HOP_FRACTIONS[hop] * n_fft)), window, sample_rate)
        if st["nola"]:
            play = _players([("torch.istft", st["recon_istft"]), ("plain overlap-add", st["recon_ola"])],
                            sample_rate)
        else:
            play = _players([("plain overlap-add", st["recon_ola"])], sample_rate)
        return [stft_figure(st), _note(_stft_summary(st)), play]

    return live(render, controls)


# ---------------------------------------------------------------------------------------------
# Chapter 02: oracle masks
# ---------------------------------------------------------------------------------------------
MASK_LABELS = {"ibm": "IBM", "irm": "IRM", "psm": "PSM (truncated)", "cirm": "cIRM (|M| ≤ 1)",
               "ri_scaling": "RI scaling (|M_r|, |M_i| ≤ 1)"}


def _track_index(track, n_tracks: int) -> int:
    k = TRACKS.index(track) if isinstance(track, str) else int(track)
    if not 0 <= k < n_tracks:
        raise ValueError(f"track {track!r} out of range for {n_tracks} references")
    return k


def mask_state(mixture, references, mask: str = "irm", track="speech", bound: float | None = 1.0) -> dict:
    """The oracle ``mask`` (a :data:`mtass_lite.masks.MASK_TYPES` name) of one track and what it separates.

    ``mixture[T]``, ``references[K, T]`` (TRACKS order; numpy or torch). The mask comes from
    :func:`mtass_lite.masks.oracle_mask`, the estimates from :func:`mtass_lite.masks.oracle_separation`
    (library STFT: Hamming 512/256), the scores from :func:`mtass_lite.metrics.improvement` and
    :func:`~mtass_lite.metrics.sdr` / :func:`~mtass_lite.metrics.si_sdr`.

    Returns a dict: ``mask_image [F, N]`` (the mask for a real mask, ``|M|`` for the complex ones),
    ``estimate [T]``, ``reference [T]``, ``sdri``, ``si_sdri``, ``sdr``, ``si_sdr`` (dB, this track),
    ``sdri_all``/``si_sdri_all`` (``{track: dB}`` for every track with the same mask), ``mask``,
    ``track``, ``track_index``, ``complex_mask``.
    """
    from . import masks as M
    from . import metrics
    from .stft import stft

    if mask not in M.MASK_TYPES:
        raise ValueError(f"unknown mask {mask!r}; choose one of {M.MASK_TYPES}")
    mix = torch.from_numpy(_np(mixture).reshape(-1))
    refs = torch.from_numpy(_np(references))[..., : mix.numel()]
    k = _track_index(track, refs.shape[0])
    Y, S = stft(mix), stft(refs)
    Mk = M.oracle_mask(mask, S, Y, bound)[k]
    est = M.oracle_separation(mix, refs, mask, bound).numpy()
    refs_np, mix_np = refs.numpy(), mix.numpy()
    sdri = metrics.improvement(est, refs_np, mix_np, "sdr")
    si_sdri = metrics.improvement(est, refs_np, mix_np, "si_sdr")
    names = list(TRACKS[: refs.shape[0]]) if refs.shape[0] <= len(TRACKS) else [str(i) for i in range(refs.shape[0])]
    return {
        "mask": mask, "track": names[k], "track_index": k, "bound": bound,
        "complex_mask": bool(Mk.is_complex()), "mask_image": Mk.abs().numpy(),
        "mixture": mix_np, "estimate": est[k], "reference": refs_np[k], "estimates": est,
        "sdri": float(sdri[k]), "si_sdri": float(si_sdri[k]),
        "sdr": float(metrics.sdr(est[k], refs_np[k])), "si_sdr": float(metrics.si_sdr(est[k], refs_np[k])),
        "sdri_all": dict(zip(names, map(float, sdri))), "si_sdri_all": dict(zip(names, map(float, si_sdri))),
    }


def mask_figure(state: dict):
    """The mask image, the oracle estimate's spectrogram and the reference's (library STFT settings)."""
    import librosa.display
    import matplotlib.pyplot as plt

    from . import viz
    from .stft import HOP, N_FFT

    st = state
    fig, axes = plt.subplots(1, 3, figsize=(13, 3), sharey=True)
    vmax = max(1.0, float(np.percentile(st["mask_image"], 99.5))) if st["complex_mask"] else 1.0
    im = librosa.display.specshow(st["mask_image"], sr=SAMPLE_RATE, hop_length=HOP, n_fft=N_FFT, x_axis="time",
                                  y_axis="hz", ax=axes[0], cmap="viridis", vmin=0, vmax=vmax)
    label = MASK_LABELS.get(st["mask"], st["mask"])
    axes[0].set(title=f"oracle {label} of {st['track']}" + (" (|M|)" if st["complex_mask"] else ""),
                xlabel="time (s)", ylabel="freq (Hz)")
    fig.colorbar(im, ax=axes[0], pad=0.01)
    viz.plot_spectrogram(axes[1], st["estimate"],
                         f"estimate: SDRi {st['sdri']:+.1f} dB, SI-SDRi {st['si_sdri']:+.1f} dB")
    viz.plot_spectrogram(axes[2], st["reference"], f"reference {st['track']}")
    for ax in axes[1:]:
        ax.set_ylabel("")
    fig.tight_layout()
    return fig


def mask_explorer(mixture, references, mask: str = "irm", track: str = "speech", bound: float | None = 1.0,
                  max_seconds: float = EXPLORE_SECONDS) -> dict:
    """Chapter 02 — oracle-mask explorer: pick a mask type (IBM, IRM, PSM, cIRM, RI scaling) and a track.

    Shows the oracle mask, the masked estimate's and the reference's spectrograms, players of the
    estimate beside the reference, and its SDRi / SI-SDRi (and SDR / SI-SDR). ``mixture[T]``,
    ``references[3, T]`` (numpy or torch) are cut to ``max_seconds``. One cell:
    ``explore.mask_explorer(mix, tgt)``. Returns :func:`live`'s dict.
    """
    import ipywidgets as widgets

    from . import masks as M

    mix = _np(mixture, max_seconds).reshape(-1)
    refs = _np(references, max_seconds)
    controls = {
        "mask": widgets.Dropdown(options=[(MASK_LABELS.get(k, k), k) for k in M.MASK_TYPES], value=mask,
                                 description="mask"),
        "track": widgets.ToggleButtons(options=list(TRACKS[: refs.shape[0]]), value=track, description="track"),
    }

    def render(mask, track):
        st = mask_state(mix, refs, mask, track, bound)
        rows = [[f"<b>{_html.escape(t)}</b>" if t == st["track"] else _html.escape(t),
                 f"{st['sdri_all'][t]:+.2f}", f"{st['si_sdri_all'][t]:+.2f}"] for t in st["sdri_all"]]
        table = _table_html(["track", "SDRi (dB)", "SI-SDRi (dB)"], rows,
                            f"oracle {MASK_LABELS.get(mask, mask)}: improvement over the mixture "
                            f"(this track: SDR {st['sdr']:+.2f} dB, SI-SDR {st['si_sdr']:+.2f} dB)")
        play = _players([(f"oracle {MASK_LABELS.get(mask, mask)} estimate of {st['track']}", st["estimate"]),
                         (f"reference {st['track']}", st["reference"])])
        return [mask_figure(st), play, _note(table)]

    return live(render, controls)


# ---------------------------------------------------------------------------------------------
# Chapter 03: what each metric forgives
# ---------------------------------------------------------------------------------------------
CUTOFFS_HZ = ("off", 6000, 4000, 3000, 2000, 1000, 500)
LEAK_LEVELS_DB = ("off", -40, -30, -20, -10, -5, 0)
LOWPASS_ORDER = 6


def _off(v) -> bool:
    return v is None or (isinstance(v, str) and v == "off")


def distort(reference, gain_db: float = 0.0, delay_ms: float = 0.0, cutoff_hz=None, leak_db=None,
            interference=None, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A distorted "estimate" of ``reference[T]``: low-pass, delay, leakage, gain — in that order.

    - ``cutoff_hz``: causal Butterworth low-pass (order 6, ``scipy.signal.butter`` + ``sosfilt``, as in
      chapter 03): a short causal filter, which BSS-eval's causal 512-tap distortion filter can model
      (a zero-phase ``sosfiltfilt`` could not); ``None``/"off" (or ≥ Nyquist) skips it.
    - ``delay_ms``: the signal starts later by ``round(delay_ms · sr / 1000)`` samples (zeros in
      front, the tail cut: length kept).
    - ``leak_db``: ``interference[T]`` added at ``leak_db`` dB relative to the reference's energy,
      scaled by the recipe's :func:`mtass_lite.data.mixing.mix_at_snr` (SNR = −leak_db); without an
      ``interference`` a fixed white noise (seed 0) leaks. ``None``/"off" skips it.
    - ``gain_db``: the whole estimate is scaled by ``10^(gain_db / 20)``.

    Returns float64 ``[T]``.
    """
    from scipy.signal import butter, sosfilt

    from .data.mixing import mix_at_snr

    ref = _np(reference).reshape(-1)
    est = ref.copy()
    if not _off(cutoff_hz) and float(cutoff_hz) < sample_rate / 2:
        est = sosfilt(butter(LOWPASS_ORDER, float(cutoff_hz), fs=sample_rate, output="sos"), est)
    shift = int(round(float(delay_ms) * sample_rate / 1000))
    if shift > 0:
        est = np.concatenate([np.zeros(shift), est[:-shift]])
    if not _off(leak_db):
        other = (np.random.default_rng(0).standard_normal(ref.size) if interference is None
                 else _np(interference).reshape(-1)[: ref.size])
        est = est + mix_at_snr(ref, other, -float(leak_db))[0].astype(np.float64)
    return est * 10 ** (float(gain_db) / 20)


def metric_state(reference, gain_db: float = 0.0, delay_ms: float = 0.0, cutoff_hz=None, leak_db=None,
                 interference=None, sample_rate: int = SAMPLE_RATE, filter_length: int = 512) -> dict:
    """The three SDRs of :func:`distort`'s estimate against ``reference``.

    ``sdr``: :func:`mtass_lite.metrics.sdr` (plain SNR form: punishes gain, delay, filtering);
    ``si_sdr``: :func:`~mtass_lite.metrics.si_sdr` (forgives gain only); ``bss_sdr``: BSS-eval v3 SDR
    (:func:`~mtass_lite.metrics.bss_eval`, ``filter_length``-tap distortion filter: forgives gain,
    filtering and delays shorter than the filter). BSS-eval is run with the reference as the only
    source: its SDR counts everything outside the filtered reference as error whether or not other
    sources are given (they only split that error into SIR and SAR), so one source is enough.

    Returns ``{"sdr", "si_sdr", "bss_sdr", "estimate" [T], "reference" [T]}`` (dB, float64 arrays).
    """
    from . import metrics

    ref = _np(reference).reshape(-1)
    est = distort(ref, gain_db, delay_ms, cutoff_hz, leak_db, interference, sample_rate)
    return {"sdr": float(metrics.sdr(est, ref)), "si_sdr": float(metrics.si_sdr(est, ref)),
            "bss_sdr": float(metrics.bss_eval(est[None], ref[None], filter_length)[0][0]),
            "estimate": est, "reference": ref}


def _fmt_metric(v: float) -> str:
    return "≥ +100 (perfect up to rounding)" if v >= 100 else f"{v:+.2f}"


def metric_figure(state: dict, sample_rate: int = SAMPLE_RATE, zoom_ms: float = 30.0):
    """Reference and estimate over ``zoom_ms`` around the reference's loudest sample."""
    import matplotlib.pyplot as plt

    ref, est = state["reference"], state["estimate"]
    n = int(zoom_ms * sample_rate / 1000)
    c = int(np.clip(np.argmax(np.abs(ref)), n // 2, max(n // 2, ref.size - n // 2)))
    sl = slice(max(0, c - n // 2), min(ref.size, c + n // 2))
    t = np.arange(sl.start, sl.stop) / sample_rate * 1000
    fig, ax = plt.subplots(figsize=(9, 2.4))
    ax.plot(t, ref[sl], color="0.3", lw=1.2, label="reference")
    ax.plot(t, est[sl], color="tab:red", lw=1.0, alpha=0.85, label="estimate")
    ax.set(xlabel="time (ms)", ylabel="amplitude", title=f"{zoom_ms:.0f} ms around the reference's peak")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def metric_explorer(reference, interference=None, sample_rate: int = SAMPLE_RATE,
                    max_seconds: float = EXPLORE_SECONDS) -> dict:
    """Chapter 03 — metric explorer: distort a reference (gain, delay, low-pass, leakage of another source)
    and watch SDR (plain), SI-SDR and BSS-eval SDR move.

    Shows the three numbers as a table, a player of the distorted estimate (and of the reference) and a
    zoom on both waveforms. ``reference[T]`` and the optional ``interference[T]`` (leaks in; white noise
    without it) are cut to ``max_seconds``. One cell: ``explore.metric_explorer(speech, tgt[1])``.
    Returns :func:`live`'s dict.
    """
    import ipywidgets as widgets

    ref = _np(reference, max_seconds, sample_rate).reshape(-1)
    other = None if interference is None else _np(interference, max_seconds, sample_rate).reshape(-1)
    style = {"description_width": "initial"}
    controls = {
        "gain_db": widgets.FloatSlider(value=0.0, min=-20, max=20, step=0.5, description="gain (dB)",
                                       continuous_update=False, style=style),
        "delay_ms": widgets.FloatSlider(value=0.0, min=0, max=20, step=1000 / sample_rate, readout_format=".4f",
                                        description="delay (ms)", continuous_update=False, style=style),
        "cutoff_hz": widgets.SelectionSlider(options=list(CUTOFFS_HZ), value="off", description="low-pass (Hz)",
                                             continuous_update=False, style=style),
        "leak_db": widgets.SelectionSlider(options=list(LEAK_LEVELS_DB), value="off",
                                           description="leakage (dB re ref)" if other is not None
                                           else "noise leakage (dB re ref)", continuous_update=False, style=style),
    }

    def render(gain_db, delay_ms, cutoff_hz, leak_db):
        st = metric_state(ref, gain_db, delay_ms, cutoff_hz, leak_db, other, sample_rate)
        rows = [["SDR (plain SNR form)", _fmt_metric(st['sdr']),
                 "nothing: gain, delay and filtering all count as error"],
                ["SI-SDR", _fmt_metric(st['si_sdr']), "a gain"],
                ["BSS-eval v3 SDR (512 taps)", _fmt_metric(st['bss_sdr']),
                 "a gain, any filter up to 512 taps (32 ms): low-pass, small delays"]]
        table = _table_html(["metric", "dB", "forgives"], rows)
        play = _players([("estimate", st["estimate"]), ("reference", st["reference"])], sample_rate)
        return [_note(table), play, metric_figure(st, sample_rate)]

    return live(render, controls, columns=2)


# ---------------------------------------------------------------------------------------------
# Chapter 04: the MTASS mixing recipe
# ---------------------------------------------------------------------------------------------
def snr_state(speech, music, noise, snr_music_db: float = 0.0, snr_noise_db: float = 0.0,
              peak_ceiling: float | None = None) -> dict:
    """One recipe mix: :func:`mtass_lite.data.mixing.mix_at_snr` scales music and noise to their SNRs
    relative to the *unscaled* speech (``10 log10(E_speech / E_track)``; −5 dB = the track is louder
    than speech), then :func:`~mtass_lite.data.mixing.peak_guard` scales all stems together if the
    mixture or a stem would peak above ``peak_ceiling`` (default: the recipe's 0.99).

    Returns a dict: ``mixture [T]``, ``targets [3, T]`` (float32, TRACKS order, after the guard),
    ``gains`` (``{"music", "noise"}`` from mix_at_snr), ``clip_scale``, ``guard_fired``
    (``clip_scale < 1``), ``peak_before`` (the unguarded peak), ``snr_db`` (``{"music", "noise"}``
    realised: ``10 log10(E_speech / E_track)`` of the written targets, equal to the request because
    the guard scales every stem alike), ``speech_vs_rest_db`` (speech vs music + noise), ``levels_dbfs``
    (RMS of each target and the mixture) and ``peaks`` (their peak magnitudes).
    """
    from .data import mixing

    ceiling = mixing.PEAK_CEILING if peak_ceiling is None else float(peak_ceiling)
    s = _np(speech).reshape(-1)
    T = s.size
    m_in, n_in = _np(music).reshape(-1)[:T], _np(noise).reshape(-1)[:T]
    m, g_m = mixing.mix_at_snr(s, m_in, snr_music_db)
    n, g_n = mixing.mix_at_snr(s, n_in, snr_noise_db)
    stems = np.stack([s, m.astype(np.float64), n.astype(np.float64)])
    peak_before = max(float(np.abs(stems.sum(0)).max()), float(np.abs(stems).max()))
    mixture, targets, clip_scale = mixing.peak_guard(stems, ceiling)
    e = [mixing.energy(t) for t in targets]
    signals = {**dict(zip(TRACKS, targets)), "mixture": mixture}
    return {
        "mixture": mixture, "targets": targets, "gains": {"music": g_m, "noise": g_n},
        "clip_scale": float(clip_scale), "guard_fired": bool(clip_scale < 1.0), "peak_before": peak_before,
        "peak_ceiling": ceiling, "requested_db": {"music": float(snr_music_db), "noise": float(snr_noise_db)},
        "snr_db": {"music": 10 * math.log10(e[0] / e[1]), "noise": 10 * math.log10(e[0] / e[2])},
        "speech_vs_rest_db": 10 * math.log10(e[0] / mixing.energy(targets[1] + targets[2])),
        "levels_dbfs": {k: 10 * math.log10(mixing.energy(v) / v.size + 1e-20) for k, v in signals.items()},
        "peaks": {k: float(np.abs(v).max()) for k, v in signals.items()},
    }


def snr_figure(state: dict):
    """RMS level and peak (dBFS) of each scaled track and of the mixture, with the guard's ceiling."""
    import matplotlib.pyplot as plt

    from .viz import TRACK_COLORS

    names = [*TRACKS, "mixture"]
    rms = [state["levels_dbfs"][k] for k in names]
    peak = [20 * math.log10(state["peaks"][k] + 1e-12) for k in names]
    fig, ax = plt.subplots(figsize=(7, 2.6))
    y = np.arange(len(names))
    ax.barh(y, [r + 60 for r in rms], left=-60, color=[TRACK_COLORS[k] for k in names], alpha=0.8, label="RMS")
    ax.scatter(peak, y, marker="|", s=300, color="k", label="peak", zorder=3)
    ax.axvline(20 * math.log10(state["peak_ceiling"]), color="tab:red", ls="--", lw=1, label="guard ceiling")
    ax.set(yticks=y, yticklabels=names, xlim=(-60, 3), xlabel="dBFS",
           title="levels after the guard" + (f" (guard fired: all × {state['clip_scale']:.3f})"
                                             if state["guard_fired"] else " (guard idle)"))
    ax.invert_yaxis()
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def snr_explorer(speech, music, noise, snr_music_db: float = 0.0, snr_noise_db: float = 0.0,
                 max_seconds: float = EXPLORE_SECONDS) -> dict:
    """Chapter 04 — SNR explorer: two sliders set the music and noise SNRs relative to speech (dB; −5 dB =
    the track is 5 dB louder than speech) and the recipe mixes (mix_at_snr + peak guard).

    Shows players for the mixture and each scaled track, the requested vs realised SNRs, the gains,
    whether the clip guard fired, and the tracks' levels. ``speech``, ``music``, ``noise`` ``[T]``
    (numpy or torch; music and noise at least as long as speech) are cut to ``max_seconds``. One cell:
    ``explore.snr_explorer(speech, music, noise)``. Returns :func:`live`'s dict.
    """
    import ipywidgets as widgets

    s, m, n = (_np(v, max_seconds).reshape(-1) for v in (speech, music, noise))
    style = {"description_width": "initial"}
    controls = {
        "snr_music_db": widgets.FloatSlider(value=snr_music_db, min=-10, max=10, step=0.5, continuous_update=False,
                                            description="music SNR (dB re speech)", style=style),
        "snr_noise_db": widgets.FloatSlider(value=snr_noise_db, min=-10, max=10, step=0.5, continuous_update=False,
                                            description="noise SNR (dB re speech)", style=style),
    }

    def render(snr_music_db, snr_noise_db):
        st = snr_state(s, m, n, snr_music_db, snr_noise_db)
        rows = [[t, f"{st['requested_db'][t]:+.1f}", f"{st['snr_db'][t]:+.2f}", f"{st['gains'][t]:.3f}"]
                for t in ("music", "noise")]
        guard = (f"<b>fired</b>: the unguarded peak {st['peak_before']:.2f} > {st['peak_ceiling']}, so every stem × "
                 f"{st['clip_scale']:.3f} (SNRs unchanged)" if st["guard_fired"]
                 else f"idle (peak {st['peak_before']:.2f} ≤ {st['peak_ceiling']})")
        table = _table_html(["track", "requested SNR (dB)", "realised SNR (dB)", "gain"], rows,
                            f"speech vs music + noise: {st['speech_vs_rest_db']:+.2f} dB")
        play = _players([("mixture", st["mixture"]), *zip(TRACKS, st["targets"])])
        return [_note(table + f"<div>peak guard: {guard}</div>"), play, snr_figure(st)]

    return live(render, controls)
