#!/usr/bin/env bash
# Creates ./.venv with the pinned requirements (and, with --dev, the test tools and the system
# packages the tests need: Debian's chromium, chromium-driver, a CJK font, poppler-utils and
# libreoffice-impress). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[[ "${1:-}" == "--dev" ]] && dev=1

py=""
for cand in python3.11 python3 python; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    py=$cand; break
  fi
done
if [[ -z $py ]]; then
  echo "Python 3.11 is required (found: $(python3 --version 2>&1)). Install python3.11 and retry." >&2
  exit 1
fi

[[ -x .venv/bin/python ]] || "$py" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
if (( dev )); then
  .venv/bin/python -m pip install --quiet -r requirements-dev.txt
else
  .venv/bin/python -m pip install --quiet -r requirements.txt
fi

# Compile the bucket-queue search once into numba's disk cache (large networks use it).
.venv/bin/python -c "from coverage import bucket_queue; bucket_queue.warm_up()" \
  || echo "numba could not compile the bucket queue; searches will use scipy (same results)" >&2

# Chinese labels in PNG/PDF maps need a CJK font; browser tests need Chromium and its driver.
want=()
fc-list :lang=zh 2>/dev/null | grep -q . || want+=(fonts-noto-cjk)
# PDF reports embed a TrueType CJK font (Noto CJK is OpenType/CFF, which reportlab cannot embed).
have_ttf=0
for f in /usr/share/fonts/truetype/{wqy,arphic}/*; do [[ -f $f ]] && { have_ttf=1; break; }; done
(( have_ttf )) || want+=(fonts-wqy-microhei)
if (( dev )); then
  command -v chromium >/dev/null 2>&1 || want+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || want+=(chromium-driver)
  # A real PostgreSQL + PostGIS for the database source/sink tests (started by the tests).
  [[ -x /usr/lib/postgresql/15/bin/initdb ]] || want+=(postgresql-15)
  [[ -f /usr/share/postgresql/15/extension/postgis.control ]] || want+=(postgresql-15-postgis-3)
  # The export render tests look at the reports: PDF pages via pdftoppm, PPTX slides via
  # LibreOffice (tests/test_export_render.py fails under CI=true without them).
  command -v pdftoppm >/dev/null 2>&1 || want+=(poppler-utils)
  command -v soffice >/dev/null 2>&1 || want+=(libreoffice-impress)
fi
if (( ${#want[@]} )); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  if command -v apt-get >/dev/null 2>&1; then
    echo "Installing system packages: ${want[*]}"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "${want[@]}" >/dev/null
  else
    echo "Please install: ${want[*]} (no apt-get here)" >&2
    (( dev )) && exit 1
  fi
fi
