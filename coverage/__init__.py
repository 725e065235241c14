"""Coverage engine: snapping, network distances, coverage, service areas, gaps, 2SFCA.

Streamlit-free; everything here takes a :class:`geo.network.Network` and plain (Geo)DataFrames
and returns new objects.
"""
