"""Training objectives for three-track separation, and each model's released objective.

A loss lives in one of two **domains**:

- ``"waveform"``: computed from the output waveforms, ``(estimate[B, 3, T], target[B, 3, T])``. Any
  model can use it.
- ``"spectra"``: computed from the network's *own* spectral output, ``model.spectra(mixture)``, against
  the target's spectrum under the model's own STFT (``model.stft``). Only models with a ``spectra()``
  method can use it; :class:`mtass_lite.train.Trainer` refuses the pair otherwise.

Every loss is a *per-track* function (``-> [B, 3]``) reduced the same way: mean over the batch, then a
weighted **sum** over the three tracks (weights default to 1, as in the released Complex-MTASSNet code,
which sums its objective over tracks). Where a release takes the mean over sources instead, our value
is 3x theirs: the same gradient direction, and Adam, which divides by the gradient's running scale,
takes the same steps (up to its ``eps``).

Waveform losses:

- ``"snr"``    negative plain-SNR SDR (:func:`mtass_lite.metrics.sdr`): the loss that matches the
  paper's scale-dependent SDRi metric, and the shared default of the fast presets.
- ``"si_sdr"`` negative SI-SDR (:func:`mtass_lite.metrics.si_sdr`, zero-mean): Conv-TasNet's SI-SNR.
  Scale-invariant: a net trained with it alone leaves its output gain arbitrary, which the plain-SNR
  SDRi punishes (on real mixtures SI-SDRi positive while SDRi was -21 dB). Use it knowingly. It is the
  raw, smooth value (``silence_floor=False``): the evaluation's fixed −50 dB for a silent estimate is
  a reporting rule, not part of the objective.
- ``"l1"``     mean absolute error of the waveforms: Demucs (v2).
- ``"ri_mse"`` MSE between the [Re; Im] STFTs (512/256 Hamming) *of the output waveform*. A teaching
  variant (chapter 05), **not** a released objective: a spectral network's output goes through the
  iSTFT and back, which keeps only the part of it that is a consistent STFT (for the lite
  Complex-MTASSNet at initialisation about half of the output's spectral energy is lost on the way), so
  this is not the MSE the network's own output would get.
- ``"mtass_wave"`` ``ri_mse`` + 0.01 x ``snr``: the Complex-MTASSNet formula for models without
  ``spectra()`` (same round trip as ``ri_mse``).

Spectral losses (need ``model.spectra()``):

- ``"spectral_ri_mse"`` MSE between ``spectra(mix)["estimate"]`` ([Re; Im], ``[B, 3, 2F, N]``) and
  ``ri_stack(model.stft(target))``: GCRN.
- ``"spectral_mag_mse"`` MSE between ``spectra(mix)["magnitude"]`` (``[B, 3, F, N]``; the magnitude of
  ``"estimate"`` when there is no such entry) and ``model.stft(target).abs()``: D3Net.
- ``"mtass"`` the released Complex-MTASSNet objective: ``spectral_ri_mse`` + 0.01 x negative SNR of the
  waveform resynthesised from the same ``"estimate"`` (no second forward pass).

:data:`RELEASED_LOSSES` maps each model to its released objective; the released code each follows is
cited beside it. Losses are computed in float32 even when the model ran under mixed precision.

**The released SNR term's 0.5 gain (chapter 10).** In the released Complex-MTASSNet code the SNR term
compares two waveforms built differently (``model_constrcution/DNN_models/Complex_MTASS_Solver.py``):
the target is a plain overlap-add of Hamming-*windowed* frames (``split_and_reshape_data`` with
``overlap_add_batch`` of ``utils/utils_library.py``: ``x`` times the Hamming overlap sum, ~1.08 x), while
the estimate goes through ``Inverse_STFT``: ``torch.istft`` with a **rectangular** window
(``torch.ones(512)``), which divides the overlap-add by the rectangular window's overlap sum, 2. The
Hamming weighting stays in both, so a *perfect* spectrum resynthesises to exactly 0.5 x the target
(checked numerically): that term's SNR is then 10 log10(1 / 0.5^2) = 6.02 dB at the spectral optimum,
and the term alone is minimised by a spectrum **2x** too loud, pulling against the RI-MSE (weighted
0.01, so the RI-MSE wins). Here the estimate is resynthesised with the model's own iSTFT (Hamming
synthesis window, normalised by the squared-window overlap sum: perfect reconstruction) and compared
with the target waveform itself, so both terms agree on the optimum.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import Tensor, nn

from .metrics import sdr, si_sdr
from .stft import ri_stack, ri_unstack, stft

# Weight of the time-domain SNR term in the released Complex-MTASSNet objective (released code,
# Complex_MTASS_Solver.py: compute_out_cost(..., alpha=0.01)).
MTASS_SNR_WEIGHT = 0.01

WAVEFORM, SPECTRA = "waveform", "spectra"


def _check(estimate: Tensor, target: Tensor) -> None:
    if estimate.shape != target.shape:
        raise ValueError(f"estimate {tuple(estimate.shape)} and target {tuple(target.shape)} differ in shape")
    if estimate.dim() != 3:
        raise ValueError(f"expected [B, 3, T] tensors, got shape {tuple(estimate.shape)}")


# --------------------------------------------------------------------------------------------------
# Waveform losses: (estimate[B, 3, T], target[B, 3, T]) -> [B, 3]
# --------------------------------------------------------------------------------------------------
def neg_snr(estimate: Tensor, target: Tensor) -> Tensor:
    """Negative plain-SNR SDR per track, dB: ``[B, 3, T] x2 -> [B, 3]``."""
    return -sdr(estimate, target)


def neg_si_sdr(estimate: Tensor, target: Tensor) -> Tensor:
    """Negative SI-SDR per track, dB: ``[B, 3, T] x2 -> [B, 3]`` (no silence floor: see the module doc)."""
    return -si_sdr(estimate, target, silence_floor=False)


def l1(estimate: Tensor, target: Tensor) -> Tensor:
    """Mean absolute error per track: ``[B, 3, T] x2 -> [B, 3]``."""
    return (estimate - target).abs().mean(-1)


def ri_mse(estimate: Tensor, target: Tensor) -> Tensor:
    """MSE between [Re; Im] STFT spectra (512/256 Hamming) of two waveforms: ``[B, 3, T] x2 -> [B, 3]``."""
    diff = ri_stack(stft(estimate)) - ri_stack(stft(target))  # [B, 3, 2F, N]
    return diff.pow(2).mean(dim=(-2, -1))


def mtass_wave(estimate: Tensor, target: Tensor) -> Tensor:
    """``ri_mse`` + 0.01 x negative SNR on waveforms (the MTASS formula without ``spectra()``): ``-> [B, 3]``."""
    return ri_mse(estimate, target) + MTASS_SNR_WEIGHT * neg_snr(estimate, target)


# --------------------------------------------------------------------------------------------------
# Spectral losses: (spectra dict from model.spectra(mixture), target[B, 3, T], model) -> [B, 3]
# --------------------------------------------------------------------------------------------------
def _entry(spectra: dict, key: str, model) -> Tensor:
    if key not in spectra:
        raise ValueError(f"{_model_name(model)}.spectra() has no {key!r} entry (it has {sorted(spectra)})")
    return spectra[key].float()


def _same_shape(estimate: Tensor, reference: Tensor, what: str) -> None:
    if estimate.shape != reference.shape:
        raise ValueError(f"spectra()[{what!r}] has shape {tuple(estimate.shape)} but the target's spectrum "
                         f"under model.stft has {tuple(reference.shape)}")


def spectra_to_wave(model, estimate_ri: Tensor, length: int) -> Tensor:
    """[Re; Im] spectra ``[B, 3, 2F, N]`` from ``model.spectra()`` -> waveforms ``[B, 3, length]``.

    ``model.ri_to_wave`` when the model has one (Complex-MTASSNet), else ``model.stft.inverse``.
    """
    if hasattr(model, "ri_to_wave"):
        return model.ri_to_wave(estimate_ri, length)
    return model.stft.inverse(ri_unstack(estimate_ri), length)


def spectral_ri_mse(spectra: dict, target: Tensor, model) -> Tensor:
    """MSE between the network's own [Re; Im] output and the target's: ``-> [B, 3]``.

    ``spectra["estimate"]`` ``[B, 3, 2F, N]`` against ``ri_stack(model.stft(target))``; mean over
    ``2F x N`` per track (``torch.nn.MSELoss`` per track in the released code).
    """
    est = _entry(spectra, "estimate", model)
    ref = ri_stack(model.stft(target))
    _same_shape(est, ref, "estimate")
    return (est - ref).pow(2).mean(dim=(-2, -1))


def spectral_mag_mse(spectra: dict, target: Tensor, model) -> Tensor:
    """MSE between the network's magnitude estimate and the target magnitude: ``-> [B, 3]``.

    ``spectra["magnitude"]`` ``[B, 3, F, N]`` (else ``|spectra["estimate"]|``) against
    ``model.stft(target).abs()``; mean over ``F x N`` per track.
    """
    if "magnitude" in spectra or "estimate" not in spectra:
        est = _entry(spectra, "magnitude", model)
    else:
        est = ri_unstack(spectra["estimate"].float()).abs()
    ref = model.stft(target).abs()
    _same_shape(est, ref, "magnitude")
    return (est - ref).pow(2).mean(dim=(-2, -1))


def mtass_objective(spectra: dict, target: Tensor, model) -> Tensor:
    """Complex-MTASSNet's released loss per track: RI-MSE on ``spectra()`` + 0.01 x negative SNR: ``-> [B, 3]``.

    The SNR term scores the waveform resynthesised from the same ``spectra["estimate"]`` with the
    model's own (correct) iSTFT, not the release's rectangular-window one (module doc).
    """
    ri = spectral_ri_mse(spectra, target, model)
    wave = spectra_to_wave(model, spectra["estimate"].float(), target.shape[-1])
    return ri + MTASS_SNR_WEIGHT * neg_snr(wave, target)


# --------------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------------
WAVEFORM_LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "snr": neg_snr,
    "si_sdr": neg_si_sdr,
    "l1": l1,
    "ri_mse": ri_mse,
    "mtass_wave": mtass_wave,
}
SPECTRAL_LOSSES: dict[str, Callable[[dict, Tensor, nn.Module], Tensor]] = {
    "spectral_ri_mse": spectral_ri_mse,
    "spectral_mag_mse": spectral_mag_mse,
    "mtass": mtass_objective,
}
LOSS_NAMES = (*WAVEFORM_LOSSES, *SPECTRAL_LOSSES)

# Each model's objective in its released code (model name -> loss name).
RELEASED_LOSSES = {
    # JupiterEthan/GCRN-complex, scripts/utils/criteria.py (LossFunction): squared error between the
    # network's [Re; Im] output and the target STFT, summed and divided by frames x bins x 2 (a mean;
    # padded frames masked out); scripts/utils/models.py feeds it net(feat) and the feeder's label.
    "gcrn": "spectral_ri_mse",
    # kaituoxu/Conv-TasNet, src/pit_criterion.py (cal_loss): negative SI-SNR with zero-mean signals,
    # averaged over sources and batch, maximised over source permutations (PIT). Our tracks have a fixed
    # order and are different kinds of sound (speech, music, noise), so output k is always trained on
    # track k and no permutation search is needed.
    "conv_tasnet": "si_sdr",
    # facebookresearch/demucs v2, demucs/parser.py ("--mse: Use MSE instead of L1", off by default) and
    # demucs/__main__.py (criterion = nn.L1Loss() unless --mse): L1 on the waveforms.
    "demucs": "l1",
    # sony/ai-research-code, d3net/music-source-separation/train.py: loss = F.mean(F.squared_error(
    # pred_spec, target_spec)), both magnitude spectrograms (model.py spectogram(), power=1); the network's
    # ReLU magnitude output, one network per target.
    "d3net": "spectral_mag_mse",
    # Windstudent/Complex-MTASSNet, model_constrcution/DNN_models/Complex_MTASS_Solver.py
    # (compute_out_cost): sum over tracks of MSELoss(Z, Y) on [Re; Im] + 0.01 x sum over tracks of
    # SNR_cost (negative SNR in dB per item, mean over the batch) on the iSTFT of Z.
    "complex_mtassnet": "mtass",
}


def _model_name(model) -> str:
    return getattr(model, "mtass_name", None) or type(model).__name__


class SpectraForward(nn.Module):
    """``forward(mixture) = model.spectra(mixture)``: the model's spectral output as a module's forward,
    so DistributedDataParallel can wrap it (a DDP model must be run through its own forward)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, mixture: Tensor) -> dict:
        return self.model.spectra(mixture)


