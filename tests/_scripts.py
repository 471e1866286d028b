"""Load a repository script (benchmarks/, data_scripts/) as a module, as ``python <script>`` would run it."""
from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from mtass_lite import REPO_ROOT


def load_script(relpath: str) -> ModuleType:
    """``load_script("benchmarks/real_sources.py")``: the script's module, its folder on ``sys.path`` (where
    ``python <script>`` puts it, so the script's imports of its sibling files resolve)."""
    path = REPO_ROOT / relpath
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
