"""The Data page's sections: study area and network, facility upload, demand source.

Each section reads its widgets, calls the core loaders through :mod:`ui.state` (cached on the
uploaded bytes) and replaces one part of the session's :class:`~ui.state.Dataset`.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from geo.columns import ColumnMapping
from geo.messages import localise
from geo.taxonomy import categories
from ui import state
from ui.widgets import category_name, labeller, seed, seed_choice, tr

logger = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
TABLE_TYPES = ["csv", "txt", "tsv", "xlsx", "xls", "geojson", "json", "zip", "gpkg"]
NETWORK_TYPES = ["osm", "pbf", "graphml", "zip", "gpkg", "geojson"]
CRS_OPTIONS = ["wgs84", "gcj02", "bd09"]
SOURCES = ["synthetic", "helsinki", "place", "upload"]
DEMAND_KINDS = ["keep", "buildings", "table", "grid"]
FACILITY_COLUMNS = ["facility_id", "name", "category", "capacity", "source"]
REPORT = "facility_report"


def empty_facilities() -> gpd.GeoDataFrame:
    """A facilities frame with the contract's columns and no rows."""
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in FACILITY_COLUMNS})
    frame["capacity"] = frame["capacity"].astype("float64")
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)


def _hull_wgs84(network: Any) -> Any:
    hull = network.edges_gdf().union_all().convex_hull
    return gpd.GeoSeries([hull], crs=network.crs).to_crs(WGS84).iloc[0]


# --------------------------------------------------------------------------------------------
# Network
# --------------------------------------------------------------------------------------------


def network_section() -> None:
    """Choose the study area: a demo, a place name or an uploaded network file."""
    st.subheader(tr("ui.data.area"))
    source = st.radio(
        tr("ui.data.source"),
        SOURCES,
        format_func=labeller(lambda s: tr(f"ui.data.src.{s}"), SOURCES),
        horizontal=True,
        key=seed("data_source", _current_source()),
    )
    if source in ("synthetic", "helsinki"):
        if st.button(tr("ui.data.load"), key="data_load_demo", type="primary"):
            with st.spinner(tr("ui.data.loading")):
                state.set_dataset(state.demo_dataset(source))
            _forget_reports()
            st.rerun()
        return
    c1, c2 = st.columns([3, 1])
    mode = c2.selectbox(
        tr("ui.data.mode"),
        ["walk", "bike"],
        format_func=labeller(lambda m: tr(f"ui.data.mode.{m}"), ["walk", "bike"]),
        key=seed("data_mode", "walk"),
    )
    total = c2.number_input(
        tr("ui.data.demand.total"),
        1_000,
        5_000_000,
        step=1_000,
        key=seed("data_total", 50_000),
        help=tr("ui.data.total.help"),
    )
    if source == "place":
        place = c1.text_input(tr("ui.data.place"), key=seed("data_place", ""))
        clicked = st.button(tr("ui.data.load"), key="data_load_place", type="primary")
        if clicked and not place.strip():
            st.info(tr("ui.data.place_empty"))
        if clicked and place.strip():
            with st.spinner(tr("ui.data.loading")):
                network = state.network_from_place(place, mode=mode)
                _use_network(
                    network,
                    osm_source=place.strip(),
                    label=place.strip(),
                    token=f"place:{place.strip()}:{mode}",
                    total=float(total),
                )
            st.rerun()
        return
    upload = c1.file_uploader(tr("ui.data.network_file"), type=NETWORK_TYPES, key="data_net_file")
    if upload is not None and st.button(tr("ui.data.load"), key="data_load_file", type="primary"):
        data = upload.getvalue()
        with st.spinner(tr("ui.data.loading")):
            network, facilities = state.network_from_upload(upload.name, data, mode=mode)
            _use_network(
                network,
                osm_source=None,
                facilities=facilities,
                label=upload.name,
                token=f"file:{state.digest(data)}:{mode}",
                total=float(total),
            )
        st.rerun()


def _current_source() -> str:
    ds = st.session_state.get(state.DATASET)
    if ds is None:
        return "synthetic"
    net = dict(ds.parts).get("network", "")
    if net.startswith("demo:"):
        return net.split(":", 1)[1]
    return "place" if net.startswith("place:") else "upload"


