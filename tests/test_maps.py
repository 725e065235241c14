"""Folium maps: offline assets, escaped popups, expected layers, basemaps and datum shift."""

from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.datum import from_wgs84
from geo.errors import ConfigError, InputDataError
from geo.network import lattice_network
from geo.taxonomy import get_category
from maps.assets import VENDOR_DIR, VENDORED, AssetError, asset_links, localize_assets
from maps.basemaps import to_basemap_datum
from maps.layers import coverage_map

EVIL = "<script>alert(1)</script>"
CDN_HOSTS = (
    "cdn.jsdelivr.net",
    "cdnjs.cloudflare.com",
    "unpkg.com",
    "code.jquery.com",
    "netdna.bootstrapcdn.com",
    "d3js.org",
    "maxcdn.bootstrapcdn.com",
    "fonts.googleapis.com",
)
# A URL the browser would fetch while loading the page: script/img sources, <link href>, CSS
# url() and @import. Hyperlinks (<a href>, e.g. Leaflet's own attribution link) fetch nothing.
RESOURCE_URL = re.compile(
    r"""(?:\bsrc\s*=\s*\\?["']?|<link\b[^>]*\bhref\s*=\s*["']?|url\(\s*["']?|@import\s+["']?)"""
    r"""(https?:)?//""",
    re.I,
)


def sample_layers() -> dict:
    """Small hand-made frames in the CONTRACTS.md schemas around Hangzhou (inside China)."""
    net = lattice_network(8, 8, spacing=100.0, origin=(210_000.0, 3_350_000.0), crs="EPSG:32651")
    edges = net.edges_gdf(to_crs="EPSG:4326")
    x0, y0, x1, y1 = edges.total_bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": ["f1", "f2", "f3"],
            "name": [EVIL, "阳光助餐点", "社区卫生服务站 & <b>诊所</b>"],
            "category": ["elderly_canteen", "elderly_canteen", "health_station"],
            "capacity": [40.0, np.nan, 3.0],
            "source": ["test", "test", "test"],
        },
        geometry=gpd.points_from_xy([x0 + 0.001, x1 - 0.001, cx], [y0 + 0.001, y1 - 0.001, cy]),
        crs="EPSG:4326",
    )
    rng = np.random.default_rng(1)
    n = 60
    demand = gpd.GeoDataFrame(
        {
            "demand_id": [f"d{i}" for i in range(n)],
            "population": rng.integers(10, 300, n).astype(float),
            "elderly": rng.integers(0, 60, n).astype(float),
            "community": ["东苑社区"] * (n // 2) + ["西苑社区"] * (n - n // 2),
            "kind": ["building"] * n,
        },
        geometry=gpd.points_from_xy(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)),
        crs="EPSG:4326",
    )
    rings = []
    fac = facilities
    for fid, cat, pt in zip(fac.facility_id, fac.category, fac.geometry, strict=True):
        for thr, minutes, r in ((300.0, 5.0, 0.0015), (700.0, 12.0, 0.003)):
            rings.append((cat, fid, "facility", thr, minutes, pt.buffer(r, 32)))
    for cat in ("elderly_canteen", "health_station"):
        for thr, minutes in ((300.0, 5.0), (700.0, 12.0)):
            geom = shapely.union_all([g for c, _, _, t, _, g in rings if c == cat and t == thr])
            rings.append((cat, "", "dissolved", thr, minutes, geom))
    sa = gpd.GeoDataFrame(
        pd.DataFrame(
            rings, columns=["category", "facility_id", "kind", "threshold_m", "minutes", "geometry"]
        ),
        geometry="geometry",
        crs="EPSG:4326",
    )
    sa["area_m2"] = sa.to_crs("EPSG:32651").area
    gaps = gpd.GeoDataFrame(
        {
            "gap_id": ["g1", "g2"],
            "rank": [1, 2],
            "category": ["elderly_canteen", "health_station"],
            "uncovered_population": [1200.0, 300.0],
            "uncovered_elderly": [200.0, 40.0],
            "n_points": [12, 4],
            "nearest_facility_m": [950.0, 820.0],
            "communities": ["东苑社区", "西苑社区<img src=x onerror=alert(2)>"],
            "area_m2": [50_000.0, 20_000.0],
        },
        geometry=[
            shapely.box(cx, cy, cx + 0.002, cy + 0.002),
            shapely.box(cx - 0.002, cy - 0.002, cx, cy),
        ],
        crs="EPSG:4326",
    )
    sites = gpd.GeoDataFrame(
        {
            "rank": [1, 2],
            "name": ["候选点 A", "候选点 B"],
            "category": ["elderly_canteen", "elderly_canteen"],
            "lon": [cx + 0.001, cx - 0.001],
            "lat": [cy + 0.001, cy - 0.001],
            "added_population": [1234.0, 456.0],
        },
        geometry=gpd.points_from_xy([cx + 0.001, cx - 0.001], [cy + 0.001, cy - 0.001]),
        crs="EPSG:4326",
    )
    return {
        "facilities": facilities,
        "demand": demand,
        "service_areas": sa,
        "gaps": gaps,
        "sites": sites,
        "network_edges": edges,
    }


