"""Streamlit user-interface helpers: session state and caching, labels, widgets, error display.

Only ``app.py``, ``views/`` and this package import streamlit; they call ``maps/``, ``coverage/``
and ``geo/`` and never the other way round.
"""
