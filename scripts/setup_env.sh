#!/usr/bin/env bash
# Create (or reuse) the course's virtual environment at .venv and install everything it needs.
# Idempotent: a second run only checks. Used by both README commands and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python
stamp=.venv/.mtass_lite_installed
# Re-install when the dependency list changed since the last install.
want=$(cat pyproject.toml scripts/setup_env.sh | sha1sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "[setup] .venv is up to date"
  exit 0
fi
"$VPY" -m pip install --quiet --upgrade pip
# torch first and pinned: this resolves to the CPU build on this machine (see pyproject.toml).
"$VPY" -m pip install --quiet "torch==2.13.0"
# tinysoundfont's only dependency, pyaudio, is for live playback and needs portaudio headers to build.
"$VPY" -m pip install --quiet --no-deps "tinysoundfont==0.3.7"
"$VPY" -m pip install --quiet -e ".[dev]"
# rfc3987-syntax builds a grammar on every `import nbformat` (~2.4 s per notebook command); optional.
"$VPY" -m pip uninstall --quiet -y rfc3987-syntax >/dev/null 2>&1 || true
"$VPY" -m ipykernel install --sys-prefix --name python3 >/dev/null
echo "$want" > "$stamp"
echo "[setup] .venv ready"
