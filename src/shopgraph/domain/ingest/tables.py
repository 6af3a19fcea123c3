"""Per-table ingestion rules: keys, text columns, value ranges, code lists, timestamps and references."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from shopgraph.domain.ingest import codes
from shopgraph.schemas import landing as L


@dataclass(frozen=True)
class TableRules:
    """What the row checks of one landing table look at; unknown tables get keys and nullability only."""

    table: str
    schema: pl.Schema
    keys: tuple[str, ...]
    nullable: frozenset[str]
    change_set: bool = False
    text_columns: tuple[str, ...] = ()
    # column -> (low, high) inclusive; None for an open end.
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    positive: tuple[str, ...] = ()
    categories: dict[str, frozenset[str]] = field(default_factory=dict)
    patterns: dict[str, str] = field(default_factory=dict)
    # Timestamps that must fall on the partition's day (facts' times, change sets' export time).
    in_partition: tuple[str, ...] = ()
    # Timestamps that may lie before the partition day but never after it (nor after now).
    not_after_day: tuple[str, ...] = ()
    # column -> referenced table (whose key is the same column name or the given one).
    references: dict[str, str] = field(default_factory=dict)

    @property
    def timestamps(self) -> tuple[str, ...]:
        return tuple(name for name, dtype in self.schema.items() if isinstance(dtype, pl.Datetime))


def _known(table: str) -> dict[str, object]:
    rating = (float(L.RATING_RANGE[0]), float(L.RATING_RANGE[1]))
    relevance = (float(L.RELEVANCE_RANGE[0]), float(L.RELEVANCE_RANGE[1]))
    specs: dict[str, dict[str, object]] = {
        L.PRODUCTS: {
            "change_set": True,
            "text_columns": (L.TITLE, L.DESCRIPTION, L.BRAND),
            "positive": (L.PRICE,),
            "patterns": {L.CURRENCY: codes.CURRENCY_PATTERN},
            "in_partition": (L.UPDATED_AT,),
        },
        L.USERS: {
            "change_set": True,
            "categories": {L.COUNTRY: codes.COUNTRIES, L.AGE_BAND: codes.AGE_BANDS},
            "patterns": {L.LANGUAGE: codes.LANGUAGE_PATTERN},
            "in_partition": (L.UPDATED_AT,),
            "not_after_day": (L.SIGNUP_AT,),
        },
        L.EVENTS: {
            "text_columns": (L.QUERY,),
            "ranges": {L.RATING: rating},
            "positive": (L.PRICE,),
            "categories": {L.EVENT_TYPE: frozenset(L.EVENT_TYPES)},
            "in_partition": (L.TS,),
            "references": {L.USER_ID: L.USERS, L.PRODUCT_ID: L.PRODUCTS},
        },
        L.REVIEWS: {
            "text_columns": (L.TITLE, L.TEXT),
            "ranges": {L.RATING: rating},
            "in_partition": (L.TS,),
            "references": {L.USER_ID: L.USERS, L.PRODUCT_ID: L.PRODUCTS},
        },
        L.SEARCH_JUDGMENTS: {
            "text_columns": (L.QUERY,),
            "ranges": {L.RELEVANCE: relevance},
            "in_partition": (L.JUDGED_AT,),
            "references": {L.PRODUCT_ID: L.PRODUCTS},
        },
        L.ENTITY_LINKS: {"references": {L.PRODUCT_ID: L.PRODUCTS}},
        L.INTERACTION_SPLITS: {"categories": {L.SPLIT: frozenset(L.SPLITS)}},
    }
    return specs.get(table, {})


def table_rules(table: str) -> TableRules:
    """The rules of a landing table from the contract (schemas/landing.py); KeyError for an unknown one."""
    schemas = L.LANDING_SCHEMAS | L.IMPORTED_SCHEMAS
    if table not in schemas:
        raise KeyError(f"unknown landing table {table!r}; known: {', '.join(sorted(schemas))}")
    schema = schemas[table]
    keys = L.LANDING_KEYS.get(table, (next(iter(schema)),))
    nullable = L.LANDING_NULLABLE.get(table, frozenset())
    return TableRules(table=table, schema=schema, keys=keys, nullable=nullable, **_known(table))  # type: ignore[arg-type]
