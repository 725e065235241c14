"""Validation of run configurations (the TOML keys documented in the README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.errors import ConfigError
from study.pipeline import demo_config, load_config, parse_config

BASE = Path("/tmp")

GOOD = """
[network]
file = "roads.osm"
mode = "walk"
[demand]
file = "population.csv"
population = "population"
[[facilities]]
file = "canteens.xlsx"
category = "elderly_canteen"
crs = "gcj02"
[criteria.elderly_canteen]
minutes = 15
speed = 1.0
[criteria.job_service]
metres = 3000
[siting]
category = "elderly_canteen"
model = "mclp"
k = 3
candidates = "candidates.csv"
"""


def _touch(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).write_text("", encoding="utf-8")


def test_issue_example_parses(tmp_path: Path) -> None:
    _touch(tmp_path, "roads.osm", "population.csv", "canteens.xlsx", "candidates.csv")
    cfg_file = tmp_path / "run.toml"
    cfg_file.write_text(GOOD, encoding="utf-8")
    cfg = load_config(cfg_file)
    assert cfg.network == {"file": "roads.osm", "mode": "walk"}
    assert cfg.path("roads.osm") == tmp_path / "roads.osm"
    assert cfg.facilities[0]["crs"] == "gcj02"
    canteen = cfg.criteria["elderly_canteen"]
    assert canteen.threshold_m == pytest.approx(900.0)
    assert cfg.criteria["job_service"].threshold_m == 3000
    assert cfg.siting is not None and cfg.siting["k"] == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[network]\nmode='walk'\n", "exactly one of file, place or bbox"),
        ("[network]\nfile='a.osm'\nmode='fly'\n", "[network] mode: must be one of walk, bike"),
        ("[network]\nfile='a.osm'\ncolour='red'\n", "unknown key"),
        ("[network]\nfile='a.osm'\n[demand]\npopulation='p'\n", "needs file"),
        (
            "[network]\nfile='a.osm'\n[demand]\nfile='p.csv'\n[[facilities]]\nfile='f.csv'\n"
            "crs='mars'\n",
            "wgs84, gcj02 or bd09, or a coordinate reference system",
        ),
        ("[network]\nfile='a.osm'\n[demand]\nfile='p.csv'\n", "no [[facilities]]"),
        (
            "[network]\nfile='a.osm'\n[demand]\nfile='p.csv'\n[[facilities]]\nfile='f.csv'\n"
            "[siting]\ncategory='parking'\nmodel='magic'\n",
            "[siting] model: must be one of mclp, lscp, pmedian, capacitated, got 'magic'",
        ),
        (
            "[network]\nfile='a.osm'\n[demand]\nfile='p.csv'\n[[facilities]]\nfile='f.csv'\n"
            "[siting]\ncategory='parking'\nmodel='lscp'\ntarget=95\n",
            "[siting] target: must be a share > 0 and ≤ 1, e.g. 0.95, got 95",
        ),
        (
            "[network]\nfile='a.osm'\n[demand]\nfile='p.csv'\n[[facilities]]\nfile='f.csv'\n"
            "[criteria.parking]\nminutes=-3\n",
            "[criteria.parking] minutes: must be finite and > 0, got -3",
        ),
        ("[demand]\ntype='grid'\n[network]\nfile='a.osm'\n", "total_population"),
        (
            "[network]\nfile='a.osm'\n[demand]\nfile='p.csv'\n[[facilities]]\nfile='f.csv'\n"
            "[analysis]\nsearch_engine='dial'\n",
            "[analysis] search_engine: must be one of auto, bucket, scipy, got 'dial'",
        ),
    ],
)
def test_bad_configs_say_what_and_how(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(f)
    assert message in str(info.value)
    assert str(f) in str(info.value)


def test_unknown_category_in_config() -> None:
    raw = {
        "network": {"file": "a.osm"},
        "demand": {"file": "p.csv"},
        "facilities": [{"file": "f.csv", "category": "spaceport"}],
    }
    pattern = r"\[\[facilities\]\] category: .*'spaceport'.*known keys"
    with pytest.raises(ConfigError, match=pattern):
        parse_config(raw, base=BASE)


def test_missing_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    f = tmp_path / "broken.toml"
    f.write_text("[network\nfile=", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(f)


def test_demo_config_has_siting() -> None:
    cfg = demo_config()
    assert cfg.demo == "synthetic"
    assert cfg.siting is not None and cfg.siting["model"] == "mclp"
    assert demo_config(siting=False).siting is None


def test_projected_crs_accepted_in_configs(tmp_path: Path) -> None:
    _touch(tmp_path, "a.osm", "p.csv", "f.csv")
    f = tmp_path / "proj.toml"
    f.write_text(
        "[network]\nfile='a.osm'\n[demand]\nfile='p.csv'\ncrs='EPSG:4549'\n"
        "[[facilities]]\nfile='f.csv'\ncrs='EPSG:4549'\n",
        encoding="utf-8",
    )
    cfg = load_config(f)
    assert cfg.facilities[0]["crs"] == "EPSG:4549" and cfg.demand["crs"] == "EPSG:4549"


# --- the typed schema (study/config.py) -------------------------------------------------------

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_toml() -> str:
    text = README.read_text("utf-8")
    section = text[text.index("## Headless runs and config reference") :]
    start = section.index("```toml\n") + len("```toml\n")
    return section[start : section.index("```", start)]


def _readme_sections(block: str) -> dict[str, str]:
    """The README block's text by section: "" (top level), "network", "criteria", ..."""
    out: dict[str, str] = {"": ""}
    current = ""
    for line in block.splitlines():
        head = line.split("#")[0].strip()
        if head.startswith("["):
            current = head.strip("[]").split(".")[0]
            out.setdefault(current, "")
            continue
        out[current] += line + "\n"
    return out


