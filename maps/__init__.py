"""Maps and meeting exports: Folium layers, offline assets, basemaps; HTML/PNG/XLSX/GPKG/PDF/PPTX.

Presentation layer: builds on ``coverage/`` and ``geo/`` results (GeoDataFrames in WGS-84, see
``CONTRACTS.md``) and never computes coverage itself.
"""