def _use_network(
    network: Any,
    *,
    osm_source: str | None,
    label: str,
    token: str,
    total: float,
    facilities: gpd.GeoDataFrame | None = None,
) -> None:
    if facilities is None:
        facilities = empty_facilities()
    if osm_source is not None:
        try:
            from geo.osm_features import facilities_from_osm

            facilities = facilities_from_osm(osm_source)
        except Exception as exc:  # the network is still usable without POIs
            logger.warning("no OSM facilities for %s: %s", osm_source, exc)
            st.warning(str(exc))
    demand = _grid_demand(network, total=total, cell_m=None)
    ds = state.Dataset(
        label=label,
        network=network,
        facilities=facilities,
        demand=demand,
        attribution="© OpenStreetMap contributors",
        parts=(
            ("network", token),
            ("facilities", f"{token}:osm"),
            ("demand", f"{token}:grid:{total:g}"),
        ),
        sources=(label,),
    )
    state.set_dataset(ds)
    _forget_reports()


def _forget_reports() -> None:
    """Validation reports belong to the previous study area once another one is loaded."""
    for key in (REPORT, "demand_report"):
        st.session_state.pop(key, None)


def _grid_demand(
    network: Any, *, total: float, cell_m: float | None, area: Any = None
) -> gpd.GeoDataFrame:
    from geo.demand import demand_grid

    kwargs: dict[str, Any] = {"total_population": float(total)}
    if cell_m:
        kwargs["cell_m"] = float(cell_m)
    demand, _report = demand_grid(area if area is not None else _hull_wgs84(network), **kwargs)
    return demand


# --------------------------------------------------------------------------------------------
# Facilities
# --------------------------------------------------------------------------------------------


def _pick(label_key: str, columns: list[str], detected: str | None, key: str) -> str | None:
    options = ["", *columns]
    value = st.selectbox(
        tr(label_key),
        options,
        key=seed(key, detected if detected in options else ""),
        format_func=labeller(lambda c: c or tr("ui.data.col.none"), options),
    )
    return value or None


def facility_mapping(prefix: str, upload: Any) -> tuple[bytes, tuple[tuple[str, Any], ...]] | None:
    """Preview an uploaded facility file and return its bytes and the chosen loader options."""
    from geo.columns import detect_columns

    data = upload.getvalue()
    token = state.digest(data)
    frame, info = state.read_upload_table(token, upload.name, data)
    st.caption(
        f"{info.format.upper()} · {tr('ui.data.rows', n=len(frame))}"
        + (f" · {info.encoding}" if info.encoding else "")
    )
    st.markdown(f"**{tr('ui.data.preview')}**")
    st.dataframe(frame.head(20), width="stretch", key=f"{prefix}_preview")
    columns = [str(c) for c in frame.columns if c != "geometry"]
    is_gis = info.format in ("geojson", "shp", "gpkg")
    try:
        detected = detect_columns(
            columns,
            frame=frame[columns],
            roles=("coord", "wkt", "lon", "lat", "id", "category", "capacity", "name"),
            label=upload.name,
        )
    except Exception as exc:  # detection is only a default; the user picks
        logger.info("column detection failed on %s: %s", upload.name, exc)
        detected = {}
    st.markdown(f"**{tr('ui.data.mapping')}**")
    cols = st.columns(5)
    picks: dict[str, str | None] = {}
    roles = [
        ("name", "ui.data.col.name"),
        ("category", "ui.data.col.category"),
        ("capacity", "ui.data.col.capacity"),
    ]
    if not is_gis:
        roles = [("lon", "ui.data.col.lon"), ("lat", "ui.data.col.lat"), *roles]
    for col, (role, key) in zip(cols, roles, strict=False):
        with col:
            picks[role] = _pick(key, columns, detected.get(role), f"{prefix}_{role}_{token}")
    c1, c2 = st.columns(2)
    ds = state.dataset()
    crs = crs_choice(
        f"{prefix}_crs",
        upload.name,
        data,
        where=c1,
        network=ds.network,
        network_token=str(dict(ds.parts).get("network", "")),
        columns={k: v for k, v in picks.items() if k in ("lon", "lat") and v},
    )
    category = c2.selectbox(
        tr("ui.data.category"), **_category_widget(prefix, token, picks, upload)
    )
    chosen = {r: picks[r] for r in ("lon", "lat", "name", "category", "capacity") if picks.get(r)}
    if not is_gis and not picks.get("lon") and detected.get("coord"):
        chosen["coord"] = detected["coord"]
    if not is_gis and not picks.get("lon") and detected.get("wkt"):
        chosen["wkt"] = detected["wkt"]
    if detected.get("id"):
        chosen["id"] = detected["id"]
    options: dict[str, Any] = {
        "crs": crs,
        "category": category or None,
        "columns": ColumnMapping(**chosen),
    }
    return data, tuple(sorted(options.items()))


