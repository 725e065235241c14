"""PostGIS source and sink against a real PostgreSQL + PostGIS server started for the tests."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pytest
import shapely
from _postgres import postgis_server

from geo.errors import InputDataError
from geo.postgis import (
    DatabaseError,
    is_database_url,
    read_postgis_layer,
    safe_url,
    write_postgis_layers,
)


@pytest.fixture(scope="module")
def pg() -> str:
    with postgis_server() as url:
        yield url


def _canteens() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"名称": ["幸福食堂", "=cmd|' /C calc'!A0", "长者餐桌"], "座位": [40, 25, np.nan]},
        geometry=gpd.points_from_xy([118.78, 118.79, 118.77], [32.04, 32.05, 32.03]),
        crs=4326,
    )


def test_layers_round_trip_and_a_rerun_replaces_the_previous_run(pg):
    facilities = _canteens()
    summary = pd.DataFrame({"category": ["elderly_canteen"], "coverage_rate": [0.372]})
    written = write_postgis_layers(
        f"{pg}?schema=lcc", {"facilities": facilities, "summary": summary, "sites": facilities}
    )
    assert written == ["lcc.facilities", "lcc.summary", "lcc.sites"]
    back = read_postgis_layer(f"{pg}?table=lcc.facilities")
    assert back.crs.to_epsg() == 4326
    assert list(back["名称"]) == list(facilities["名称"])
    assert shapely.equals_exact(back.geometry.values, facilities.geometry.values, 1e-12).all()
    # A second run without siting: its tables replace the first run's, sites included.
    write_postgis_layers(
        f"{pg}?schema=lcc", {"facilities": facilities.iloc[:1], "summary": summary}
    )
    with psycopg.connect(pg) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'lcc'"
            )
        }
    assert tables == {"facilities", "summary", "lcc_layers"}
    assert len(read_postgis_layer(f"{pg}?table=lcc.facilities")) == 1


def test_query_sources_and_projected_srids(pg):
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("CREATE TABLE poi (id int, kind text, geom geometry(Point, 4549))")
        # CGCS2000 3-degree Gauss-Kruger, central meridian 120° E (EPSG:4549), metres: a planning
        # institute's usual CRS. Easting 500,000 m is the central meridian.
        conn.execute(
            "INSERT INTO poi VALUES"
            " (1, 'canteen', ST_SetSRID(ST_MakePoint(500000, 3544000), 4549)),"
            " (2, 'clinic', ST_SetSRID(ST_MakePoint(501000, 3545000), 4549))"
        )
    gdf = read_postgis_layer(pg, sql="SELECT * FROM poi WHERE kind = 'canteen'")
    assert len(gdf) == 1 and gdf.crs.to_epsg() == 4326
    assert gdf.geometry.x.iloc[0] == pytest.approx(120.0, abs=1e-6)


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("{pg}", "say which rows to read"),
        ("{pg}?table=no_such_table", "reading failed"),
        ("{pg}?table=poi;drop", "not a plain SQL name"),
        (
            "postgresql://postgres:secret@127.0.0.1:1/lcc?table=t",
            r"postgres:\*\*\*@.*reading failed",
        ),
    ],
)
def test_bad_sources_are_named_errors(pg, url, match):
    with pytest.raises(DatabaseError, match=match) as info:
        read_postgis_layer(url.format(pg=pg))
    assert "secret" not in str(info.value)
    assert isinstance(info.value, InputDataError)


def test_a_failed_write_changes_nothing(pg):
    write_postgis_layers(f"{pg}?schema=keep", {"summary": pd.DataFrame({"a": [1]})})
    bad = pd.DataFrame({"a": [1]})
    with pytest.raises(DatabaseError, match="not a plain SQL name"):
        write_postgis_layers(f"{pg}?schema=keep", {"summary": bad, "bad name": bad})
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT count(*) FROM keep.summary").fetchone()[0] == 1


def test_url_helpers():
    assert is_database_url("postgresql://u@h/db?table=t") and not is_database_url("a.csv")
    assert safe_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"


def test_facilities_and_demand_load_straight_from_postgis(pg):
    from geo.demand import demand_from_table
    from geo.facilities import load_facilities

    canteens = _canteens()
    write_postgis_layers(f"{pg}?schema=src", {"canteens": canteens})
    gdf, report = load_facilities(f"{pg}?table=src.canteens", category="elderly_canteen")
    assert len(gdf) == 3 and report.n_ok == 3
    assert list(gdf["name"]) == list(canteens["名称"])
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE pop AS SELECT 1 AS id, 1200.0 AS 常住人口,"
            " ST_SetSRID(ST_MakePoint(118.78, 32.04), 4326) AS geom"
        )
    demand, _ = demand_from_table(f"{pg}?table=pop")
    assert demand["population"].sum() == pytest.approx(1200.0)
