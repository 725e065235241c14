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
