"""Unit tests for the landing-zone contract: schemas, keys, nullability and check_schema's single error."""

from __future__ import annotations

import polars as pl
import pytest

from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T
from shopgraph.schemas.landing import LANDING_SCHEMAS, SchemaError, check_schema

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("table", sorted(LANDING_SCHEMAS))
def test_empty_frame_of_each_schema_passes(table: str) -> None:
    check_schema(pl.DataFrame(schema=LANDING_SCHEMAS[table]), table, "empty.parquet")


@pytest.mark.parametrize("table", sorted(LANDING_SCHEMAS))
def test_keys_and_nullable_columns_exist(table: str) -> None:
    schema = LANDING_SCHEMAS[table]
    assert set(L.LANDING_KEYS[table]) <= set(schema)
    assert L.LANDING_NULLABLE[table] <= set(schema)
    assert not set(L.LANDING_KEYS[table]) & L.LANDING_NULLABLE[table]


def test_change_set_tables_have_tombstones() -> None:
    for table in L.CHANGE_SET_TABLES:
        assert LANDING_SCHEMAS[table][L.IS_DELETED] == pl.Boolean
        assert LANDING_SCHEMAS[table][L.UPDATED_AT] == L.TIMESTAMP


def test_error_lists_every_problem_and_names_source_and_table() -> None:
    schema = dict(L.EVENTS_SCHEMA)
    del schema[L.SESSION_ID]
    del schema[L.QUERY]
    schema[L.PRICE] = pl.String
    schema[L.TS] = pl.Datetime("ns")
    schema["debug_flag"] = pl.Boolean
    frame = pl.DataFrame(schema=schema)

    with pytest.raises(SchemaError) as caught:
        check_schema(frame, L.EVENTS, "landing/events/dt=2026-01-01/part-00000.parquet")

    error = caught.value
    assert error.missing == [L.SESSION_ID, L.QUERY]
    assert error.extra == ["debug_flag"]
    assert [name for name, _, _ in error.mistyped] == [L.TS, L.PRICE]
    message = str(error)
    for part in (
        L.SESSION_ID,
        L.QUERY,
        "debug_flag",
        L.TS,
        L.PRICE,
        "'events'",
        "part-00000.parquet",
        "String",
    ):
        assert part in message
    assert isinstance(error, ValueError)


def test_timezone_and_nested_types_are_checked_exactly() -> None:
    schema = dict(L.PRODUCTS_SCHEMA)
    schema[L.UPDATED_AT] = pl.Datetime("us")
    schema[L.ATTRIBUTES] = pl.List(pl.Struct({L.ATTRIBUTE_KEY: pl.String}))
    with pytest.raises(SchemaError) as caught:
        check_schema(pl.Schema(schema), L.PRODUCTS, "x")
    assert [name for name, _, _ in caught.value.mistyped] == [L.ATTRIBUTES, L.UPDATED_AT]


def test_accepts_lazy_frames_and_arrow_schemas() -> None:
    frame = pl.DataFrame(schema=L.REVIEWS_SCHEMA)
    check_schema(frame.lazy(), L.REVIEWS, "lazy")
    check_schema(frame.to_arrow().schema, L.REVIEWS, "arrow")
    with pytest.raises(SchemaError, match="missing columns: text"):
        check_schema(frame.drop(L.TEXT).to_arrow().schema, L.REVIEWS, "arrow")


def test_unknown_table_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="unknown landing table"):
        check_schema(pl.DataFrame(), "orders", "x")


def test_truth_schemas_name_their_columns() -> None:
    assert set(T.TRUTH_SCHEMAS) == {
        T.PRODUCT_TRUTH,
        T.PRODUCT_ENTITIES,
        T.USER_TASTES,
        T.REVIEW_TRUTH,
        T.QUERY_INTENTS,
        T.FAULTS,
    }
    assert T.FAULTS_SCHEMA[T.ROW] == pl.Int64
    assert set(T.ENTITY_TYPES) == {"brand", "colour", "material", "category", "size", "style"}
