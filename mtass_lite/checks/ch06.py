"""Self-checks for chapter 06 (GCRN): ``checks.ex06_2(PlainConv2d)``, ``checks.ex06_3(n_bins, n_params)``.

Every check builds what it compares with through the library (:class:`mtass_lite.models.gcrn.GatedConv2d`,
:func:`mtass_lite.models.build_model`, :func:`mtass_lite.profile.count_params`) and names what differs.
"""
from __future__ import annotations

import torch
from torch import nn

from mtass_lite.models import build_model
from mtass_lite.models.gcrn import GatedConv2d
from mtass_lite.profile import count_params

from ._core import verdict

# (in_channels, out_channels, kernel, stride, transposed, output_padding): one encoder-like and one
# decoder-like layer of the GCRN, narrow
_LAYERS = [(2, 6, (1, 3), (1, 2), False, (0, 0)), (8, 5, (1, 3), (1, 2), True, (0, 1))]


def _close(a, b) -> bool:
    return tuple(a.shape) == tuple(b.shape) and torch.allclose(a, b, rtol=1e-4, atol=1e-5)


def ex06_2(cls, strict: bool = False) -> bool:
    """Exercise 2: a copy of ``GatedConv2d`` without the gate: same constructor
    ``(in_channels, out_channels, kernel_size, stride, transposed=False, output_padding=(0, 0))``, a
    convolution (transposed when ``transposed``) in the attribute ``conv``, and ``forward(x) = conv(x)``.

    The check copies the library layer's ``conv`` weights into the student's and compares the outputs
    for an encoder-like and a decoder-like (transposed) layer.
    """
    name = "ex06_2 (plain convolution instead of the gate)"
    if not isinstance(cls, type):
        return verdict(name, [f"pass the class itself (not an instance), got {cls!r}"], strict)
    found: dict[str, list[str]] = {}  # problem -> the layers that have it

    def add(kind: str, msg: str) -> None:
        found.setdefault(msg, []).append(kind)

    g = torch.Generator().manual_seed(0)
    for c_in, c_out, k, s, transposed, out_pad in _LAYERS:
        kind = "transposed" if transposed else "encoder"
        torch.manual_seed(0)
        ref = GatedConv2d(c_in, c_out, k, s, transposed=transposed, output_padding=out_pad)
        try:
            torch.manual_seed(0)  # the same draws: a student layer that kept the gate gets the same gate
            student = cls(c_in, c_out, k, s, transposed=transposed, output_padding=out_pad)
        except Exception as err:
            return verdict(name, [f"{cls.__name__}({c_in}, {c_out}, {k}, {s}, transposed={transposed}, "
                                  f"output_padding={out_pad}) fails: {type(err).__name__}: {err} "
                                  f"(keep GatedConv2d's constructor arguments)"], strict)
        conv = getattr(student, "conv", None)
        want_type = nn.ConvTranspose2d if transposed else nn.Conv2d
        if not isinstance(conv, want_type):
            add(kind, f"expected a {want_type.__name__} in the attribute `conv`, got {type(conv).__name__}")
            continue
        if conv.weight.shape != ref.conv.weight.shape:
            add(kind, f"conv weight {tuple(conv.weight.shape)}, expected {tuple(ref.conv.weight.shape)}")
            continue
        with torch.no_grad():
            conv.weight.copy_(ref.conv.weight)
            if conv.bias is not None and ref.conv.bias is not None:
                conv.bias.copy_(ref.conv.bias)
        n_student, n_conv = count_params(student), count_params(ref.conv)
        if n_student == count_params(ref):
            add(kind, "as many parameters as the gated layer: the gate's convolution is still there "
                      "(unused weights get no gradient, and the comparison of sizes would be wrong); drop it")
        elif n_student != n_conv:
            add(kind, f"{n_student} parameters, expected {n_conv} (one convolution)")
        x = torch.randn(2, c_in, 4, 9, generator=g)
        try:
            with torch.no_grad():
                got = student(x)
        except Exception as err:
            add(kind, f"forward fails: {type(err).__name__}: {err}")
            continue
        with torch.no_grad():
            plain = ref.conv(x)
            gated = ref(x)
        if _close(got, plain):
            continue
        if tuple(got.shape) != tuple(plain.shape):
            add(kind, f"output shape {tuple(got.shape)}, expected {tuple(plain.shape)} (keep "
                      f"the kernel, stride and output_padding)")
        elif _close(got, gated):
            add(kind, "the output is still gated, conv(x) * sigmoid(gate(x)); return conv(x)")
        elif _close(got, torch.sigmoid(plain)):
            add(kind, "sigmoid(conv(x)) squashes the output; a plain convolution returns conv(x)")
        elif _close(got, torch.relu(plain)) or _close(got, nn.functional.elu(plain)):
            add(kind, "an activation is applied; the GCRN layer adds BatchNorm + ELU itself, so return "
                      "conv(x) only")
        else:
            add(kind, "the output differs from conv(x)")
    problems = [f"{' and '.join(kinds)} layer{'s' if len(kinds) > 1 else ''}: {msg}"
                for msg, kinds in found.items()]
    return verdict(name, problems, strict)


