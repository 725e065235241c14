"""Streamlit entry point: ``streamlit run app.py``.

The shell (navigation over ``views/``, language switch, sidebar) lives in :mod:`ui.shell`; the
pages are short and call the core through :mod:`ui`.
"""

from __future__ import annotations

import logging

from ui import shell

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

shell.main()