def _category_widget(
    prefix: str, token: str, picks: dict[str, str | None], upload: Any
) -> dict[str, Any]:
    """Options, default and labels of the facility-category select box.

    "" means "take the category from the file": from the category column when one is picked,
    else inferred from the names. With neither column there is nothing to take it from, so the
    box offers only real categories. The default is never "by category column" without one:
    the category the file name suggests (养老院.xlsx), else inference from names, else the first.
    """
    from pathlib import Path

    from geo.taxonomy import match_category

    cats = list(categories())
    guess = match_category(Path(str(upload.name)).stem.strip())
    if picks.get("category"):
        options, default, empty = ["", *cats], "", tr("ui.data.category.from_column")
    elif picks.get("name"):
        options, empty = ["", *cats], tr("ui.data.category.from_names")
        default = guess or ""
    else:
        options, empty = cats, ""
        default = guess or cats[0]
    # One key per situation, so picking a category column later brings back its own default.
    situation = "col" if picks.get("category") else "name" if picks.get("name") else "none"
    key = seed_choice(f"{prefix}_cat_{token}_{situation}", default, options)
    return {
        "options": options,
        "key": key,
        "format_func": labeller(lambda k: category_name(k) if k else empty, options),
    }


def crs_choice(
    key: str,
    name: str,
    data: bytes,
    *,
    where: Any = st,
    network: Any = None,
    network_token: str = "",
    columns: dict[str, str] | None = None,
) -> str:
    """The coordinate-system radio of an uploaded table, pre-set before the file is applied.

    A datum named in the column headers (高德经度 …) wins; otherwise, with a ``network``, the
    datum that fits the streets decisively (:func:`geo.facilities.detect_datum`) is pre-selected
    and a caption says why. The planner can still change it.
    """
    token = state.digest(data)
    frame, _ = state.read_upload_table(token, name, data)
    named = _named_datum(frame)
    guess = named or "wgs84"
    note = None
    if named is None and network is not None:
        choice = detected_datum(name, data, network, network_token, columns or {})
        if choice is not None:
            guess = choice.used
            note = choice.reason
    value = str(
        where.radio(
            tr("ui.data.crs"),
            CRS_OPTIONS,
            format_func=labeller(lambda c: tr(f"ui.data.crs.{c}"), CRS_OPTIONS),
            horizontal=True,
            key=seed(f"{key}_{token}", guess),
        )
    )
    if note:
        where.caption(in_language(note))
    return value


def _named_datum(frame: pd.DataFrame) -> str | None:
    from geo.facilities import datum_named_in

    return datum_named_in(" ".join(str(c) for c in frame.columns))


def detected_datum(
    name: str, data: bytes, network: Any, network_token: str, columns: dict[str, str]
) -> Any:
    """The network-fit datum of an uploaded facility table (cached), or ``None``.

    The file is read once as WGS-84 (no conversion: the points are the raw coordinates) and
    :func:`geo.facilities.detect_datum` compares the fit of each datum.
    """
    from geo.errors import CoverageToolError
    from geo.facilities import detect_datum, load_facilities

    def build() -> Any:
        try:
            probe, _ = load_facilities(
                data,
                name=name,
                crs="wgs84",
                # Any category: it does not change where the points are.
                category=next(iter(categories())),
                columns=ColumnMapping(lon=columns.get("lon"), lat=columns.get("lat")),
            )
        except CoverageToolError as exc:
            logger.info("datum detection skipped for %s: %s", name, exc)
            return None
        return detect_datum(probe, network)

    key = (state.digest(data), network_token, tuple(sorted(columns.items())))
    return state.cached("datum_fit", key, build)


def facility_section() -> None:
    """Upload facilities with preview, column mapping, CRS and category; show the report."""
    st.subheader(tr("ui.data.facilities"))
    upload = st.file_uploader(tr("ui.data.facility_file"), type=TABLE_TYPES, key="fac_file")
    if upload is not None:
        _facility_upload(upload)
    report = st.session_state.get(REPORT)
    if report is not None:
        validation_report(report)


