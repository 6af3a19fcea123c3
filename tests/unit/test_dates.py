"""Unit tests for partition date resolution."""

from datetime import date

import pytest

from shopgraph.domain.dates import partition_dates, partition_name

pytestmark = pytest.mark.unit


def test_single_day() -> None:
    assert partition_dates(date(2026, 1, 3)) == [date(2026, 1, 3)]


def test_inclusive_range_in_order() -> None:
    days = partition_dates(start=date(2026, 1, 30), end=date(2026, 2, 2))
    assert days == [date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 2)]


@pytest.mark.parametrize(
    ("day", "start", "end", "message"),
    [
        (date(2026, 1, 1), date(2026, 1, 1), None, "not both"),
        (None, date(2026, 1, 1), None, "both a start and an end"),
        (None, date(2026, 1, 2), date(2026, 1, 1), "before start"),
    ],
)
def test_bad_ranges(day, start, end, message) -> None:
    with pytest.raises(ValueError, match=message):
        partition_dates(day, start, end)


def test_partition_name() -> None:
    assert partition_name(date(2026, 5, 7)) == "dt=2026-05-07"
