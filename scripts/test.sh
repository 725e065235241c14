#!/usr/bin/env bash
# Installs everything (Python packages into ./.venv, chromium + driver + CJK font via apt) and runs
# the linter and the whole test suite, including the real-browser test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh --dev
.venv/bin/ruff check .
.venv/bin/mypy geo coverage maps ui study cli.py app.py
# The whole suite under slipcover (line coverage; its module name does not clash with our
# coverage/ package as coverage.py's does), then the per-package figures and their floor. The
# numba kernel (coverage/bucket_queue.py) is left out: instrumented bytecode cannot be compiled.
mkdir -p test-artifacts
.venv/bin/python -m slipcover --source geo,coverage,maps,study --omit "*/bucket_queue.py" --json \
  --out test-artifacts/line_coverage.json \
  -m pytest -n 2 --dist loadfile -W ignore::pytest.PytestAssertRewriteWarning "$@"
.venv/bin/python scripts/line_coverage.py test-artifacts/line_coverage.json --floor "${LCC_COVERAGE_FLOOR:-90}"
# The test networks are small, so the default engine is scipy there; run the analysis tests once
# more with the bucket-queue engine that large districts get (same results expected).
LCC_SEARCH_ENGINE=bucket .venv/bin/python -m pytest -n 2 --dist loadfile -q \
  tests/test_analysis.py tests/test_distance.py tests/test_scenarios.py tests/test_service_areas.py \
  tests/test_siting.py tests/test_gaps.py tests/test_completeness.py tests/test_fca.py \
  tests/test_demo.py tests/test_cli.py "$@"
