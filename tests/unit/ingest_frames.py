"""Hand-built landing rows for the ingestion tests: small valid frames that a test then breaks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl

from shopgraph.domain.ingest import reasons as R
from shopgraph.schemas import landing as L

DAY = date(2026, 1, 2)
NOON = datetime(2026, 1, 2, 12, tzinfo=UTC)
NOW = datetime(2026, 2, 1, tzinfo=UTC)


def products(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A products change set from partial rows; missing columns get live defaults on DAY."""
    defaults: dict[str, Any] = {
        L.TITLE: "Linen Shirt in Navy",
        L.DESCRIPTION: "A light shirt.",
        L.BRAND: "Nordkamm",
        L.CATEGORY_PATH: "Clothing > Men > Shirts",
        L.PRICE: 24.99,
        L.CURRENCY: "EUR",
        L.COLOUR: "navy",
        L.MATERIAL: "linen",
        L.SIZE: "M",
        L.STYLE: None,
        L.ATTRIBUTES: [{"key": "fit", "value": "slim"}],
        L.IS_DELETED: False,
        L.UPDATED_AT: datetime(2026, 1, 2, 0, 30, tzinfo=UTC),
    }
    return pl.DataFrame([{**defaults, **row} for row in rows], schema=L.PRODUCTS_SCHEMA)


def events(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """An events partition from partial rows; missing columns make a view at NOON."""
    defaults: dict[str, Any] = {
        L.USER_ID: "U00000001",
        L.PRODUCT_ID: "P00000001",
        L.EVENT_TYPE: "view",
        L.TS: NOON,
        L.SESSION_ID: "S1",
        L.QUERY: None,
        L.RATING: None,
        L.PRICE: None,
    }
    full = [{**defaults, L.EVENT_ID: f"E{i}", **row} for i, row in enumerate(rows)]
    return pl.DataFrame(full, schema=L.EVENTS_SCHEMA)


def users(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A users change set from partial rows."""
    defaults: dict[str, Any] = {
        L.SIGNUP_AT: NOON - timedelta(days=30),
        L.COUNTRY: "DE",
        L.AGE_BAND: "25-34",
        L.LANGUAGE: "de",
        L.MARKETING_OPT_IN: False,
        L.IS_DELETED: False,
        L.UPDATED_AT: datetime(2026, 1, 2, 0, 10, tzinfo=UTC),
    }
    return pl.DataFrame([{**defaults, **row} for row in rows], schema=L.USERS_SCHEMA)


def with_source(
    frame: pl.DataFrame, source: str = "landing/x/dt=2026-01-02/part-00000.parquet"
) -> pl.DataFrame:
    """Add the source_file and source_row working columns the pipeline adds when reading a file."""
    return frame.with_columns(
        pl.lit(source).alias(R.SOURCE_FILE), pl.int_range(pl.len(), dtype=pl.Int64).alias(R.SOURCE_ROW)
    )


KNOWN = {
    L.PRODUCTS: pl.Series(L.PRODUCT_ID, ["P00000001", "P00000002"]),
    L.USERS: pl.Series(L.USER_ID, ["U00000001", "U00000002"]),
}
