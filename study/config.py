"""The typed schema of a run configuration (the TOML file of ``cli.py run``).

One pydantic model per table of the README's config reference. Every field carries its type, its
range and, as its ``description``, what it must be in plain words: the messages of
:func:`validate_config` are built from it, e.g. ``[siting] k: must be an integer ≥ 1, got
'three'``. Unknown keys are errors. Enumerations come from the modules that own them (travel modes
from the network loaders, siting models from the solvers, search engines from the distance
module, datums from the datum module), so a new value is added in one place.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from coverage.distance import ENGINES
from coverage.siting.models import MODELS
from geo import settings
from geo.datum import DATUMS
from geo.osm_parse import MODES
from study.demo import DEMO_NAMES

#: Formats of a run's map layers: one GeoPackage, or one GeoParquet file per layer.
OUTPUT_FORMATS = ("gpkg", "parquet")

#: Kinds of ``[demand] type``.
DEMAND_TYPES: tuple[str, ...] = ("table", "buildings", "grid", "raster")
#: What ``[siting] weight`` may weigh demand by.
SITING_WEIGHTS: tuple[str, ...] = ("population", "elderly")

if TYPE_CHECKING:
    # mypy sees plain strings; at run time the literals below are built from the one definition
    # of each enumeration, so pydantic checks them and names the allowed values.
    Mode = str
    Model = str
    Engine = str
    DemandType = str
    DemoName = str
    Weight = str
    Profile = str
    OutputFormat = str
else:
    from typing import Literal

    Mode = Literal[MODES]
    Model = Literal[MODELS]
    Engine = Literal[ENGINES]
    DemandType = Literal[DEMAND_TYPES]
    DemoName = Literal[DEMO_NAMES]
    Weight = Literal[SITING_WEIGHTS]
    Profile = Literal[tuple(settings.speed_profiles)]
    OutputFormat = Literal[OUTPUT_FORMATS]


def _one_of(values: tuple[str, ...] | list[str]) -> str:
    return "one of " + ", ".join(values)


PATH = "a path string"
TEXT = "a text string (a column name)"
POSITIVE = "finite and > 0"
FLAG = "true or false"

PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
PathStr = Annotated[str, Field(min_length=1)]


class _Table(BaseModel):
    """A TOML table: strict types (no "3" for 3), unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", strict=True)
    #: How the table is written, for the message when it is given as something else.
    EXAMPLE: ClassVar[str] = ""


def _check_category(value: str) -> str:
    from geo.taxonomy import categories

    tax = categories()
    if value not in tax:
        msg = (
            f"must be a category key (python cli.py categories lists them), got {value!r}; "
            f"known keys are {', '.join(tax)}"
        )
        raise ValueError(msg)
    return value


def check_crs(value: str) -> str:
    """A datum (wgs84/gcj02/bd09 or an alias the loaders accept) or a CRS pyproj knows."""
    import pyproj

    from geo.datum import normalise_datum

    crs = str(value).strip()
    key = normalise_datum(crs)
    if key is not None:
        return key
    try:
        pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        msg = (
            f"must be {', '.join(DATUMS[:-1])} or {DATUMS[-1]}, or a coordinate reference system "
            f'such as "EPSG:4549" (CGCS2000 3-degree zone, metres), got {value!r}'
        )
        raise ValueError(msg) from None
    return crs


class NetworkTable(_Table):
    """``[network]``: exactly one of file, place and bbox (unless ``demo``)."""

    EXAMPLE: ClassVar[str] = (
        'a table: write [network] on its own line and file = "roads.osm" below it'
    )
    file: PathStr | None = Field(None, description=PATH)
    place: str | None = Field(None, min_length=1, description="a place name string")
    bbox: list[Annotated[float, Field(allow_inf_nan=False)]] | None = Field(
        None,
        min_length=4,
        max_length=4,
        description="four numbers [west, south, east, north] in degrees",
    )
    mode: Mode = Field("walk", description=_one_of(MODES))
    study_area: PathStr | None = Field(None, description=PATH)
    keep_largest: bool | None = Field(None, description=FLAG)

    @field_validator("bbox")
    @classmethod
    def _bbox_order(cls, value: list[float] | None) -> list[float] | None:
        if value is None:
            return value
        west, south, east, north = value
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            msg = (
                "must be [west, south, east, north] in degrees with west < east and "
                f"south < north, got {value!r}"
            )
            raise ValueError(msg)
        return value


