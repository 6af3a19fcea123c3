"""Unit tests of the pure ingestion rules: casting, text, checks, dedup, current state, conservation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from ingest_frames import DAY, KNOWN, NOON, NOW, events, products, users, with_source
from polars.testing import assert_frame_equal

from shopgraph.domain.ingest import reasons as R
from shopgraph.domain.ingest.casting import IncompatibleTypeError, apply_casts, plan_casts, raw_column
from shopgraph.domain.ingest.conservation import RowConservationError, check_row_conservation
from shopgraph.domain.ingest.curate import curate_partition
from shopgraph.domain.ingest.state import current_state
from shopgraph.domain.ingest.tables import table_rules
from shopgraph.domain.ingest.text import normalise_text, repair_mojibake
from shopgraph.schemas import landing as L

pytestmark = pytest.mark.unit


def curate(frame: pl.DataFrame, table: str, *, now: datetime = NOW, max_text_chars: int = 20_000, plan=None):
    return curate_partition(
        with_source(frame),
        table_rules(table),
        day=DAY,
        now=now,
        known=KNOWN,
        max_text_chars=max_text_chars,
        plan=plan,
    )


def reasons_of(result) -> list[str]:
    return result.quarantine.get_column(R.REASON).to_list()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("24.99", 24.99), ("24,99", 24.99), ("€24.99", 24.99), ("EUR 5", 5.0), (" 7 ", 7.0), ("abc", None)],
)
def test_price_as_text_casts_compatible_values(text: str, expected: float | None) -> None:
    frame = products([{L.PRODUCT_ID: "P1"}]).with_columns(pl.lit(text).alias(L.PRICE))
    plan = plan_casts(frame.schema, L.PRODUCTS_SCHEMA, source="f.parquet")
    cast = apply_casts(frame, L.PRODUCTS_SCHEMA, plan)
    assert plan.casts == {L.PRICE: "String->Float64"}
    assert cast[L.PRICE].to_list() == [expected]
    assert cast[raw_column(L.PRICE)].to_list() == [text]


def test_type_drift_quarantines_uncastable_price_with_its_original_text() -> None:
    frame = products([{L.PRODUCT_ID: "P1"}, {L.PRODUCT_ID: "P2"}]).with_columns(
        pl.Series(L.PRICE, ["12.50", "twelve"])
    )
    plan = plan_casts(frame.schema, L.PRODUCTS_SCHEMA, source="f.parquet")
    result = curate(apply_casts(frame, L.PRODUCTS_SCHEMA, plan), L.PRODUCTS, plan=plan)
    assert result.curated[L.PRICE].to_list() == [12.5]
    assert reasons_of(result) == [R.CAST_FAILED]
    assert result.quarantine[L.PRICE].to_list() == ["twelve"]
    assert result.quarantine[R.SOURCE_ROW].to_list() == [1]


def test_incompatible_type_names_file_and_column() -> None:
    frame = products([{L.PRODUCT_ID: "P1"}]).with_columns(pl.lit("fit=slim").alias(L.ATTRIBUTES))
    with pytest.raises(IncompatibleTypeError, match=r"f\.parquet: column 'attributes' is String"):
        plan_casts(frame.schema, L.PRODUCTS_SCHEMA, source="f.parquet")


def test_invalid_utf8_bytes_are_quarantined_as_invalid_utf8() -> None:
    frame = products([{L.PRODUCT_ID: "P1"}, {L.PRODUCT_ID: "P2"}]).with_columns(
        pl.Series(L.TITLE, [b"Good shirt", b"Bad \xff\xfe shirt"], dtype=pl.Binary)
    )
    plan = plan_casts(frame.schema, L.PRODUCTS_SCHEMA, source="f.parquet")
    result = curate(apply_casts(frame, L.PRODUCTS_SCHEMA, plan), L.PRODUCTS, plan=plan)
    assert result.curated[L.TITLE].to_list() == ["Good shirt"]
    # The title is also null once its bytes could not be decoded.
    assert reasons_of(result) == [f"{R.INVALID_UTF8};{R.NULL_VALUE}"]
    assert result.quarantine[L.TITLE].to_list() == ["Bad \\xff\\xfe shirt"]


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("Caf\u00c3\u00a9 table", "Café table"),
        ("Bloom &\u00c2\u00a0Dew", "Bloom & Dew"),
        ("Speaker \u00e2\x80\x93 Black", "Speaker – Black"),
        ("<p>Soft &amp; warm.<br> Wash cold.</p>", "Soft & warm. Wash cold."),
        ("Nice<script>track()</script>", "Nice"),
        ("Warm\x00 wool\x1b[0m jumper\x07", "Warm wool jumper"),
        ("Cafe\u0301  \t noir\r\n", "Café noir"),
        ("size < 5 > 3", "size < 5 > 3"),
    ],
)
def test_normalise_text_repairs_and_strips(dirty: str, clean: str) -> None:
    frame, fixes = normalise_text(pl.DataFrame({"t": [dirty]}), ("t",))
    assert frame["t"].to_list() == [clean]
    assert fixes or dirty == clean


def test_normalise_text_leaves_clean_text_alone() -> None:
    frame = pl.DataFrame({"t": ["Maison Lumière linen shirt, navy.", None]})
    normalised, fixes = normalise_text(frame, ("t",))
    assert_frame_equal(normalised, frame)
    assert fixes == {}


def test_repair_mojibake_keeps_text_that_does_not_round_trip() -> None:
    assert repair_mojibake("plain ascii") == "plain ascii"
    assert repair_mojibake("Ã©") == "é"


def test_null_keys_are_quarantined() -> None:
    result = curate(events([{}, {L.EVENT_ID: None}]), L.EVENTS)
    assert result.curated.height == 1
    assert reasons_of(result) == [R.NULL_KEY]


def test_negative_prices_are_out_of_range() -> None:
    result = curate(products([{L.PRODUCT_ID: "P1", L.PRICE: -3.0}, {L.PRODUCT_ID: "P2"}]), L.PRODUCTS)
    assert reasons_of(result) == [R.OUT_OF_RANGE]
    assert "price -3.0 is not > 0" in result.quarantine[R.RULE][0]


def test_orphan_events_are_quarantined() -> None:
    frame = events([{}, {L.USER_ID: "U99999999"}, {L.PRODUCT_ID: "P99999999"}])
    result = curate(frame, L.EVENTS)
    assert reasons_of(result) == [R.ORPHAN_REFERENCE, R.ORPHAN_REFERENCE]
    assert "user_id U99999999 is not in curated users" in result.quarantine[R.RULE][0]


def test_future_timestamps_are_judged_against_the_given_now() -> None:
    frame = events([{}, {L.TS: NOON + timedelta(hours=6)}])
    assert curate(frame, L.EVENTS, now=NOW).quarantine.height == 0
    early = datetime(2026, 1, 2, 15, tzinfo=UTC)
    result = curate(frame, L.EVENTS, now=early)
    assert reasons_of(result) == [R.FUTURE_TIMESTAMP]


def test_timestamps_after_the_partition_day_are_future() -> None:
    frame = events([{L.TS: NOON + timedelta(days=90)}, {L.TS: NOON - timedelta(days=1)}])
    result = curate(frame, L.EVENTS, now=NOW + timedelta(days=3650))
    assert reasons_of(result) == [R.FUTURE_TIMESTAMP, R.OUTSIDE_PARTITION]


def test_unknown_categories_and_inconsistent_events() -> None:
    frame = events(
        [{L.EVENT_TYPE: "purchse"}, {L.EVENT_TYPE: "rating"}, {L.EVENT_TYPE: "purchase", L.PRICE: 5.0}]
    )
    result = curate(frame, L.EVENTS)
    assert reasons_of(result) == [R.UNKNOWN_CATEGORY, R.INCONSISTENT]
    bad_country = curate(users([{L.USER_ID: "U1", L.COUNTRY: "XX"}, {L.USER_ID: "U2"}]), L.USERS)
    assert reasons_of(bad_country) == [R.UNKNOWN_CATEGORY]


def test_a_megabyte_description_is_quarantined_whole() -> None:
    huge = "word " * 200_000
    result = curate(products([{L.PRODUCT_ID: "P1", L.DESCRIPTION: huge}, {L.PRODUCT_ID: "P2"}]), L.PRODUCTS)
    assert reasons_of(result) == [R.TEXT_TOO_LONG]
    assert result.quarantine[L.DESCRIPTION][0] == huge
    assert len(result.quarantine[R.RULE][0]) < 200


def test_control_characters_are_stripped_not_quarantined() -> None:
    result = curate(products([{L.PRODUCT_ID: "P1", L.DESCRIPTION: "Soft\x00 cotton\x07."}]), L.PRODUCTS)
    assert result.curated[L.DESCRIPTION].to_list() == ["Soft cotton."]
    assert result.fixes[R.FIX_CONTROL] == 1


def test_duplicate_keys_keep_the_latest_updated_at() -> None:
    early = datetime(2026, 1, 2, 0, 5, tzinfo=UTC)
    late = datetime(2026, 1, 2, 0, 50, tzinfo=UTC)
    frame = products(
        [
            {L.PRODUCT_ID: "P1", L.PRICE: 10.0, L.UPDATED_AT: early},
            {L.PRODUCT_ID: "P1", L.PRICE: 12.0, L.UPDATED_AT: late},
            {L.PRODUCT_ID: "P2"},
            {L.PRODUCT_ID: "P2"},
        ]
    )
    result = curate(frame, L.PRODUCTS)
    assert result.curated.select(L.PRODUCT_ID, L.PRICE).rows() == [("P1", 12.0), ("P2", 24.99)]
    assert result.quarantine[R.SOURCE_ROW].to_list() == [0, 3]
    assert reasons_of(result) == [R.DUPLICATE_KEY, R.DUPLICATE_KEY]


def test_duplicate_facts_keep_the_first_copy() -> None:
    frame = events([{}, {}]).with_columns(pl.lit("E1").alias(L.EVENT_ID))
    result = curate(frame, L.EVENTS)
    assert result.quarantine[R.SOURCE_ROW].to_list() == [1]
    assert "kept row landing/x/dt=2026-01-02/part-00000.parquet:0" in result.quarantine[R.RULE][0]


def test_a_bad_row_never_wins_a_key_over_a_good_copy() -> None:
    frame = products([{L.PRODUCT_ID: "P1", L.PRICE: -1.0}, {L.PRODUCT_ID: "P1"}])
    result = curate(frame, L.PRODUCTS)
    assert result.curated[L.PRICE].to_list() == [24.99]
    assert reasons_of(result) == [f"{R.OUT_OF_RANGE};{R.DUPLICATE_KEY}"]


def test_tombstones_need_only_key_and_time() -> None:
    frame = products([{L.PRODUCT_ID: "P1"}]).vstack(
        pl.DataFrame(
            {L.PRODUCT_ID: ["P2"], L.IS_DELETED: [True], L.UPDATED_AT: [NOON.replace(hour=0)]},
            schema_overrides={L.UPDATED_AT: L.TIMESTAMP},
        ).select(
            pl.col(c) if c in (L.PRODUCT_ID, L.IS_DELETED, L.UPDATED_AT) else pl.lit(None, t).alias(c)
            for c, t in L.PRODUCTS_SCHEMA.items()
        )
    )
    result = curate(frame, L.PRODUCTS)
    assert result.quarantine.height == 0
    assert result.curated[L.IS_DELETED].to_list() == [False, True]


def test_current_state_applies_tombstones_and_latest_versions() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    changes = pl.DataFrame(
        {
            L.PRODUCT_ID: ["P2", "P1", "P1", "P3", "P3"],
            L.TITLE: ["b", "a1", "a2", "c", None],
            L.IS_DELETED: [False, False, False, False, True],
            L.UPDATED_AT: [t0, t0, t0 + timedelta(days=1), t0, t0 + timedelta(days=2)],
        }
    )
    current = current_state(changes.lazy(), L.PRODUCT_ID).collect()
    assert current.rows() == [("P1", "a2", t0 + timedelta(days=1)), ("P2", "b", t0)]
    assert L.IS_DELETED not in current.columns


def test_row_conservation_error_names_the_partition() -> None:
    check_row_conservation(5, 3, 2, where="events dt=2026-01-02")
    with pytest.raises(
        RowConservationError, match="events dt=2026-01-02: row conservation broken: 5 rows in"
    ):
        check_row_conservation(5, 3, 1, where="events dt=2026-01-02")


def test_unknown_table_rules_use_keys_and_nullability() -> None:
    rules = table_rules(L.KG_TRIPLES)
    frame = pl.DataFrame(
        {L.HEAD_ENTITY: ["a", None, "a"], L.RELATION: ["r", "r", "r"], L.TAIL_ENTITY: ["b", "b", "b"]}
    )
    result = curate_partition(with_source(frame), rules, day=DAY, now=NOW, known={}, max_text_chars=100)
    assert sorted(reasons_of(result)) == [R.DUPLICATE_KEY, R.NULL_KEY]
    with pytest.raises(KeyError, match="unknown landing table 'nope'"):
        table_rules("nope")
