"""One landing partition through every rule: cast, normalise, check, dedup, split curated/quarantine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import polars as pl

from shopgraph.domain.ingest import reasons as R
from shopgraph.domain.ingest.casting import CastPlan, raw_column
from shopgraph.domain.ingest.checks import evaluate_checks, row_checks
from shopgraph.domain.ingest.conservation import check_row_conservation
from shopgraph.domain.ingest.dedup import mark_duplicates
from shopgraph.domain.ingest.tables import TableRules
from shopgraph.domain.ingest.text import normalise_text

QUARANTINE_TAIL: tuple[str, ...] = (R.REASON, R.RULE, R.SOURCE_FILE, R.SOURCE_ROW)


@dataclass
class CuratedPartition:
    """The outcome of one partition: curated rows, quarantined rows, counts by reason, text fixes."""

    rows_in: int
    curated: pl.DataFrame
    quarantine: pl.DataFrame
    reasons: dict[str, int] = field(default_factory=dict)
    fixes: dict[str, int] = field(default_factory=dict)


def count_reasons(quarantine: pl.DataFrame) -> dict[str, int]:
    """Quarantined rows per reason code (a row with two codes counts under both), sorted by code."""
    if quarantine.height == 0:
        return {}
    codes = quarantine.get_column(R.REASON).str.split(R.REASON_SEPARATOR).explode()
    counts = codes.value_counts().sort(R.REASON)
    return {str(code): int(n) for code, n in counts.iter_rows()}


def quarantine_columns(rules: TableRules, plan: CastPlan) -> list[pl.Expr]:
    """The quarantine's columns: landing columns with original values (text for a drifted column) and
    reason, rule, source_file, source_row."""
    values = [
        pl.col(raw_column(column)).alias(column) if column in plan.casts else pl.col(column)
        for column in rules.schema
    ]
    return [*values, *(pl.col(name) for name in QUARANTINE_TAIL)]


def curate_partition(
    landing: pl.DataFrame,
    rules: TableRules,
    *,
    day: date,
    now: datetime,
    known: Mapping[str, pl.Series],
    max_text_chars: int,
    plan: CastPlan | None = None,
) -> CuratedPartition:
    """Apply every rule to a landing partition already cast by `plan` (see casting.apply_casts).

    Reads the landing columns, __raw_<column> for drifted ones, source_file and source_row. Returns the
    curated rows (landing columns, text normalised; change sets sorted by key, facts in file order) and the
    quarantined rows (original values plus reason, rule, source_file, source_row). Row conservation is
    checked before returning.
    """
    plan = plan or CastPlan()
    normalised, fixes = normalise_text(landing, rules.text_columns)
    checks = [
        *plan.checks.values(),
        *row_checks(rules, day=day, now=now, known=known, max_text_chars=max_text_chars),
    ]
    checked = mark_duplicates(evaluate_checks(normalised, checks), rules.keys)
    bad = checked.get_column(R.REASON).is_not_null()
    curated = checked.filter(~bad).select(list(rules.schema))
    if rules.change_set:
        curated = curated.sort(list(rules.keys), maintain_order=True)
    # Quarantined rows keep the text as it arrived, not as normalised.
    quarantine = (
        landing.filter(bad)
        .with_columns(checked.filter(bad).select(R.REASON, R.RULE))
        .select(quarantine_columns(rules, plan))
    )
    check_row_conservation(
        landing.height, curated.height, quarantine.height, where=f"{rules.table} dt={day.isoformat()}"
    )
    return CuratedPartition(
        rows_in=landing.height,
        curated=curated,
        quarantine=quarantine,
        reasons=count_reasons(quarantine),
        fixes=fixes,
    )