def test_readme_config_reference_parses_under_the_schema() -> None:
    import tomllib

    from study.config import validate_config

    raw = tomllib.loads(_readme_toml())
    model, problems = validate_config(raw)
    assert problems == []
    assert model is not None
    assert model.network.mode == "walk" and model.siting is not None
    assert model.criteria["job_service"].metres == 3000


def test_every_schema_key_is_documented_in_the_readme() -> None:
    import re

    from study.config import schema_keys

    sections = _readme_sections(_readme_toml())
    missing = []
    for section, keys in schema_keys().items():
        text = sections.get(section, "") if section else sections[""]
        for key in keys:
            if section == "" and key in sections:
                continue  # a table of its own, e.g. [network]
            if not re.search(rf"(^|[\s#]){re.escape(key)} = ", text, flags=re.M):
                missing.append(f"[{section}] {key}" if section else key)
    assert missing == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"criteria": {"job_service": {"metres": float("inf")}}},
            "[criteria.job_service] metres: must be finite and > 0, got inf",
        ),
        (
            {"siting": {"category": "parking", "k": "three"}},
            "[siting] k: must be an integer ≥ 1, got 'three'",
        ),
        ({"siting": {"category": "parking", "k": 0}}, "[siting] k: must be an integer ≥ 1, got 0"),
        (
            {"network": {"file": "a.osm", "mode": ["walk"]}},
            "[network] mode: must be one of walk, bike, drive, got ['walk']",
        ),
        ({"network": "roads.osm"}, "[network] must be a table"),
        ({"facilities": [{"file": 123}]}, "[[facilities]] file: must be a path string, got 123"),
        (
            {"facilities": [{"file": "a.csv"}, {"file": 123}]},
            "[[facilities]] #2 file: must be a path string, got 123",
        ),
        ({"network": {"file": "a.osm", "colour": "red"}}, "[network] colour: unknown key; allowed"),
        ({"colour": "red"}, "colour: unknown top-level key"),
        (
            {"demand": {"yes_weight": -1}},
            "[demand] yes_weight: must be a number from 0 to 1, got -1",
        ),
        ({"demand": {"residential_only": "yes"}}, "[demand] residential_only: must be true or"),
        ({"criteria": {"parking": {"minutes": 5, "metres": 300}}}, "minutes or metres, not both"),
        ({"criteria": {"parking": {"profile": "turtle"}}}, "[criteria.parking] profile: must be"),
        ({"analysis": {"rings_minutes": [5, float("nan")]}}, "[analysis] rings_minutes: must be"),
        ({"network": {"bbox": [118, 32, 117, 31]}}, "[network] bbox: must be [west, south"),
        ({"demo": "mars"}, "demo: must be true or one of synthetic, helsinki, got 'mars'"),
    ],
)
def test_schema_messages_name_the_key_path(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, base=BASE, where="run.toml")
    assert message in str(info.value)
    assert str(info.value).startswith("run.toml: ")
    assert "\n" not in str(info.value)


