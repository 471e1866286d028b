"""environment.yml (conda readers) and pyproject.toml (pip, the README's scripts) must agree."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_requirements():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return set(meta["dependencies"]) | set(meta["optional-dependencies"]["dev"])


def _setup_script_pins():
    # packages the set-up script installs outside pyproject (tinysoundfont with --no-deps)
    text = (ROOT / "scripts" / "setup_env.sh").read_text()
    return set(re.findall(r'--no-deps "([^"]+)"', text))


def test_environment_yml_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {p for p in pip if not p.startswith("-e")}
    assert listed == _pyproject_requirements() | _setup_script_pins()


def test_torch_is_pinned_to_the_cpu_build_on_disk():
    # a bare `torch` requirement pulls a multi-GB CUDA build on a fresh machine
    assert "torch==2.13.0" in _pyproject_requirements()
