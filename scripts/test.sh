#!/usr/bin/env bash
# Installs everything (Python packages into ./.venv, chromium + driver + CJK font via apt) and runs
# the linter and the whole test suite, including the real-browser test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh --dev
.venv/bin/ruff check .
.venv/bin/mypy geo coverage maps ui cli.py app.py
.venv/bin/python -m pytest -n 2 --dist loadfile "$@"
# The test networks are small, so the default engine is scipy there; run the analysis tests once
# more with the bucket-queue engine that large districts get (same results expected).
LCC_SEARCH_ENGINE=bucket .venv/bin/python -m pytest -n 2 --dist loadfile -q \
  tests/test_analysis.py tests/test_distance.py tests/test_scenarios.py tests/test_service_areas.py \
  tests/test_siting.py tests/test_gaps.py tests/test_completeness.py tests/test_fca.py \
  tests/test_demo.py tests/test_cli.py "$@"