def _facility_upload(upload: Any) -> None:
    """Mapping, options and the apply button of an uploaded facility file."""
    if upload is not None:
        mapped = facility_mapping("fac", upload)
        if mapped is not None:
            data, options = mapped
            hows = ["replace_categories", "replace", "add"]
            how = st.radio(
                tr("ui.data.how"),
                hows,
                horizontal=True,
                key=seed("fac_how", "replace_categories"),
                format_func=labeller(lambda h: tr(f"ui.data.{h}"), hows),
            )
            if scenarios_exist():
                st.warning(tr("ui.data.clears_scenarios"))
            if st.button(tr("ui.data.apply_facilities"), type="primary", key="fac_apply"):
                ds = state.dataset()
                with st.spinner(tr("ui.data.loading_facilities")):
                    gdf, report = state.load_facilities_upload(
                        state.digest(data),
                        upload.name,
                        options,
                        dict(ds.parts).get("network", ""),
                        data,
                        ds.network,
                    )
                st.session_state[REPORT] = report
                _use_facilities(
                    gdf, how=how, token=f"{state.digest(data)}:{hash(options) & 0xFFFFFFFF:x}"
                )
                flash(tr("ui.data.facilities_applied", n=len(gdf)))


FLASH = "_data_flash"


def flash(message: str) -> None:
    """Show ``message`` after rerunning the page, so the summary above shows the new data."""
    st.session_state[FLASH] = message
    st.rerun()


def show_flash() -> None:
    """Show (once) the message left by :func:`flash`."""
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(message)


def scenarios_exist() -> bool:
    """True when applying new data would discard saved scenarios or trial sites."""
    return bool(st.session_state.get(state.SCENARIOS) or st.session_state.get(state.TRIAL_SITES))


def _use_facilities(gdf: gpd.GeoDataFrame, *, how: str, token: str) -> None:
    """Apply uploaded facilities: replace all, replace the categories in the file, or add."""
    ds = state.dataset()
    replace = how == "replace"
    if replace:
        facilities = gdf
    else:
        keep = ds.facilities
        if how == "replace_categories":
            keep = keep[~keep["category"].isin(set(gdf["category"]))]
        facilities = gpd.GeoDataFrame(
            pd.concat([keep, gdf], ignore_index=True), geometry="geometry", crs=WGS84
        )
        dup = facilities["facility_id"].duplicated(keep=False)
        if dup.any():
            facilities.loc[dup, "facility_id"] = [
                f"{i}:{fid}"
                for i, fid in zip(
                    np.flatnonzero(dup), facilities.loc[dup, "facility_id"], strict=True
                )
            ]
    prev = dict(ds.parts).get("facilities", "")
    new_token = token if replace else f"{prev}+{how}:{token}"
    state.set_dataset(ds.with_part("facilities", new_token, facilities=facilities))


def validation_report(report: Any) -> None:
    """Show a loader's ``ValidationReport``: counts, warnings, suggestion, rejected rows."""
    with st.expander(tr("ui.data.validation"), expanded=True):
        st.markdown(
            tr(
                "ui.data.validation.summary",
                n_read=report.n_read,
                n_ok=report.n_ok,
                n_rej=len(report.rejected),
                encoding=report.encoding or "–",
                crs=report.crs_in,
            )
        )
        for warning in report.warnings:
            st.warning(localise(warning, state.lang()))
        if getattr(report, "suggestion", None):
            st.info(in_language(report.suggestion))
        if len(report.rejected):
            st.markdown(f"**{tr('ui.data.rejected')}**")
            st.dataframe(
                rejected_table(report.rejected),
                hide_index=True,
                width="stretch",
                key="fac_rejected",
            )


def in_language(text: str) -> str:
    """A loader message in the interface language (plain text is shown as it is)."""
    return localise(text, state.lang())


def rejected_table(rejected: pd.DataFrame) -> pd.DataFrame:
    """Rejected rows with labelled columns and reasons in the interface language."""
    out = rejected.copy()
    if "reason" in out:
        lang = state.lang()
        out["reason"] = out["reason"].map(lambda r: localise(r, lang))
    names = {c: tr(f"ui.rej.{c}") for c in ("row", "column", "value", "reason") if c in out}
    return out.rename(columns=names)


def candidate_upload(*, category: str) -> gpd.GeoDataFrame | None:
    """Upload candidate sites on the Sites page (same format as facilities)."""
    upload = st.file_uploader(tr("ui.sites.cand_file"), type=TABLE_TYPES, key="cand_file")
    if upload is None:
        return None
    data = upload.getvalue()
    crs = crs_choice("cand_crs", upload.name, data)
    options = (("category", category), ("crs", crs))
    ds = state.dataset()
    gdf, report = state.load_facilities_upload(
        state.digest(data),
        upload.name,
        options,
        dict(ds.parts).get("network", ""),
        data,
        ds.network,
    )
    if len(report.rejected) or report.warnings or getattr(report, "suggestion", None):
        validation_report(report)
    return gdf


# --------------------------------------------------------------------------------------------
# Demand
# --------------------------------------------------------------------------------------------


