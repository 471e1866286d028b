#!/usr/bin/env bash
# The course, end to end: set up .venv, build MTASS-tiny, execute every chapter (fast mode by default)
# and save the executed notebooks beside their jupytext sources.
# Usage: bash scripts/course.sh [NN ...]     chapters (all by default)
#        bash scripts/course.sh solutions     the worked solutions, chapters/solutions/NN_*_solutions.py
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
export MTASS_MODE="${MTASS_MODE:-fast}" PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"
.venv/bin/python data_scripts/make_tiny.py
shopt -s nullglob
chapters=(chapters/[0-9][0-9]_*.py)
if [ $# -gt 0 ]; then
  chapters=()
  for n in "$@"; do
    if [ "$n" = solutions ]; then chapters+=(chapters/solutions/[0-9][0-9]_*_solutions.py)
    else chapters+=(chapters/${n}_*.py); fi
  done
fi
for src in "${chapters[@]}"; do
  start=$(date +%s.%N)
  load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo null)  # 1-min load average at the start
  echo "[course] executing $src (MTASS_MODE=$MTASS_MODE)"
  # pair: write the .py's cells into the .ipynb (keeping its metadata), then execute it in place in
  # the .venv kernel, from the notebook's folder
  .venv/bin/jupytext --quiet --to ipynb --update "$src"
  .venv/bin/jupyter nbconvert --log-level WARN --to notebook --execute --inplace \
      --ExecutePreprocessor.timeout=1800 "${src%.py}.ipynb"
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  # record the wall time (read by the book's index and the course guide) in results/course_timings.json
  [[ "$src" == chapters/solutions/* ]] || .venv/bin/python - "$(basename "${src%.py}")" "$secs" "$load" <<'PY'
import datetime, sys
from mtass_lite.results import update_json
name, secs, load = sys.argv[1], float(sys.argv[2]), sys.argv[3]
row = {"seconds": secs, "loadavg": float(load) if load != "null" else None,
       "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
update_json("course_timings", lambda timings: timings.__setitem__(name, row))
PY
  echo "[course] $src done in $secs s"
done
echo "[course] all chapters executed; open them with: .venv/bin/jupyter lab chapters/"
