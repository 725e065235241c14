"""Validation of run configurations (the TOML keys documented in the README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from coverage.pipeline import demo_config, load_config, parse_config
from geo.errors import CategoryError, ConfigError

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


def test_issue_example_parses(tmp_path: Path) -> None:
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
        ("[network]\nfile='a.osm'\nmode='fly'\n", "walk, bike or drive"),
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
            "mclp, lscp, pmedian or capacitated",
        ),
        (
            "[network]\nfile='a.osm'\n[demand]\nfile='p.csv'\n[[facilities]]\nfile='f.csv'\n"
            "[siting]\ncategory='parking'\nmodel='lscp'\ntarget=95\n",
            "share between 0 and 1",
        ),
        (
            "[network]\nfile='a.osm'\n[demand]\nfile='p.csv'\n[[facilities]]\nfile='f.csv'\n"
            "[criteria.parking]\nminutes=-3\n",
            "positive",
        ),
        ("[demand]\ntype='grid'\n[network]\nfile='a.osm'\n", "total_population"),
        (
            "[network]\nfile='a.osm'\n[demand]\nfile='p.csv'\n[[facilities]]\nfile='f.csv'\n"
            "[analysis]\nsearch_engine='dial'\n",
            'use "auto" (default), "bucket" or "scipy"',
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
    with pytest.raises(CategoryError, match="known keys"):
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
    f = tmp_path / "proj.toml"
    f.write_text(
        "[network]\nfile='a.osm'\n[demand]\nfile='p.csv'\ncrs='EPSG:4549'\n"
        "[[facilities]]\nfile='f.csv'\ncrs='EPSG:4549'\n",
        encoding="utf-8",
    )
    cfg = load_config(f)
    assert cfg.facilities[0]["crs"] == "EPSG:4549" and cfg.demand["crs"] == "EPSG:4549"