def demand_section() -> None:
    """Choose the demand: keep the current points, buildings + total, a table or a grid."""
    st.subheader(tr("ui.data.demand"))
    kind = st.radio(
        tr("ui.data.demand.source"),
        DEMAND_KINDS,
        format_func=labeller(lambda k: tr(f"ui.data.demand.{k}"), DEMAND_KINDS),
        horizontal=True,
        key=seed("dem_kind", "keep"),
    )
    if kind == "keep":
        return
    ds = state.dataset()
    total = None
    if kind in ("buildings", "grid"):
        pop = float(pd.to_numeric(ds.demand["population"], errors="coerce").sum())
        total = st.number_input(
            tr("ui.data.demand.total"),
            100,
            10_000_000,
            step=1000,
            key=seed("dem_total", round(pop) or 50_000),
        )
    upload = None
    crs = "wgs84"
    if kind in ("buildings", "table"):
        upload = st.file_uploader(
            tr("ui.data.demand.file"), type=TABLE_TYPES, key=f"dem_file_{kind}"
        )
    if kind == "table" and upload is not None:
        crs = crs_choice("dem_crs", upload.name, upload.getvalue())
    cell = None
    if kind == "grid":
        from geo import settings

        cell = st.number_input(
            tr("ui.data.demand.cell"),
            25,
            1000,
            step=25,
            key=seed("dem_cell", int(settings.demand_grid_cell_m)),
        )
    ready = kind == "grid" or upload is not None
    if ready and st.button(tr("ui.data.demand.apply"), type="primary", key="dem_apply"):
        with st.spinner(tr("ui.data.loading")):
            demand, token, report = _build_demand(ds, kind, upload, total, cell, crs=crs)
        st.session_state["demand_report"] = report
        state.set_dataset(ds.with_part("demand", token, demand=demand))
        pop = float(pd.to_numeric(demand["population"], errors="coerce").sum())
        flash(tr("ui.data.demand.applied", n=len(demand), pop=pop))
    report = st.session_state.get("demand_report")
    if report is not None and (
        len(getattr(report, "rejected", []))
        or report.warnings
        or getattr(report, "suggestion", None)
    ):
        validation_report(report)
    if report is not None:
        excluded_buildings_report(report)


def excluded_buildings_report(report: Any) -> None:
    """Which footprints the home rules left without residents: a table per rule and a map."""
    table = getattr(report, "exclusions", None)
    if table is None or table.empty:
        return
    import folium

    from maps.layers import excluded_buildings_layer
    from ui.widgets import show_map

    zh = state.lang() == "zh"
    title = "未计居民的建筑（非住宅规则）" if zh else "Buildings without residents (home rules)"
    with st.expander(title, expanded=False):
        st.caption(
            "规则见 data/demand_rules.toml；可用 [demand] include_building / "
            "exclude_building 调整。"
            if zh
            else "Rules in data/demand_rules.toml; adjust with [demand] include_building / "
            "exclude_building."
        )
        shown = table.assign(area_m2=table["area_m2"].round(0))
        if zh:
            shown = shown.rename(
                columns={"rule": "规则", "n_buildings": "建筑数", "area_m2": "占地面积（m²）"}
            )
        st.dataframe(shown, hide_index=True, width="stretch", key="dem_exclusions")
        excluded = getattr(report, "excluded", None)
        if excluded is not None and len(excluded):
            bounds = excluded.total_bounds
            fmap = folium.Map(tiles=None, control_scale=True)
            excluded_buildings_layer(excluded, lang=state.lang()).add_to(fmap)
            fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
            show_map(fmap, key="dem_excluded_map", height=360)


def _build_demand(
    ds: state.Dataset,
    kind: str,
    upload: Any,
    total: float | None,
    cell: float | None,
    *,
    crs: str = "wgs84",
) -> tuple[gpd.GeoDataFrame, str, Any]:
    from geo import demand as dem

    if kind == "grid":
        area = ds.boundary.union_all() if ds.boundary is not None and len(ds.boundary) else None
        demand = _grid_demand(ds.network, total=float(total or 0), cell_m=cell, area=area)
        return demand, f"grid:{total}:{cell}", None
    data = upload.getvalue()
    token = state.digest(data)
    if kind == "table":
        demand, report = dem.demand_from_table(data, name=upload.name, crs=crs)
        return demand, f"table:{token}:{crs}", report
    from geo.tables import read_table

    buildings, _info = read_table(data, name=upload.name)
    demand, report = dem.demand_from_buildings(buildings, total_population=float(total or 0))
    return demand, f"buildings:{token}:{total}", report