class SeparationLoss:
    """A registered loss, reduced to a scalar: mean over the batch, weighted sum over tracks.

    Use, whatever the domain::

        forward = loss.training_forward(model)   # once: the model itself, or its spectra() as a module
        outputs = forward(mixture)               # one forward pass: waveforms or spectra
        value = loss(outputs, target, model)     # scalar (loss.track_losses: [3], before weighting)

    Args:
        name: one of :data:`LOSS_NAMES`.
        track_weights: three weights in :data:`mtass_lite.TRACKS` order (speech, music, noise).

    Attributes:
        domain: ``"waveform"`` or ``"spectra"``; ``needs_spectra`` is ``domain == "spectra"``.
    """

    def __init__(self, name: str, track_weights: Sequence[float] = (1.0, 1.0, 1.0)):
        if name not in LOSS_NAMES:
            raise ValueError(f"unknown loss {name!r}; choose one of {LOSS_NAMES}")
        if len(track_weights) != 3:
            raise ValueError(f"track_weights needs 3 values (speech, music, noise), got {list(track_weights)}")
        self.name = name
        self.domain = SPECTRA if name in SPECTRAL_LOSSES else WAVEFORM
        self.per_track = SPECTRAL_LOSSES[name] if self.needs_spectra else WAVEFORM_LOSSES[name]
        self.track_weights = tuple(float(w) for w in track_weights)

    @property
    def needs_spectra(self) -> bool:
        return self.domain == SPECTRA

    def check_model(self, model) -> None:
        """Raise ``ValueError`` if this loss needs ``model.spectra()`` / ``model.stft`` and ``model`` lacks them."""
        if not self.needs_spectra:
            return
        missing = [what for what, attr in (("spectra()", "spectra"), ("stft", "stft")) if not hasattr(model, attr)]
        if missing:
            waveform = ", ".join(repr(n) for n in WAVEFORM_LOSSES)
            raise ValueError(
                f"loss {self.name!r} is computed on the model's own spectra and needs model.spectra() and "
                f"model.stft; {_model_name(model)} has no {' and no '.join(missing)}. Use a waveform loss "
                f"({waveform}) with this model.")

    def training_forward(self, model: nn.Module) -> nn.Module:
        """The module whose forward gives what this loss takes: ``model`` (waveforms) or
        :class:`SpectraForward` (``model.spectra``). Wrap *this* in DDP."""
        self.check_model(model)
        return SpectraForward(model) if self.needs_spectra else model

    def outputs(self, model: nn.Module, mixture: Tensor):
        """One forward pass of ``model`` on ``mixture[B, T]``: waveforms ``[B, 3, T]`` or the spectra dict."""
        return self.training_forward(model)(mixture)

    def track_losses(self, outputs, target: Tensor, model: nn.Module | None = None) -> Tensor:
        """Batch-mean loss of each track ``[3]`` (float32, before weighting).

        ``outputs``: the estimate waveforms ``[B, 3, T]`` (waveform domain) or ``model.spectra(mixture)``
        (spectral domain, where ``model`` is required: its STFT makes the target spectrum).
        """
        if not self.needs_spectra:
            _check(outputs, target)
            return self.per_track(outputs.float(), target.float()).mean(0)
        if model is None:
            raise ValueError(f"loss {self.name!r} is spectral: pass the model (its STFT makes the target spectrum)")
        if not isinstance(outputs, dict):
            raise ValueError(f"loss {self.name!r} takes the dict of model.spectra(mixture), "
                             f"got {type(outputs).__name__}")
        if target.dim() != 3:
            raise ValueError(f"expected a [B, 3, T] target, got shape {tuple(target.shape)}")
        model = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
        return self.per_track(outputs, target.float(), model).mean(0)

    def __call__(self, outputs, target: Tensor, model: nn.Module | None = None) -> Tensor:
        """``-> []``: the weighted sum over tracks of :meth:`track_losses`."""
        per_track = self.track_losses(outputs, target, model)
        w = torch.tensor(self.track_weights, dtype=per_track.dtype, device=per_track.device)
        return (w * per_track).sum()

    def __repr__(self) -> str:
        return f"SeparationLoss({self.name!r}, track_weights={self.track_weights})"


def get_loss(name: str, track_weights: Sequence[float] = (1.0, 1.0, 1.0)) -> SeparationLoss:
    """The loss registered as ``name`` (one of :data:`LOSS_NAMES`) as a callable."""
    return SeparationLoss(name, track_weights)


def released_loss(model_name: str, track_weights: Sequence[float] = (1.0, 1.0, 1.0)) -> SeparationLoss:
    """The released training objective of registry model ``model_name`` (:data:`RELEASED_LOSSES`)."""
    if model_name not in RELEASED_LOSSES:
        raise ValueError(f"no released objective recorded for {model_name!r}; known: {sorted(RELEASED_LOSSES)}")
    return SeparationLoss(RELEASED_LOSSES[model_name], track_weights)
