"""Coverage engine: snapping, network distances, coverage, service areas, gaps, 2SFCA.

Streamlit-free; everything here takes a :class:`geo.network.Network` and plain (Geo)DataFrames
and returns new objects.
"""

#: The package's modules are imported by name (``coverage.analysis`` ...); it re-exports nothing.
__all__: list[str] = []
