"""Warm the shared caches in the background when the app process serves its first page.

``streamlit run`` runs no project code before the first browser session, so the first visitor
pays for the imports (folium, its templates), the analysis and the first map. The first script
run of the process starts one daemon thread that computes what the Coverage page shows by
default (the analysis of the session's criteria and the map of the shown category) while the
planner is still on the Data page, which needs neither. The results land in the ordinary
``st.cache_resource`` caches of :mod:`ui.state`, keyed on content, so every session shares
them; a page that needs a result before the thread is done waits on the same cache entry
instead of computing it twice.
"""

from __future__ import annotations

import logging
import threading
import time

from ui import state

logger = logging.getLogger(__name__)

#: Off in tests that count computations; on in the app.
ENABLED = True

_started = threading.Event()
_done = threading.Event()


def start(ds: state.Dataset, choice: state.CriteriaChoice, *, category: str, lang: str) -> bool:
    """Start the warm-up thread once per process; True when this call started it.

    Parameters
    ----------
    ds
        The session's dataset (the demo on a first visit).
    choice
        The session's criteria.
    category
        The category the Coverage page maps first.
    lang
        Interface language of the session (the map's labels).
    """
    if not ENABLED or _started.is_set() or category not in choice.categories:
        return False
    _started.set()
    thread = threading.Thread(
        target=_warm, args=(ds, choice, category, lang), name="lcc-warmup", daemon=True
    )
    thread.start()
    return True


def wait(timeout: float | None = None) -> bool:
    """Block until the warm-up finished (or failed); False on timeout or when never started."""
    return _started.is_set() and _done.wait(timeout)


def _warm(ds: state.Dataset, choice: state.CriteriaChoice, category: str, lang: str) -> None:
    from ui import maps

    t0 = time.perf_counter()
    try:
        state.analysis(ds, choice)
        maps.coverage_for(ds, choice, category, lang=lang, base="none")
    except Exception:  # a failed warm-up only means the page computes on demand
        logger.exception("warm-up failed; the pages compute on demand")
    finally:
        _done.set()
    logger.info("warm-up: analysis and first map ready in %.2f s", time.perf_counter() - t0)
