"""Data contracts: column names and polars schemas for every table the lake holds."""

from shopgraph.schemas.landing import LANDING_SCHEMAS, SchemaError, check_schema

__all__ = ["LANDING_SCHEMAS", "SchemaError", "check_schema"]