def test_all_problems_are_reported_at_once() -> None:
    raw = {
        "network": {"file": "a.osm", "mode": "fly"},
        "demand": {"file": 5},
        "facilities": [{"file": "f.csv", "crs": "mars"}],
        "siting": {"category": "parking", "k": -1},
    }
    with pytest.raises(ConfigError) as info:
        parse_config(raw, base=BASE)
    text = str(info.value)
    assert "4 problems" in text
    for part in ("[network] mode", "[demand] file", "[[facilities]] crs", "[siting] k"):
        assert part in text


def test_missing_files_are_reported_by_key(tmp_path: Path) -> None:
    _touch(tmp_path, "a.osm", "f.csv")
    raw = {
        "network": {"file": "a.osm", "study_area": "area.geojson"},
        "demand": {"file": "pop.csv"},
        "facilities": [{"file": "f.csv"}],
        "siting": {"category": "parking", "candidates": "cand.csv"},
    }
    with pytest.raises(ConfigError) as info:
        parse_config(raw, base=tmp_path)
    text = str(info.value)
    assert "3 problems" in text
    assert f"[network] study_area: {str(tmp_path / 'area.geojson')!r} not found" in text
    assert "[demand] file" in text and "[siting] candidates" in text
    assert "[network] file" not in text and "[[facilities]] file" not in text


def test_schema_keeps_defaults_and_new_demand_keys(tmp_path: Path) -> None:
    _touch(tmp_path, "a.osm")
    raw = {
        "network": {"file": "a.osm"},
        "demand": {
            "type": "buildings",
            "total_population": 5000,
            "include_building": ["dormitory"],
            "exclude_building": [],
            "yes_weight": 0.5,
        },
        "facilities": {"osm": True, "category": "parking"},  # a lone table is one facility file
        "analysis": {"search_engine": "bucket"},
        "siting": {"category": "parking", "model": "lscp"},
    }
    cfg = parse_config(raw, base=tmp_path)
    assert cfg.network == {"file": "a.osm", "mode": "walk"}
    assert cfg.demand["residential_only"] is True and cfg.demand["yes_weight"] == 0.5
    assert cfg.demand["crs"] == "wgs84"
    # No crs: "not declared" (detected from the street fit at run time).
    assert cfg.facilities == [{"osm": True, "category": "parking"}]
    assert cfg.siting == {
        "category": "parking",
        "model": "lscp",
        "target": 0.95,
        "candidates": "generate",
        "weight": "population",
    }
    # No engine named: the run's default (settings / LCC_SEARCH_ENGINE) still applies.
    assert "search_engine" not in parse_config({"demo": True}, base=tmp_path).analysis


def test_config_with_byte_order_mark_and_gcj_alias(tmp_path: Path) -> None:
    _touch(tmp_path, "a.osm", "p.csv", "f.csv")
    f = tmp_path / "bom.toml"
    f.write_bytes(
        "\ufeff[network]\nfile='a.osm'\n[demand]\nfile='p.csv'\n[[facilities]]\nfile='f.csv'\n"
        "crs='高德'\nsheet=0\n".encode()
    )
    cfg = load_config(f)
    assert cfg.facilities[0]["crs"] == "gcj02" and cfg.facilities[0]["sheet"] == 0


def test_demo_true_means_the_synthetic_demo() -> None:
    assert parse_config({"demo": True}, base=BASE).demo == "synthetic"
    assert parse_config({"demo": "helsinki"}, base=BASE).demo == "helsinki"
