"""The vectorised fast path of number parsing gives what the cell-by-cell rules give."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from geo.columns import (
    _first_number,
    _fullwidth,
    _missing,
    _plain_number,
    parse_amount,
    parse_numbers,
)


def _reference(values, number):
    out = np.full(len(values), np.nan)
    bad = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        if _missing(v):
            continue
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            out[i] = float(v)
            continue
        text = _fullwidth(str(v))
        if not text.strip():
            continue
        try:
            out[i] = number(text)
        except ValueError:
            bad[i] = True
    return out, bad


cells = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.from_regex(r"\s?[-+]?[0-9]{1,6}(\.[0-9]{0,4})?\s?", fullmatch=True),
    st.sampled_from(
        [
            "1.2万",
            "约5千人",
            "12 345",
            "东经118.78",
            "118.78°E",
            "１２３",
            "1e3",
            "",
            " ",
            "abc",
            "1,200",
            ".5",
            "5.",
            "-",
            "+3",
        ]
    ),
    st.text(max_size=6),
)


@given(st.lists(cells, max_size=30))
def test_fast_path_equals_the_cell_rules(values):
    for parse, number in ((parse_numbers, _plain_number), (parse_amount, _first_number)):
        got, got_bad = parse(list(values))
        ref, ref_bad = _reference(list(values), number)
        np.testing.assert_array_equal(got, ref)
        np.testing.assert_array_equal(got_bad, ref_bad)


@given(
    st.lists(
        st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-9, 9)),
        max_size=30,
    )
)
def test_numeric_columns_parse_as_the_cell_rules(values):
    # A column the table reader already made numeric skips the per-cell path: same numbers.
    import pandas as pd

    column = pd.Series(values, dtype="float64")
    for parse, number in ((parse_numbers, _plain_number), (parse_amount, _first_number)):
        got, got_bad = parse(column)
        ref, ref_bad = _reference(column.tolist(), number)
        np.testing.assert_array_equal(got, ref)
        np.testing.assert_array_equal(got_bad, ref_bad)
    ints = pd.Series([v for v in values if isinstance(v, int)], dtype="int64")
    got, got_bad = parse_numbers(ints)
    np.testing.assert_array_equal(got, ints.to_numpy(dtype="float64"))
    assert not got_bad.any()