@pytest.fixture(scope="module")
def layers() -> dict:
    return sample_layers()


def render(m: folium.Map) -> str:
    """The map's HTML with folium's JSON ``\\uXXXX`` escapes decoded, as the browser reads it."""
    page = m.get_root().render()
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g.group(1), 16)), page)


def assert_offline(page: str) -> None:
    for host in CDN_HOSTS:
        assert host not in page, host
    assert not RESOURCE_URL.search(page), RESOURCE_URL.search(page)


@pytest.mark.parametrize("basemap", ["none", "osm", "amap", "tianditu"])
@pytest.mark.parametrize("asset_mode", ["static", "inline"])
def test_map_loads_nothing_from_a_cdn(layers, basemap, asset_mode):
    m = coverage_map(
        **layers, basemap=basemap, asset_mode=asset_mode, title="测试", tianditu_key="k"
    )
    page = render(m)
    assert_offline(page)
    if asset_mode == "static":
        assert '<script src="/app/static/vendor/leaflet/leaflet.js">' in page
        assert "/app/static/vendor/leaflet.heat/leaflet-heat.js" in page
        # Tiles are the only URLs allowed, and the offline basemap has none at all.
        urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
        if basemap == "none":
            assert urls == set()
        else:
            assert urls and all(
                u.startswith(("https://tile.openstreetmap.org", "https://www.openstreetmap.org"))
                or "autonavi.com" in u
                or "tianditu.gov.cn" in u
                for u in urls
            ), urls
    else:
        assert "<script src=" not in page
        assert "L.heatLayer" in page  # leaflet.heat's code is in the page itself
        assert "Leaflet 1.9.4" in page


def test_every_plugin_asset_points_at_a_vendored_file(layers):
    m = coverage_map(**layers, static_prefix="/static")
    links = asset_links(m)
    assert {name for _, name, _ in links} == {"leaflet", "leaflet_css", "leaflet-heat.js"}
    for _, name, url in links:
        assert url == f"/static/{VENDORED[name]}"
        assert (VENDOR_DIR.parent / VENDORED[name]).is_file()
    for pkg in ("leaflet", "leaflet.heat", "jquery", "bootstrap", "fontawesome"):
        assert any((VENDOR_DIR / pkg).glob("LICENSE*")), pkg
    assert not list(VENDOR_DIR.rglob("*.map"))


