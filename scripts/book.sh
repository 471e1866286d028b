#!/usr/bin/env bash
# The course as a web page: render every executed chapter (chapters/NN_topic.ipynb, as committed;
# nothing is executed) to book/NN_topic.html plus book/index.html. Open book/index.html from disk:
# figures and audio players are embedded, no server or network is needed.
# Usage: bash scripts/book.sh [--out DIR] [--chapters DIR] [--timings results/course_timings.json]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
.venv/bin/python -m mtass_lite.book "$@"
