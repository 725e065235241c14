from __future__ import annotations

import pytest

from geo import settings
from geo.errors import CategoryError, ConfigError
from geo.taxonomy import Criterion, categories, get_category, match_category

STABLE_KEYS = [
    "elderly_canteen",
    "health_station",
    "parking",
    "fitness",
    "childcare",
    "reading",
    "job_service",
    "ev_charging",
    "elderly_care",
    "market",
]


def test_all_stable_keys_present_with_complete_entries() -> None:
    tax = categories()
    assert list(tax)[: len(STABLE_KEYS)] == STABLE_KEYS
    for cat in tax.values():
        assert cat.name_zh and cat.name_en and cat.standard and cat.status
        assert cat.color.startswith("#") and len(cat.color) == 7
        assert len(cat.glyph) == 1
        assert cat.osm, f"{cat.key} has no OSM tag filter"
        assert cat.criterion.threshold_m > 0


def test_defaults_follow_standards() -> None:
    assert get_category("job_service").criterion.threshold_m == 3000
    canteen = get_category("elderly_canteen").criterion
    assert canteen.minutes == 15 and canteen.profile == "elderly"
    assert canteen.threshold_m == pytest.approx(15 * 60 * settings.speed_profiles["elderly"])


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("老年食堂", "elderly_canteen"),
        ("长者食堂", "elderly_canteen"),
        ("社区卫生服务中心", "health_station"),
        ("社区卫生服务站", "health_station"),
        ("停车场", "parking"),
        ("百姓健身房", "fitness"),
        ("幼儿园（公办）", "childcare"),
        ("城市书房", "reading"),
        ("三公里就业圈", "job_service"),
        ("充电桩", "ev_charging"),
        ("日间照料中心", "elderly_care"),
        ("农贸市场", "market"),
        ("Library", "reading"),
        ("health_station", "health_station"),
    ],
)
def test_synonyms_map_to_keys(text: str, key: str) -> None:
    assert match_category(text) == key


def test_unknown_category() -> None:
    assert match_category("火星基地") is None
    with pytest.raises(CategoryError, match="known keys"):
        get_category("spaceport")


def test_criterion_overrides_and_validation() -> None:
    c = Criterion(minutes=15, profile="general")
    assert c.threshold_m == pytest.approx(1080)
    d = c.with_overrides(metres=3000)
    assert d.minutes is None and d.threshold_m == 3000
    e = c.with_overrides(minutes=10, speed=1.0)
    assert e.threshold_m == pytest.approx(600)
    assert "10" in e.label("zh") and "min" in e.label("en")
    with pytest.raises(ConfigError):
        Criterion(minutes=None, metres=None)
    with pytest.raises(ConfigError, match="speed profile"):
        Criterion(minutes=5, profile="teleport")
    with pytest.raises(ConfigError, match="positive"):
        Criterion(minutes=-5)


def test_criterion_numbers_from_text_and_bad_text() -> None:
    c = Criterion(minutes=15).with_overrides(minutes="10")
    assert c.threshold_m == pytest.approx(720)
    with pytest.raises(ConfigError, match="must be a number"):
        Criterion(minutes=15).with_overrides(metres="three km")


# --------------------------------------------------------------------- living-circle fields


def test_tiers_carry_thresholds_and_source_labels() -> None:
    from geo.taxonomy import tiers

    t = tiers()
    assert list(t) == ["block", "min5", "min10", "min15"]
    assert [(x.threshold_m, x.minutes) for x in t.values()] == [
        (300, 5),
        (300, 5),
        (500, 10),
        (1000, 15),
    ]
    assert t["min10"].status == "[V]" and t["min5"].status == "[S]"
    assert t["min15"].name("zh") == "十五分钟生活圈"
    assert t["block"].name("en") == "Residential block"


