"""The study service: one Streamlit-free way to load, analyse, site, edit and write a study.

Used alike by ``cli.py``, the app (through ``ui/``, which only adds caching and session state) and
batch runs over many districts.
"""
