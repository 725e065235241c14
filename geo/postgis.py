"""PostGIS as a source of facility and demand layers and as a sink for a run's layers.

Planning institutes keep their layers in PostGIS. A source is a URL naming a table or a query::

    postgresql://user@host:5432/db?table=public.canteens
    postgresql://user@host/db?sql=SELECT * FROM poi WHERE kind = 'canteen'

and a sink is a URL naming a schema (``postgresql://user@host/db?schema=lcc``). Reading and
writing go through geopandas (``read_postgis`` / ``to_postgis``) on SQLAlchemy with psycopg 3;
nothing here talks SQL that those libraries could. A sink write replaces the previous run's tables
in the schema in one transaction: readers never see half of one run and half of another.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import pandas as pd

from geo.errors import InputDataError
from geo.messages import msg

logger = logging.getLogger(__name__)

__all__ = [
    "DatabaseError",
    "is_database_url",
    "read_postgis_layer",
    "safe_url",
    "write_postgis_layers",
]

#: The table in a sink schema that lists what the last run wrote there.
RUN_TABLE = "lcc_layers"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class DatabaseError(InputDataError):
    """A database source or sink cannot be used (unreachable, no such table, bad URL)."""


def is_database_url(text: Any) -> bool:
    """True when ``text`` is a ``postgresql://`` (or ``postgres://``) URL."""
    return isinstance(text, str) and text.strip().lower().startswith(
        ("postgresql://", "postgres://", "postgresql+psycopg://")
    )


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _split(url: str) -> tuple[str, dict[str, str]]:
    """The SQLAlchemy URL (psycopg 3 driver) and our own query options."""
    parts = urlsplit(url.strip())
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    ours: dict[str, str] = {
        k: query.pop(k) for k in ("table", "sql", "schema", "geom") if k in query
    }
    scheme = "postgresql+psycopg"
    return urlunsplit(parts._replace(scheme=scheme, query=urlencode(query))), ours


def _engine(url: str) -> Any:
    import sqlalchemy

    return sqlalchemy.create_engine(url, pool_pre_ping=False, future=True)


def _what(kind: str) -> str:
    return {
        "table": msg("geo.postgis.table"),
        "schema": msg("geo.postgis.schema"),
        "layer": msg("geo.postgis.layer"),
    }.get(kind, kind)


def _identifier(name: str, what: str, url: str) -> str:
    if not _IDENT.match(name):
        raise DatabaseError(
            msg(
                "geo.postgis.bad_identifier",
                url=safe_url(url),
                what=_what(what),
                name=repr(name),
            )
        )
    return name


def _fail(url: str, exc: Exception, doing: str) -> DatabaseError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DatabaseError(
        msg(
            "geo.postgis.failed",
            url=safe_url(url),
            doing=msg("geo.postgis.reading") if doing == "reading" else msg("geo.postgis.writing"),
            error=first,
        )
    )


def read_postgis_layer(url: str, *, sql: str | None = None) -> gpd.GeoDataFrame:
    """Read a table or query from PostGIS into a WGS-84 GeoDataFrame.

    Parameters
    ----------
    url
        ``postgresql://user@host/db?table=schema.name`` or ``...?sql=SELECT ...``; ``geom=`` names
        the geometry column when a query returns several.
    sql
        A query (overrides ``sql=`` in the URL).

    Returns
    -------
    geopandas.GeoDataFrame
        The rows, with the geometry column's own CRS converted to WGS-84.

    Raises
    ------
    DatabaseError
        When the URL names no table or query, or the server cannot answer.
    """
    import sqlalchemy

    db_url, opts = _split(url)
    query = sql or opts.get("sql")
    if not query:
        table = opts.get("table")
        if not table:
            raise DatabaseError(msg("geo.postgis.no_table", url=safe_url(url)))
        names = [_identifier(p, "table", url) for p in table.split(".")]
        query = "SELECT * FROM " + ".".join(f'"{p}"' for p in names)
    engine = _engine(db_url)
    try:
        with engine.connect() as conn:
            probe = conn.execute(sqlalchemy.text(f"SELECT * FROM ({query}) AS q LIMIT 0"))
            geo_oid = conn.execute(sqlalchemy.text("SELECT 'geometry'::regtype::oid")).scalar()
            cursor = probe.cursor
            cols = [d.name for d in cursor.description if d.type_code == geo_oid]
            geom = opts.get("geom") or (cols[0] if cols else None)
            if geom is None:
                raise DatabaseError(msg("geo.postgis.no_geometry", url=safe_url(url)))
            frame = gpd.read_postgis(sqlalchemy.text(query), conn, geom_col=geom)
    except DatabaseError:
        raise
    except Exception as exc:  # the driver's many error classes all mean "cannot read"
        raise _fail(url, exc, "reading") from exc
    finally:
        engine.dispose()
    if frame.crs is None:
        logger.warning("%s: geometries carry no SRID; taken as WGS-84", safe_url(url))
        frame = frame.set_crs(4326)
    logger.info("%s: read %d rows", safe_url(url), len(frame))
    return frame.to_crs(4326)


def write_postgis_layers(url: str, layers: Mapping[str, pd.DataFrame | None]) -> list[str]:
    """Write a run's layers as tables of one schema, replacing the previous run's, atomically.

    Parameters
    ----------
    url
        ``postgresql://user@host/db?schema=lcc`` (default schema ``lcc``).
    layers
        Table name → frame (GeoDataFrames become PostGIS tables, plain frames plain tables);
        ``None`` entries are skipped.

    Returns
    -------
    list of str
        The qualified names of the tables written.

    Raises
    ------
    DatabaseError
        When the server cannot be reached or the write fails (nothing is changed then).
    """
    import sqlalchemy

    db_url, opts = _split(url)
    schema = _identifier(opts.get("schema") or "lcc", "schema", url)
    for name in layers:
        _identifier(name, "layer", url)
    engine = _engine(db_url)
    written: list[str] = []
    try:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            conn.execute(
                sqlalchemy.text(f'CREATE TABLE IF NOT EXISTS "{schema}".{RUN_TABLE} (name text)')
            )
            old = conn.execute(sqlalchemy.text(f'SELECT name FROM "{schema}".{RUN_TABLE}'))
            for (name,) in old.fetchall():
                conn.execute(sqlalchemy.text(f'DROP TABLE IF EXISTS "{schema}"."{name}"'))
            conn.execute(sqlalchemy.text(f'DELETE FROM "{schema}".{RUN_TABLE}'))
            for name, frame in layers.items():
                if frame is None:
                    continue
                out = _sql_safe(frame)
                if isinstance(out, gpd.GeoDataFrame):
                    out.to_postgis(name, conn, schema=schema, if_exists="replace", index=False)
                else:
                    out.to_sql(name, conn, schema=schema, if_exists="replace", index=False)
                conn.execute(
                    sqlalchemy.text(f'INSERT INTO "{schema}".{RUN_TABLE} VALUES (:n)'), {"n": name}
                )
                written.append(f"{schema}.{name}")
    except DatabaseError:
        raise
    except Exception as exc:
        raise _fail(url, exc, "writing") from exc
    finally:
        engine.dispose()
    logger.info("%s: wrote %s", safe_url(url), ", ".join(written))
    return written


def _sql_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose object columns hold only text (mixed objects do not map to SQL types)."""
    out = frame.copy()
    geom = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for col in out.columns:
        if col != geom and out[col].dtype == object:
            out[col] = out[col].map(lambda v: v if v is None or isinstance(v, str) else str(v))
    return out