def test_every_category_has_an_item_a_subgroup_and_labelled_tiers() -> None:
    from geo.taxonomy import ITEMS, SUBGROUP_COLUMNS, tiers

    known = tiers()
    for cat in categories().values():
        assert cat.item in ITEMS and cat.item_status in ("[V]", "[S]", "[M]"), cat.key
        assert "TD/T 1062" in cat.item_source
        assert cat.subgroup in SUBGROUP_COLUMNS
        assert set(cat.tiers) <= set(known)
        for tier_key in cat.tiers:
            metres, source, status = cat.tier_threshold(known[tier_key])
            assert metres > 0 and source and status in ("[V]", "[S]", "[M]"), (cat.key, tier_key)
    assert get_category("childcare").subgroup == "children"
    assert get_category("elderly_canteen").subgroup == "elderly"
    assert get_category("elderly_care").subgroup == "elderly"
    assert get_category("market").item == "basic" and get_category("parking").item == "quality"


def test_category_tier_thresholds_follow_the_standards() -> None:
    from geo.taxonomy import get_tier

    health = get_category("health_station")
    assert health.item_tier == "min15"
    assert health.tier_threshold(get_tier("min15"))[0] == 1000
    kg = get_category("childcare").tier_threshold(get_tier("min5"))
    assert kg[0] == 300 and kg[2] == "[M]"
    # 15 minutes of reading circle at the general 1.2 m/s is 1080 m [V].
    reading = get_category("reading").tier_threshold(get_tier("min15"))
    assert reading[0] == pytest.approx(15 * 60 * settings.speed_profiles["general"])
    assert reading[2] == "[V]"
    assert get_category("elderly_care").tier_threshold(get_tier("min10"))[0] == 700
    assert get_category("job_service").tiers == () and get_category("job_service").item_tier is None
    target = get_category("childcare").target
    assert target is not None and target.per_1000_residents() == 4.5 and target.status == "[V]"
    fitness = get_category("fitness").target
    assert fitness is not None and fitness.per_1000_residents() == pytest.approx(2600)


def test_supply_target_conversions() -> None:
    from geo.taxonomy import SupplyTarget

    # 20 per 100 households of 2.5 persons = 20 per 250 residents = 80 per 1000.
    assert SupplyTarget(20, per="100 households").per_1000_residents(2.5) == pytest.approx(80)
    assert SupplyTarget(20, per="100 households").per_1000_residents() == pytest.approx(
        20 * 1000 / 262
    )
    assert SupplyTarget(2.6, per="1 resident").per_1000_residents() == pytest.approx(2600)
    with pytest.raises(ConfigError, match="per must be one of"):
        SupplyTarget(1, per="1 km²")
    with pytest.raises(ConfigError, match="positive number"):
        SupplyTarget(0)


BASE_TOML = """
[tiers.min5]
name_zh = "五分钟生活圈"
name_en = "5-minute"
threshold_m = 300
minutes = 5
source = "GB 50180-2018 [S]"

[categories.market]
name_zh = "菜市场"
name_en = "Market"
short_zh = "菜场"
color = "#7f7f7f"
icon = "x"
glyph = "菜"
criterion = { mode = "walk", metres = 500 }
level = "10"
standard = "GB"
status = "[M]"
"""


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ('tiers = ["min7"]', "unknown tiers"),
        ('item = "luxury"', "item must be one of"),
        ('subgroup = "teens"', "subgroup must be one of"),
        ("tiers = []\ntier_overrides = { min5 = 250 }", "not in"),
        ('tiers = ["min5"]\ntier_overrides = { min5 = { feet = 3 } }', "unknown keys"),
        ('target = { value = 4.5, per = "1 km²" }', "per must be one of"),
    ],
)
def test_bad_living_circle_fields_are_named(tmp_path, extra: str, match: str) -> None:
    from geo.taxonomy import load_taxonomy

    path = tmp_path / "categories.toml"
    path.write_text(BASE_TOML + extra + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        load_taxonomy(path)


def test_defaults_when_fields_are_absent(tmp_path) -> None:
    from geo.taxonomy import load_taxonomy, load_tiers

    path = tmp_path / "categories.toml"
    path.write_text(BASE_TOML, encoding="utf-8")
    cat = load_taxonomy(path)["market"]
    assert (cat.tiers, cat.item, cat.subgroup, cat.target) == ((), "quality", "all", None)
    assert load_tiers(path)["min5"].status == "[S]"  # read from the source text
