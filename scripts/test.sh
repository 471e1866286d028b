#!/usr/bin/env bash
# The whole test suite: set up .venv, build MTASS-tiny, then the unit tests and every committed
# chapter re-executed by nbval (fast mode). Extra arguments go to pytest. .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
export MTASS_MODE=fast
.venv/bin/python data_scripts/make_tiny.py
exec .venv/bin/python -m pytest tests chapters --nbval-lax --nbval-current-env -p no:cacheprovider -ra "$@"