class DemandTable(_Table):
    """``[demand]``: where residents live."""

    EXAMPLE: ClassVar[str] = (
        'a table: write [demand] on its own line and file = "population.csv" below it'
    )
    type: DemandType = Field("table", description=_one_of(DEMAND_TYPES))
    file: PathStr | None = Field(None, description=PATH)
    population: str | None = Field(None, description=TEXT)
    elderly: str | None = Field(None, description=TEXT)
    community: str | None = Field(None, description=TEXT)
    crs: str = Field("wgs84", description=f"{_one_of(DATUMS)} or a CRS such as EPSG:4549")
    total_population: PositiveFloat | None = Field(None, description=POSITIVE)
    lon: str | None = Field(None, description=TEXT)
    lat: str | None = Field(None, description=TEXT)
    sheet: str | int | None = Field(None, description="a sheet name or a 0-based sheet number")
    residential_only: bool = Field(True, description=FLAG)
    include_building: list[str] | None = Field(None, description="a list of building tag strings")
    exclude_building: list[str] | None = Field(None, description="a list of building tag strings")
    yes_weight: float | None = Field(
        None, ge=0, le=1, allow_inf_nan=False, description="a number from 0 to 1"
    )
    sql: str | None = Field(None, min_length=1, description="an SQL query string ([database] url)")
    within: PathStr | None = Field(None, description=PATH)
    buildings: bool | None = Field(None, description=FLAG)

    @field_validator("crs")
    @classmethod
    def _crs(cls, value: str) -> str:
        return check_crs(value)


class FacilityTable(_Table):
    """One ``[[facilities]]`` table: a facility file (or ``osm = true``)."""

    EXAMPLE: ClassVar[str] = (
        'tables: write [[facilities]] on its own line and file = "canteens.xlsx" below it'
    )
    file: PathStr | None = Field(None, description=PATH)
    osm: bool | None = Field(None, description=FLAG)
    category: str | None = Field(None, description="a category key")
    # None: not declared; the datum is then detected from the fit to the street network.
    crs: str | None = Field(None, description=f"{_one_of(DATUMS)} or a CRS such as EPSG:4549")
    name: str | None = Field(None, description=TEXT)
    lon: str | None = Field(None, description=TEXT)
    lat: str | None = Field(None, description=TEXT)
    coords: str | None = Field(None, description=TEXT)
    wkt: str | None = Field(None, description=TEXT)
    category_column: str | None = Field(None, description=TEXT)
    capacity: str | None = Field(None, description=TEXT)
    id: str | None = Field(None, description=TEXT)
    sheet: str | int | None = Field(None, description="a sheet name or a 0-based sheet number")
    sql: str | None = Field(None, min_length=1, description="an SQL query string ([database] url)")

    @field_validator("crs")
    @classmethod
    def _crs(cls, value: str | None) -> str | None:
        return value if value is None else check_crs(value)

    @field_validator("category")
    @classmethod
    def _category(cls, value: str | None) -> str | None:
        return value if value is None else _check_category(value)


class CriterionTable(_Table):
    """``[criteria.<category>]``: overrides of a category's default criterion."""

    EXAMPLE: ClassVar[str] = "a table such as [criteria.elderly_canteen] with minutes = 15 below it"
    mode: Mode | None = Field(None, description=_one_of(MODES))
    minutes: PositiveFloat | None = Field(None, description=POSITIVE)
    metres: PositiveFloat | None = Field(None, description=POSITIVE)
    speed: PositiveFloat | None = Field(None, description="finite and > 0 (metres per second)")
    profile: Profile | None = Field(None, description=_one_of(list(settings.speed_profiles)))

    @model_validator(mode="after")
    def _one_threshold(self) -> CriterionTable:
        if self.minutes is not None and self.metres is not None:
            msg = "give minutes or metres, not both"
            raise ValueError(msg)
        return self


class AnalysisTable(_Table):
    """``[analysis]``: what to compute (all optional)."""

    EXAMPLE: ClassVar[str] = "a table: write [analysis] on its own line and its keys below it"
    categories: list[str] | None = Field(None, description="a list of category keys")
    rings_minutes: list[PositiveFloat] | None = Field(
        None, description="a list of minutes, each finite and > 0"
    )
    service_areas: bool = Field(True, description=FLAG)
    facility_areas: bool = Field(False, description=FLAG)
    snap_tolerance_m: PositiveFloat | None = Field(None, description=POSITIVE)
    search_engine: Engine | None = Field(None, description=_one_of(ENGINES))
    gaps: bool | None = Field(None, description=FLAG)
    completeness: bool | None = Field(None, description=FLAG)
    fca: bool | None = Field(None, description=FLAG)

    @field_validator("categories")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        for key in value or []:
            _check_category(key)
        return value


