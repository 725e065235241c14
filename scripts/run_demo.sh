#!/usr/bin/env bash
# Installs everything into ./.venv and serves the app on the embedded (offline) demo district.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
exec .venv/bin/python -m streamlit run app.py "$@"
