"""Interface strings: every per-category column header has a string in both languages."""

from __future__ import annotations

import logging

import pytest

from geo.taxonomy import categories
from maps.i18n import PER_CATEGORY_FIELDS, STRINGS, t


def test_per_category_headers_have_strings(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="maps.i18n"):
        for key in categories():
            for field in PER_CATEGORY_FIELDS:
                assert f"{key}_{field}" in STRINGS
                assert t(f"{key}_{field}", "zh") != f"{key}_{field}"
    assert not [r for r in caplog.records if "no string" in r.getMessage()]
    assert t("fitness_coverage_rate", "zh") == "健身 · 人口覆盖率"
    assert t("fitness_coverage_rate", "en").endswith("· Coverage rate")


def test_every_string_has_both_languages() -> None:
    missing = [k for k, v in STRINGS.items() if not v.get("zh") or not v.get("en")]
    assert not missing


def test_unknown_key_is_shown_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="maps.i18n"):
        assert t("fitness_no_such_field", "zh") == "fitness_no_such_field"
    assert any("no string" in r.getMessage() for r in caplog.records)