class SitingTable(_Table):
    """``[siting]``: propose new sites for one category."""

    EXAMPLE: ClassVar[str] = (
        'a table: write [siting] on its own line and category = "elderly_canteen" below it'
    )
    category: str = Field(description="a category key")
    model: Model = Field("mclp", description=_one_of(MODELS))
    k: int | None = Field(None, ge=1, description="an integer ≥ 1")
    target: float | None = Field(None, gt=0, le=1, description="a share > 0 and ≤ 1, e.g. 0.95")
    candidates: PathStr = Field("generate", description='a path string or "generate"')
    weight: Weight = Field("population", description=_one_of(SITING_WEIGHTS))
    time_limit_s: PositiveFloat | None = Field(None, description=POSITIVE)
    spacing_m: PositiveFloat | None = Field(None, description=POSITIVE)

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        return _check_category(value)


class EvaluationTable(_Table):
    """``[evaluation]``: the living-circle evaluation to the standards (tiers, items, supply)."""

    EXAMPLE: ClassVar[str] = "a table: write [evaluation] on its own line and tiers = [...] below"
    tiers: list[str] | None = Field(None, description="a list of tier keys (block, min5, …)")
    overrides: dict[str, Any] | None = Field(
        None, description='a table of tier thresholds, e.g. { min5 = 250, "childcare.min5" = 200 }'
    )
    items: dict[str, str] | None = Field(
        None, description='a table of category = "basic" | "quality"'
    )
    min_share: float = Field(
        1.0, gt=0, le=1, description="a share > 0 and ≤ 1 of a community's residents"
    )


class DatabaseTable(_Table):
    """``[database]``: the PostGIS database that ``sql = …`` sources query."""

    EXAMPLE: ClassVar[str] = (
        'a table: write [database] on its own line and url = "postgresql://user@host/db" below it'
    )
    url: str = Field(description='a postgresql:// URL string, e.g. "postgresql://user@host/db"')

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        from geo.postgis import is_database_url

        if not is_database_url(value):
            msg = f'must be a postgresql:// URL, e.g. "postgresql://user@host/db", got {value!r}'
            raise ValueError(msg)
        return value


class OutputTable(_Table):
    """``[output]``: how a run writes its map layers."""

    EXAMPLE: ClassVar[str] = 'a table: write [output] on its own line and format = "gpkg" below it'
    format: OutputFormat = Field("gpkg", description=_one_of(OUTPUT_FORMATS))


class BatchTable(_Table):
    """``[batch]``: many districts in one run (``cli.py batch``)."""

    EXAMPLE: ClassVar[str] = (
        'a table: write [batch] on its own line and districts = "districts.gpkg" below it'
    )
    districts: PathStr = Field(description=PATH)
    name_column: str = Field("name", min_length=1, description=TEXT)
    code_column: str | None = Field(None, min_length=1, description=TEXT)
    halo_m: float | None = Field(None, ge=0, allow_inf_nan=False, description="finite and ≥ 0")


