"""One typed bundle for a study: what is analysed, where it came from, and its cache tokens.

A :class:`Study` is what the CLI loads from a configuration (:func:`study.study_from_config`),
what the app holds in a session (``ui.state.Dataset`` is this class) and what the embedded demos
become (:func:`demo_study`). It is immutable and shared: never write into its network or frames.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.network import Network

__all__ = ["Study", "demo_study", "digest", "frame_token", "network_token"]


@dataclass(frozen=True, eq=False)
class Study:
    """The network, facilities, demand and context layers one analysis works on.

    Attributes
    ----------
    label, label_en
        What to call the study (Chinese; English when given).
    network
        The (edited, when edits were configured) street network.
    facilities, demand
        Facilities and demand GeoDataFrames as in CONTRACTS.md (WGS-84).
    boundary, communities
        The study area (one polygon) and community polygons, when known (WGS-84).
    synthetic
        ``True`` for invented data (the synthetic demo).
    attribution
        Data source text printed on maps and exports.
    parts
        Content token per component ("network", "facilities", "demand", …); :attr:`key` is
        built from them, so the same inputs share one cached computation and different inputs
        never collide.
    sources
        The sources as shown to a reader (file names, ``demo:<name>``).
    water
        Rivers drawn on the maps (WGS-84), demo only.
    extra
        Other map layers (``compounds``, ``land_use``, ``buildings``; WGS-84).
    criteria
        Criteria the study was configured with, per category (a configuration's
        ``[criteria]``); empty means the taxonomy defaults.
    validation
        The loaders' validation reports, in loading order.
    datums
        Per facility file whose crs was not declared: declared / used / reason.
    network_edits
        The report of the configured network edits (None when there were none).
    """

    label: str
    network: Network
    facilities: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    boundary: gpd.GeoDataFrame | None = None
    communities: gpd.GeoDataFrame | None = None
    synthetic: bool = False
    attribution: str = ""
    parts: tuple[tuple[str, str], ...] = ()
    sources: tuple[str, ...] = ()
    label_en: str = ""
    water: gpd.GeoDataFrame | None = None
    extra: Mapping[str, gpd.GeoDataFrame] = field(default_factory=dict)
    criteria: Mapping[str, Any] = field(default_factory=dict)
    validation: tuple[Any, ...] = ()
    datums: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    network_edits: pd.DataFrame | None = None

    def name(self, lang: str) -> str:
        """The study's name in ``lang`` (the English one when given, else ``label``)."""
        return self.label_en if lang == "en" and self.label_en else self.label

    @property
    def key(self) -> str:
        """Cache key of the whole study."""
        return "|".join(f"{k}={v}" for k, v in self.parts)

    def with_part(self, part: str, token: str, **changes: Any) -> Study:
        """A copy with one component replaced and its token updated."""
        parts = tuple((k, token if k == part else v) for k, v in self.parts)
        if part not in dict(self.parts):
            parts = (*parts, (part, token))
        return replace(self, parts=parts, **changes)


def demo_study(name: str = "synthetic") -> Study:
    """The embedded demo ``name`` ("synthetic" or "helsinki") as a study.

    Parameters
    ----------
    name
        Demo name (see :func:`study.demo.load_demo`; demos are cached, so this is cheap after the
        first call).

    Returns
    -------
    Study
    """
    from study.demo import load_demo

    demo = load_demo(name)
    return Study(
        label=demo.label_zh,
        label_en=demo.label_en,
        network=demo.network,
        facilities=demo.facilities,
        demand=demo.demand,
        boundary=demo.boundary,
        communities=demo.communities,
        synthetic=bool(demo.synthetic),
        attribution=str(demo.attribution or ""),
        parts=(
            ("network", f"demo:{name}"),
            ("facilities", f"demo:{name}"),
            ("demand", f"demo:{name}"),
        ),
        sources=(f"demo:{name}",),
        water=demo.extra.get("river"),
        extra={k: v for k, v in demo.extra.items() if k != "river"},
    )


def digest(data: bytes) -> str:
    """Short content hash of bytes (a cache key)."""
    return hashlib.sha256(data).hexdigest()[:16]


def frame_token(gdf: pd.DataFrame) -> str:
    """Content hash of a (Geo)DataFrame, for cache keys."""
    h = hashlib.sha256()
    h.update(
        pd.util.hash_pandas_object(
            pd.DataFrame(gdf).drop(columns="geometry", errors="ignore"), index=True
        ).values.tobytes()
    )
    if isinstance(gdf, gpd.GeoDataFrame):
        h.update(b"".join(gdf.geometry.to_wkb()))
    return h.hexdigest()[:16]


def network_token(network: Network) -> str:
    """Content hash of a network's nodes, edges and lengths, for cache keys."""
    h = hashlib.sha256(str(network.crs).encode())
    for arr in (network.x, network.y, network.u, network.v, network.length):
        h.update(arr.tobytes())
    return h.hexdigest()[:16]
