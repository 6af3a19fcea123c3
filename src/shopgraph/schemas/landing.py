"""Landing-zone contract: column names, one polars schema per table, keys, nullability and check_schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

import polars as pl
import pyarrow as pa

from shopgraph.errors import ShopgraphError

# Landing tables.
PRODUCTS = "products"
USERS = "users"
EVENTS = "events"
REVIEWS = "reviews"
SEARCH_JUDGMENTS = "search_judgments"

# Columns shared by several tables.
PRODUCT_ID = "product_id"
USER_ID = "user_id"
TITLE = "title"
PRICE = "price"
RATING = "rating"
TS = "ts"
QUERY = "query"
IS_DELETED = "is_deleted"
UPDATED_AT = "updated_at"

# products
DESCRIPTION = "description"
BRAND = "brand"
CATEGORY_PATH = "category_path"
CURRENCY = "currency"
COLOUR = "colour"
MATERIAL = "material"
SIZE = "size"
STYLE = "style"
ATTRIBUTES = "attributes"
ATTRIBUTE_KEY = "key"
ATTRIBUTE_VALUE = "value"

# users
SIGNUP_AT = "signup_at"
COUNTRY = "country"
AGE_BAND = "age_band"
LANGUAGE = "language"
MARKETING_OPT_IN = "marketing_opt_in"

# events
EVENT_ID = "event_id"
EVENT_TYPE = "event_type"
SESSION_ID = "session_id"

# reviews
REVIEW_ID = "review_id"
TEXT = "text"

# search_judgments
QUERY_ID = "query_id"
RELEVANCE = "relevance"
JUDGED_AT = "judged_at"

# event_type values, in funnel order.
VIEW = "view"
CLICK = "click"
ADD_TO_CART = "add_to_cart"
PURCHASE = "purchase"
RATE = "rating"
EVENT_TYPES: tuple[str, ...] = (VIEW, CLICK, ADD_TO_CART, PURCHASE, RATE)

RATING_RANGE = (1, 5)
RELEVANCE_RANGE = (0, 3)

TIMESTAMP = pl.Datetime("us", "UTC")
ATTRIBUTE_PAIRS = pl.List(pl.Struct({ATTRIBUTE_KEY: pl.String(), ATTRIBUTE_VALUE: pl.String()}))

PRODUCTS_SCHEMA = pl.Schema(
    {
        PRODUCT_ID: pl.String(),
        TITLE: pl.String(),
        DESCRIPTION: pl.String(),
        BRAND: pl.String(),
        CATEGORY_PATH: pl.String(),
        PRICE: pl.Float64(),
        CURRENCY: pl.String(),
        COLOUR: pl.String(),
        MATERIAL: pl.String(),
        SIZE: pl.String(),
        STYLE: pl.String(),
        ATTRIBUTES: ATTRIBUTE_PAIRS,
        IS_DELETED: pl.Boolean(),
        UPDATED_AT: TIMESTAMP,
    }
)

USERS_SCHEMA = pl.Schema(
    {
        USER_ID: pl.String(),
        SIGNUP_AT: TIMESTAMP,
        COUNTRY: pl.String(),
        AGE_BAND: pl.String(),
        LANGUAGE: pl.String(),
        MARKETING_OPT_IN: pl.Boolean(),
        IS_DELETED: pl.Boolean(),
        UPDATED_AT: TIMESTAMP,
    }
)

EVENTS_SCHEMA = pl.Schema(
    {
        EVENT_ID: pl.String(),
        USER_ID: pl.String(),
        PRODUCT_ID: pl.String(),
        EVENT_TYPE: pl.String(),
        TS: TIMESTAMP,
        SESSION_ID: pl.String(),
        QUERY: pl.String(),
        RATING: pl.Int32(),
        PRICE: pl.Float64(),
    }
)

REVIEWS_SCHEMA = pl.Schema(
    {
        REVIEW_ID: pl.String(),
        USER_ID: pl.String(),
        PRODUCT_ID: pl.String(),
        RATING: pl.Int32(),
        TITLE: pl.String(),
        TEXT: pl.String(),
        TS: TIMESTAMP,
    }
)

SEARCH_JUDGMENTS_SCHEMA = pl.Schema(
    {
        QUERY_ID: pl.String(),
        QUERY: pl.String(),
        PRODUCT_ID: pl.String(),
        RELEVANCE: pl.Int32(),
        JUDGED_AT: TIMESTAMP,
    }
)

LANDING_SCHEMAS: dict[str, pl.Schema] = {
    PRODUCTS: PRODUCTS_SCHEMA,
    USERS: USERS_SCHEMA,
    EVENTS: EVENTS_SCHEMA,
    REVIEWS: REVIEWS_SCHEMA,
    SEARCH_JUDGMENTS: SEARCH_JUDGMENTS_SCHEMA,
}

# Landing tables that only importers write (the generator does not); see "Imported data" in the contract.
KG_TRIPLES = "kg_triples"
ENTITY_LINKS = "entity_links"
INTERACTION_SPLITS = "interaction_splits"
HEAD_ENTITY = "head_entity"
RELATION = "relation"
TAIL_ENTITY = "tail_entity"
ENTITY_ID = "entity_id"
SPLIT = "split"
SPLITS: tuple[str, ...] = ("train", "valid", "test")

IMPORTED_SCHEMAS: dict[str, pl.Schema] = {
    KG_TRIPLES: pl.Schema({HEAD_ENTITY: pl.String(), RELATION: pl.String(), TAIL_ENTITY: pl.String()}),
    ENTITY_LINKS: pl.Schema({PRODUCT_ID: pl.String(), ENTITY_ID: pl.String()}),
    INTERACTION_SPLITS: pl.Schema({EVENT_ID: pl.String(), SPLIT: pl.String()}),
}

# Columns that identify a row: unique within one partition, never null.
LANDING_KEYS: dict[str, tuple[str, ...]] = {
    PRODUCTS: (PRODUCT_ID,),
    USERS: (USER_ID,),
    EVENTS: (EVENT_ID,),
    REVIEWS: (REVIEW_ID,),
    SEARCH_JUDGMENTS: (QUERY_ID, PRODUCT_ID),
    KG_TRIPLES: (HEAD_ENTITY, RELATION, TAIL_ENTITY),
    ENTITY_LINKS: (PRODUCT_ID, ENTITY_ID),
    INTERACTION_SPLITS: (EVENT_ID,),
}

# Columns that may be null in a clean live row. Tombstones (is_deleted = true) carry only the key,
# is_deleted and updated_at; every other column of a tombstone is null.
LANDING_NULLABLE: dict[str, frozenset[str]] = {
    # price is null only in imported products whose source lists no price (see "Imported data").
    PRODUCTS: frozenset({DESCRIPTION, BRAND, PRICE, COLOUR, MATERIAL, SIZE, STYLE}),
    USERS: frozenset({AGE_BAND}),
    EVENTS: frozenset({QUERY, RATING, PRICE}),
    REVIEWS: frozenset({TITLE}),
    SEARCH_JUDGMENTS: frozenset(),
    KG_TRIPLES: frozenset(),
    ENTITY_LINKS: frozenset(),
    INTERACTION_SPLITS: frozenset(),
}

# Tables published as change sets (upserts with tombstones) rather than append-only facts.
CHANGE_SET_TABLES: frozenset[str] = frozenset({PRODUCTS, USERS})


class SchemaError(ShopgraphError, ValueError):
    """A frame or file does not match its landing schema; lists every problem at once."""

    def __init__(
        self,
        table: str,
        source: str,
        *,
        missing: list[str],
        extra: list[str],
        mistyped: list[tuple[str, pl.DataType, pl.DataType]],
    ) -> None:
        self.table = table
        self.source = source
        self.missing = missing
        self.extra = extra
        self.mistyped = mistyped
        problems = []
        if missing:
            problems.append("missing columns: " + ", ".join(missing))
        if extra:
            problems.append("extra columns: " + ", ".join(extra))
        if mistyped:
            problems.append(
                "mistyped columns: "
                + ", ".join(f"{name} (expected {want}, got {got})" for name, want, got in mistyped)
            )
        super().__init__(f"{source}: does not match landing table {table!r}: " + "; ".join(problems))


SchemaLike: TypeAlias = pl.DataFrame | pl.LazyFrame | pl.Schema | pa.Schema | Mapping[str, pl.DataType]


def polars_schema(frame_or_schema: SchemaLike) -> pl.Schema:
    """The polars schema of a frame, lazy frame, polars or pyarrow schema (read from a Parquet footer)."""
    if isinstance(frame_or_schema, pl.LazyFrame):
        return frame_or_schema.collect_schema()
    if isinstance(frame_or_schema, pl.DataFrame):
        return frame_or_schema.schema
    return pl.Schema(frame_or_schema)


def check_schema(frame_or_schema: SchemaLike, table: str, source: str) -> None:
    """Raise one SchemaError naming the source and table with every missing, extra or mistyped column."""
    schemas = LANDING_SCHEMAS | IMPORTED_SCHEMAS
    if table not in schemas:
        raise KeyError(f"unknown landing table {table!r}; known: {', '.join(sorted(schemas))}")
    expected = schemas[table]
    actual = polars_schema(frame_or_schema)
    missing = [name for name in expected if name not in actual]
    extra = [name for name in actual if name not in expected]
    mistyped = [
        (name, dtype, actual[name])
        for name, dtype in expected.items()
        if name in actual and actual[name] != dtype
    ]
    if missing or extra or mistyped:
        raise SchemaError(table, source, missing=missing, extra=extra, mistyped=mistyped)