class ConfigFile(_Table):
    """The whole file: the tables above plus ``title`` and ``demo``."""

    title: str = Field("", description="a text string")
    demo: bool | DemoName | None = Field(None, description=f"true or {_one_of(DEMO_NAMES)}")
    network: NetworkTable = Field(default_factory=lambda: NetworkTable.model_validate({}))
    demand: DemandTable = Field(default_factory=lambda: DemandTable.model_validate({}))
    facilities: list[FacilityTable] = Field(default_factory=list)
    criteria: dict[str, CriterionTable] = Field(default_factory=dict)
    analysis: AnalysisTable = Field(default_factory=lambda: AnalysisTable.model_validate({}))
    siting: SitingTable | None = None
    network_edits: list[dict[str, Any]] = Field(
        default_factory=list, description="[[network_edits]] tables"
    )
    database: DatabaseTable | None = None
    batch: BatchTable | None = None
    evaluation: EvaluationTable | None = None
    output: OutputTable = Field(default_factory=lambda: OutputTable.model_validate({}))

    @field_validator("network_edits")
    @classmethod
    def _edits(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from geo.network_edits import NetworkEditError, edits_from_config

        try:
            edits_from_config(value)
        except NetworkEditError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("facilities", mode="before")
    @classmethod
    def _single_table(cls, value: Any) -> Any:
        # A lone [facilities] table means one facility file, as [[facilities]] would.
        return [value] if isinstance(value, dict) else value

    @field_validator("criteria")
    @classmethod
    def _criteria_keys(cls, value: dict[str, CriterionTable]) -> dict[str, CriterionTable]:
        for key in value:
            try:
                _check_category(key)
            except ValueError as exc:
                msg = f"[criteria.{key}]: the table name {exc}"
                raise ValueError(msg) from None
        return value

    @property
    def demo_name(self) -> str | None:
        """The demo to run (``demo = true`` is the synthetic one), or None."""
        if self.demo is True:
            return "synthetic"
        return self.demo or None

    @model_validator(mode="after")
    def _whole(self) -> ConfigFile:
        """Rules that join several keys; every broken one is reported."""
        problems: list[str] = []
        demo = self.demo_name is not None
        net = self.network
        given = [k for k in ("file", "place", "bbox") if getattr(net, k) is not None]
        if not demo and len(given) != 1:
            problems.append(
                f"[network] needs exactly one of file, place or bbox, got {given or 'none'}"
            )
        dem = self.demand
        if not demo and dem.type == "table" and dem.file is None and dem.sql is None:
            problems.append('[demand] needs file = "population.csv" (or type = buildings/grid)')
        if dem.type in ("buildings", "grid") and dem.total_population is None:
            problems.append(f"[demand] type = {dem.type!r} needs total_population = <residents>")
        for i, fac in enumerate(self.facilities, start=1):
            if fac.file is None and not fac.osm and fac.sql is None:
                problems.append(
                    f'[[facilities]] #{i} needs file = "...", sql = "..." or osm = true'
                )
        sql_used = dem.sql is not None or any(f.sql is not None for f in self.facilities)
        if sql_used and self.database is None:
            problems.append('sql = "…" sources need a [database] table with url = "postgresql://…"')
        if dem.type == "raster" and dem.file is None:
            problems.append('[demand] type = "raster" needs file = "population.tif"')
        if not demo and not self.facilities:
            problems.append("no [[facilities]] table; add at least one facility file")
        if problems:
            raise ValueError("; ".join(problems))
        return self


#: The model of each section name, for messages.
SECTIONS: dict[str, type[_Table]] = {
    "network": NetworkTable,
    "demand": DemandTable,
    "facilities": FacilityTable,
    "criteria": CriterionTable,
    "analysis": AnalysisTable,
    "siting": SitingTable,
    "database": DatabaseTable,
    "batch": BatchTable,
    "evaluation": EvaluationTable,
    "output": OutputTable,
}


def schema_keys() -> dict[str, list[str]]:
    """Every key of the schema by section (``""`` for the top level)."""
    out = {"": list(ConfigFile.model_fields)}
    for name, model in SECTIONS.items():
        out[name] = list(model.model_fields)
    return out


def _got(value: Any) -> str:
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def _describe(err: dict[str, Any], n_facilities: int) -> str:
    """One pydantic error as ``[table] key: must be …, got …``."""
    loc = list(err["loc"])
    model: type[_Table] = ConfigFile
    table = ""
    if loc and loc[0] in SECTIONS:
        head = loc.pop(0)
        model = SECTIONS[str(head)]
        if head == "facilities":
            table = "[[facilities]]"
            if loc and isinstance(loc[0], int):
                idx = loc.pop(0)
                if n_facilities > 1:
                    table += f" #{idx + 1}"
        elif head == "criteria":
            table = "[criteria]"
            if loc:
                table = f"[criteria.{loc.pop(0)}]"
        else:
            table = f"[{head}]"
    key = next((str(p) for p in loc if isinstance(p, str) and p in model.model_fields), None)
    if key is None and err["type"] == "extra_forbidden" and loc:
        key = str(loc[0])
    where = f"{table} {key}" if table and key else (table or key or "top level")
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        allowed = ", ".join(model.model_fields)
        if not table:
            return (
                f"{key}: unknown top-level key; allowed are {allowed} "
                "(see the README's config reference)"
            )
        return (
            f"{where}: unknown key; allowed keys are {allowed} (see the README's config reference)"
        )
    if key is None:
        if kind in ("model_type", "model_attributes_type", "dict_type", "list_type"):
            return f"{where} must be {model.EXAMPLE}, got {_got(value)}"
        if kind == "value_error":
            text = str(err["ctx"]["error"])
            return text if not table or text.startswith("[") else f"{where}: {text}"
        return f"{where}: {err['msg']}"
    if kind == "missing":
        return f"{where}: missing; give {model.model_fields[key].description}"
    if kind == "value_error":
        return f"{where}: {err['ctx']['error']}"
    return f"{where}: must be {model.model_fields[key].description}, got {_got(value)}"


def validate_config(raw: dict[str, Any]) -> tuple[ConfigFile | None, list[str]]:
    """Validate a TOML dictionary against the schema.

    Parameters
    ----------
    raw
        The TOML content.

    Returns
    -------
    ConfigFile or None
        The validated configuration, or None when there were problems.
    list of str
        Every problem, one sentence each, naming the key path (empty when valid).
    """
    try:
        return ConfigFile.model_validate(raw), []
    except ValidationError as exc:
        facs = raw.get("facilities") if isinstance(raw, dict) else None
        n_fac = len(facs) if isinstance(facs, list) else 1
        problems: list[str] = []
        for err in exc.errors(include_url=False):
            text = _describe(dict(err), n_fac)
            if text not in problems:  # a union reports each alternative; say it once
                problems.append(text)
        return None, problems
