#!/usr/bin/env bash
# The course, end to end: set up .venv, build MTASS-tiny, execute every chapter (fast mode by default)
# and save the executed notebooks beside their jupytext sources. Usage: bash scripts/course.sh [NN ...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
export MTASS_MODE="${MTASS_MODE:-fast}" PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"
.venv/bin/python data_scripts/make_tiny.py
shopt -s nullglob
chapters=(chapters/[0-9][0-9]_*.py)
if [ $# -gt 0 ]; then
  chapters=(); for n in "$@"; do chapters+=(chapters/${n}_*.py); done
fi
for src in "${chapters[@]}"; do
  start=$(date +%s)
  echo "[course] executing $src (MTASS_MODE=$MTASS_MODE)"
  # pair: write the .py's cells into the .ipynb (keeping its metadata), then execute it in place in
  # the .venv kernel, from the chapters/ folder (relative paths such as _audio/ resolve there)
  .venv/bin/jupytext --quiet --to ipynb --update "$src"
  .venv/bin/jupyter nbconvert --log-level WARN --to notebook --execute --inplace \
      --ExecutePreprocessor.timeout=1800 "${src%.py}.ipynb"
  echo "[course] $src done in $(( $(date +%s) - start )) s"
done
echo "[course] all chapters executed; open them with: .venv/bin/jupyter lab chapters/"
