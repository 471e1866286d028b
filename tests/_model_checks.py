"""Checks every separator of the model registry must pass, shared by the model tests.

A model maps a mixture ``[B, T]`` to three track estimates ``[B, 3, T]`` of the same length, rebuilds
from ``(mtass_name, mtass_size, mtass_config)`` + its state dict, trains end to end, and (for the
models that normalise their input) scales with the mixture. Each ``check_*`` raises AssertionError.
"""
from __future__ import annotations

import torch

from mtass_lite.models import build_model


def check_output_shape(model: torch.nn.Module, length: int, batch: int = 2) -> None:
    """``[batch, length] -> [batch, 3, length]``, whatever the length (odd, shorter than a frame)."""
    out = model(torch.randn(batch, length))
    assert out.shape == (batch, 3, length), (tuple(out.shape), length)


def check_state_dict_round_trip(model: torch.nn.Module, length: int = 1234) -> None:
    """A model rebuilt from the registry with its config and state dict gives bit-identical outputs."""
    model = model.eval()
    again = build_model(model.mtass_name, model.mtass_size, **model.mtass_config).eval()
    again.load_state_dict(model.state_dict())
    x = torch.randn(2, length)
    with torch.no_grad():
        assert torch.equal(model(x), again(x))


def check_gradients_reach_every_parameter(model: torch.nn.Module, length: int = 800) -> None:
    """One backward pass of a squared-output loss gives every parameter a finite gradient."""
    model(torch.randn(2, length)).pow(2).mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name


def check_estimates_scale_with_the_mixture(model: torch.nn.Module, length: int = 3000, factor: float = 3.0,
                                           rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """``model(a x) == a model(x)``: the mixture is normalised by its level and the estimates scaled back."""
    model = model.eval()
    x = torch.randn(2, length)
    with torch.no_grad():
        torch.testing.assert_close(model(factor * x), factor * model(x), rtol=rtol, atol=atol)
