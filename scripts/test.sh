#!/usr/bin/env bash
# Installs everything (Python packages into ./.venv, chromium + driver + CJK font via apt) and runs
# the linter and the whole test suite, including the real-browser test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh --dev
.venv/bin/ruff check .
.venv/bin/mypy geo coverage maps ui cli.py app.py
.venv/bin/python -m pytest -n 2 --dist loadfile "$@"