def _gcrn_bins_and_params(**overrides) -> tuple[int, int, int]:
    """(bins reaching the LSTM, parameters, parameters of the grouped LSTM) of the lite GCRN."""
    model = build_model("gcrn", "lite", **overrides)
    features = model.lstm.norms[0].normalized_shape[0]  # channels x bins of the last encoder layer
    channels = model.encoder[-1]["conv"].conv.out_channels
    return features // channels, count_params(model), count_params(model.lstm)


def ex06_3(n_bins: int, n_params: int, strict: bool = False) -> bool:
    """Exercise 3: with ``n_fft=512, hop=256`` (``build_model("gcrn", "lite", n_fft=512, hop=256)``),
    how many frequency bins reach the grouped LSTM, and how many parameters the model has."""
    name = "ex06_3 (GCRN with a 512-point STFT)"
    bins, params, lstm = _gcrn_bins_and_params(n_fft=512, hop=256)
    bins0, params0, lstm0 = _gcrn_bins_and_params()  # the default 320-point STFT
    channels = build_model("gcrn", "lite").encoder[-1]["conv"].conv.out_channels
    problems = []
    try:
        n_bins, n_params = int(n_bins), int(n_params)
    except (TypeError, ValueError):
        return verdict(name, [f"expected two integers (n_bins, n_params), got {n_bins!r}, {n_params!r}"], strict)
    stft_bins = 512 // 2 + 1
    if n_bins != bins:
        if n_bins == stft_bins:
            problems.append(f"n_bins={n_bins} is the STFT's bins (n_fft/2 + 1); the five stride-2 encoder "
                            f"layers shrink them before the LSTM")
        elif n_bins == bins0:
            problems.append(f"n_bins={n_bins} is the default 320-point STFT's count, not the 512-point one's")
        elif n_bins == bins * channels:
            problems.append(f"n_bins={n_bins} is the LSTM's feature width (channels x bins); give the bins")
        elif n_bins == round(stft_bins / 2 ** 5) or n_bins == stft_bins // 2 ** 5:
            problems.append(f"n_bins={n_bins}: halving five times ignores the unpadded kernel-3 convs; each "
                            f"layer maps F to floor((F - 3) / 2) + 1")
        else:
            problems.append(f"n_bins={n_bins} is wrong (each encoder layer maps F to floor((F - 3) / 2) + 1, "
                            f"starting from {stft_bins})")
    if n_params != params:
        d_lstm = lstm - lstm0
        d_rest = (params - params0) - d_lstm  # what the output layers (and nothing else) add
        if n_params == params0:
            problems.append(f"n_params={n_params:,} is the default 161-bin model's count; n_fft changes it")
        elif n_params == params0 + d_lstm:
            problems.append(f"n_params={n_params:,} counts the larger grouped LSTM but not the larger output "
                            f"layers (one {stft_bins} x {stft_bins} linear map per track and part)")
        elif n_params == params0 + d_rest:
            problems.append(f"n_params={n_params:,} counts the larger output layers but not the larger "
                            f"grouped LSTM (its width is channels x bins)")
        else:
            problems.append(f"n_params={n_params:,} is off by {n_params - params:+,} "
                            f"({n_params / params - 1:+.2%}); count_params(model) gives the exact number")
    return verdict(name, problems, strict)