def test_folium_defaults_are_vendored_when_icons_are_used():
    m = folium.Map(tiles=None)
    folium.Marker([30, 120], icon=folium.Icon(prefix="fa", icon="home")).add_to(m)
    localize_assets(m)
    names = {name for _, name, _ in asset_links(m)}
    assert {"jquery", "bootstrap", "awesome_markers", "awesome_markers_font_css"} <= names
    page = render(m)
    assert_offline(page)
    # Inline mode embeds the Font Awesome fonts and Leaflet images as data URIs.
    page = render(localize_assets(m, mode="inline"))
    assert_offline(page)
    assert "data:font/woff2;base64," in page
    assert "data:image/png;base64," in page


def test_jquery_is_kept_only_when_folium_needs_it(layers):
    # folium.Popup builds its content with $(...): without jQuery the map script stops there.
    m = folium.Map(tiles=None)
    folium.Marker([30, 120], popup=folium.Popup("<b>x</b>")).add_to(m)
    localize_assets(m)
    assert "jquery" in {name for _, name, _ in asset_links(m)}
    m = coverage_map(**layers)
    assert "jquery" not in {name for _, name, _ in asset_links(m)}
    assert "$(" not in render(m)


def test_unvendored_plugin_is_an_error_naming_the_fix():
    m = folium.Map(tiles=None)
    folium.plugins.Fullscreen().add_to(m)
    with pytest.raises(AssetError, match=r"vendor_assets\.sh"):
        localize_assets(m)


def test_popups_are_escaped(layers):
    page = render(coverage_map(**layers))
    assert EVIL not in page
    assert "<b>诊所</b>" not in page
    assert "onerror=alert(2)>" not in page
    # The names are there as text: HTML-escaped values that the popup code only concatenates.
    assert '"t": "&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert '"tip": "&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert "社区卫生服务站 &amp; &lt;b&gt;诊所&lt;/b&gt;" in page
    assert "西苑社区&lt;img src=x onerror=alert(2)&gt;" in page


def test_expected_layers_legend_scale_and_north_arrow(layers):
    page = render(coverage_map(**layers, title="示范街道", subtitle="合成示范数据"))
    for name in (
        "设施 · 老年食堂/助餐点",
        "设施 · 社区卫生服务站/中心",
        "服务范围 · 老年食堂/助餐点",
        "服务范围 · 社区卫生服务站/中心",
        "覆盖缺口",
        "居民分布（密度）",
        "建议新增选址",
        "路网底图（离线）",
    ):
        assert name in page, name
    assert '"lcc-control lcc-legend"' in page
    assert '"lcc-control lcc-north"' in page
    assert '"lcc-control lcc-title"' in page
    assert "示范街道" in page and "合成示范数据" in page
    assert "L.control.scale({imperial: false" in page
    assert "L.control.layers" in page
    assert "L.heatLayer" in page
    assert "+1,234 人" in page
    assert get_category("elderly_canteen").color in page
    assert get_category("health_station").glyph in page


def test_english_labels(layers):
    page = render(coverage_map(**layers, lang="en"))
    assert "Facilities · Elderly canteen / meal-aid point" in page
    assert "Coverage gaps" in page
    assert "+1,234 residents" in page
    assert "覆盖缺口" not in page


def test_category_filter(layers):
    page = render(coverage_map(**layers, categories=["health_station"]))
    assert "设施 · 社区卫生服务站/中心" in page
    assert "设施 · 老年食堂/助餐点" not in page
    assert "服务范围 · 老年食堂/助餐点" not in page


def test_inputs_are_not_mutated(layers):
    before = {k: v.copy() for k, v in layers.items()}
    coverage_map(**layers, basemap="amap")
    for k, v in layers.items():
        pd.testing.assert_frame_equal(pd.DataFrame(v), pd.DataFrame(before[k]))


