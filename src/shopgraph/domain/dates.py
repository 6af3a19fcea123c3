"""Partition dates: resolve --date / --start / --end into an ordered list of days."""

from __future__ import annotations

from datetime import date, timedelta


def partition_dates(
    day: date | None = None, start: date | None = None, end: date | None = None
) -> list[date]:
    """One day, or every day from start to end inclusive, in order; ValueError on an unclear range."""
    if day is not None:
        if start is not None or end is not None:
            raise ValueError("give either a single date or a start and end, not both")
        return [day]
    if start is None or end is None:
        raise ValueError("give a single date, or both a start and an end date")
    if end < start:
        raise ValueError(f"end date {end} is before start date {start}")
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def partition_name(day: date) -> str:
    """The Hive-style partition folder name for a day: dt=YYYY-MM-DD."""
    return f"dt={day.isoformat()}"
