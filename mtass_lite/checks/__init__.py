"""Self-checks for the chapters' exercises: ``from mtass_lite import checks; checks.ex03_2(my_si_sdr)``.

Each ``exNN_k`` compares a student's answer (usually a function) with the library on random or
fixed inputs and *says what is wrong* — shape, sign, scale, a missing step — instead of only
failing. It prints a one-line verdict and returns ``True``/``False``; ``strict=True`` raises
:class:`CheckFailed` instead (what the tests use). One module per chapter (``chNN.py``); every
``ex*`` function of those modules is available here.
"""
from __future__ import annotations

import importlib
import pkgutil

from ._core import CheckFailed, verdict  # noqa: F401

__all__ = ["CheckFailed", "verdict"]
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name.startswith("ch"):
        _mod = importlib.import_module(f"{__name__}.{_info.name}")
        for _name in dir(_mod):
            if _name.startswith("ex") and callable(getattr(_mod, _name)):
                globals()[_name] = getattr(_mod, _name)
                __all__.append(_name)