def test_amap_shifts_every_layer_to_gcj02(layers):
    fac = layers["facilities"]
    shifted = to_basemap_datum(fac, "amap")
    lon, lat = from_wgs84(fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy(), crs="gcj02")
    np.testing.assert_allclose(shifted.geometry.x, lon)
    np.testing.assert_allclose(shifted.geometry.y, lat)
    # The GCJ-02 offset in Hangzhou is a few hundred metres, mostly east-west.
    dx_m = (shifted.geometry.x - fac.geometry.x).abs().max() * 111_320 * np.cos(np.radians(30))
    assert 100 < dx_m < 1000
    np.testing.assert_allclose(to_basemap_datum(fac, "osm").geometry.x, fac.geometry.x)

    def coords(page: str) -> set[str]:
        return set(re.findall(r"\[(\d{3}\.\d{6}), (\d{2}\.\d{6})\]", page))

    x, y = fac.geometry.x.iloc[2], fac.geometry.y.iloc[2]
    gx, gy = lon[2], lat[2]
    osm_page = render(coverage_map(**layers, basemap="osm"))
    amap_page = render(coverage_map(**layers, basemap="amap"))
    assert (f"{x:.6f}", f"{y:.6f}") in coords(osm_page)
    assert (f"{gx:.6f}", f"{gy:.6f}") in coords(amap_page)
    assert (f"{x:.6f}", f"{y:.6f}") not in coords(amap_page)


def test_tianditu_without_key_says_how_to_fix(layers):
    with pytest.raises(ConfigError, match="LCC_TIANDITU_KEY"):
        coverage_map(**layers, basemap="tianditu", tianditu_key="")


def test_bad_inputs_are_reported(layers):
    with pytest.raises(ConfigError, match="basemap"):
        coverage_map(facilities=layers["facilities"], basemap="google")
    with pytest.raises(InputDataError, match="category"):
        coverage_map(facilities=layers["facilities"].drop(columns="category"))
    with pytest.raises(InputDataError, match="unknown key"):
        coverage_map(facilities=layers["facilities"], categories=["bakery"])


def test_facilities_only_map_and_empty_layers(layers):
    fac = layers["facilities"]
    page = render(coverage_map(facilities=fac, gaps=layers["gaps"].iloc[:0], sites=None))
    assert "设施 · 老年食堂/助餐点" in page
    assert "覆盖缺口" not in page
    assert_offline(page)


def test_network_layer_keeps_to_the_vertex_budget(monkeypatch):
    from geo import settings
    from maps.basemaps import network_layer

    # Wiggly streets (5 m amplitude, 1 m vertex spacing) around Hangzhou.
    x = np.linspace(0, 500, 501)
    lines = [
        shapely.LineString(np.column_stack([x, k * 100 + 5 * np.sin(x / 7)])) for k in range(20)
    ]
    edges = gpd.GeoDataFrame(geometry=lines, crs="EPSG:32651").to_crs("EPSG:4326")

    def n_coords(budget: int) -> int:
        monkeypatch.setattr(settings, "map_max_network_vertices", budget)
        group = network_layer(edges, name="路网")
        (gj,) = group._children.values()
        return len(
            shapely.get_coordinates(
                shapely.from_geojson(json.dumps(gj.data["features"][0]["geometry"]))
            )
        )

    full = n_coords(10**9)
    small = n_coords(200)
    assert full > 400  # 3 m simplification keeps the 5 m wiggles
    assert small <= 200 < full
    assert small >= 2 * len(lines)  # never below the line ends


def test_map_strings_are_read_from_the_catalogue():
    from maps.i18n import t

    assert t("maps.site_label", "zh", n=1234) == "+1,234 人"
    assert t("maps.site_label", "en", n=1234) == "+1,234 residents"
    assert t("no_such_key", "zh") == "no_such_key"


# --- reading the map at a glance (issue 10 §5) ---------------------------------------------------


def _trial(layers: dict) -> gpd.GeoDataFrame:
    fac = layers["facilities"]
    extra = fac.iloc[[0]].copy()
    extra["facility_id"] = "trial-1"
    extra["name"] = "试加点"
    extra["source"] = "edit"
    return gpd.GeoDataFrame(pd.concat([fac, extra], ignore_index=True), crs=fac.crs)


def _legend(page: str) -> str:
    """The legend control's HTML (its script follows the class name)."""
    start = page.index('"lcc-control lcc-legend"')
    return page[start : page.index("L.DomEvent", start)]


def test_density_is_drawn_beneath_the_service_areas(layers):
    page = render(coverage_map(**layers))
    # The heat canvas is moved to its own pane under the overlay pane (z 400), translucent.
    assert "createPane('lccHeat')" in page and "zIndex = 350" in page
    assert page.index("_lccBeneath") < page.index("L.heatLayer")


def test_trial_sites_have_their_own_symbol_and_legend_entry(layers):
    frames = {**layers, "facilities": _trial(layers)}
    page = render(coverage_map(**frames))
    assert "试加设施（假设）" in _legend(page)
    assert '"lcc-trial"' in page and "dashed" in page
    # Drawn once, as a trial site: not also as an existing facility.
    assert page.count("试加点") == 2  # the popup title and the tooltip of one marker
    english = render(coverage_map(**frames, lang="en"))
    assert "Trial sites (what-if)" in english
    plain = render(coverage_map(**layers))
    assert "试加设施" not in plain and '"lcc-trial"' not in plain


def test_proposed_sites_are_numbered_markers(layers):
    page = render(coverage_map(**layers))
    icons = re.findall(r'"icon": \{"className": "lcc-site", "html": "(.*?)", "iconAnchor"', page)
    assert len(icons) == 2, icons
    assert icons[0].endswith('">1</div>') and icons[1].endswith('">2</div>'), icons
    assert not any("★" in i for i in icons)  # no wide "+N 人" badges that overlap
    assert "#1 · +1,234 人 · 候选点 A" in page  # the residents stay in the tooltip
    assert "编号与选址表一致" in _legend(page)


def test_compare_changes_are_in_the_legend_above_the_density(layers):
    x0, y0, x1, y1 = layers["facilities"].total_bounds
    changes = gpd.GeoDataFrame(
        {"change": ["gained", "lost"], "population": [1500.0, 40.0]},
        geometry=[
            shapely.box(x0, y0, x0 + 0.001, y0 + 0.001),
            shapely.box(x1, y1, x1 + 0.001, y1 + 0.001),
        ],
        crs="EPSG:4326",
    )
    page = render(coverage_map(**layers, changes=changes))
    legend = _legend(page)
    assert "新增覆盖的居民（1,500 人）" in legend and "失去覆盖的居民（40 人）" in legend
    assert "#1a9850" in page and "#d73027" in page
    # Vector layers are in the overlay pane; the density is in the pane beneath it.
    assert "lccHeat" in page


def test_map_fits_the_study_area_and_keeps_the_layer_list_collapsed(layers):
    x0, y0, x1, y1 = layers["network_edges"].total_bounds
    boundary = gpd.GeoDataFrame(
        geometry=[shapely.box(x0 + 0.002, y0 + 0.002, x1 - 0.002, y1 - 0.002)], crs="EPSG:4326"
    )
    page = render(coverage_map(**layers, boundary=boundary))
    fit = re.search(r"bounds = (\[\[.*?\]\]);", page)
    assert fit, "no fit to the study area"
    (south, west), (north, east) = json.loads(fit.group(1))
    assert (west, south, east, north) == pytest.approx(
        (x0 + 0.002, y0 + 0.002, x1 - 0.002, y1 - 0.002), abs=1e-6
    )
    assert "paddingTopLeft" in page and "paddingBottomRight" in page
    assert '"zoomSnap": 0.25' in page
    assert '"collapsed": true' in page and '"collapsed": false' not in page
    assert "研究范围" in _legend(page) and "6 4" in page
    # Without a boundary the map fits the data.
    assert re.search(r"bounds = \[\[", render(coverage_map(**layers)))
