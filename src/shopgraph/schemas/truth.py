"""Ground-truth contract: column names and polars schemas of the hidden truth beside the landing zone."""

from __future__ import annotations

import polars as pl

from shopgraph.schemas.landing import (
    BRAND,
    CATEGORY_PATH,
    COLOUR,
    MATERIAL,
    PRODUCT_ID,
    QUERY,
    QUERY_ID,
    REVIEW_ID,
    SIZE,
    STYLE,
    USER_ID,
)

# Truth tables (folders under truth/).
PRODUCT_TRUTH = "products"
PRODUCT_ENTITIES = "product_entities"
USER_TASTES = "user_tastes"
REVIEW_TRUTH = "reviews"
QUERY_INTENTS = "query_intents"
FAULTS = "faults"

# product_entities
FIELD = "field"
START = "start"
END = "end"
ENTITY_TYPE = "type"
VALUE = "value"
CANONICAL = "canonical"

# Entity types and the text fields they are found in.
ENTITY_BRAND = "brand"
ENTITY_COLOUR = "colour"
ENTITY_MATERIAL = "material"
ENTITY_CATEGORY = "category"
ENTITY_SIZE = "size"
ENTITY_STYLE = "style"
ENTITY_TYPES: tuple[str, ...] = (
    ENTITY_BRAND,
    ENTITY_COLOUR,
    ENTITY_MATERIAL,
    ENTITY_CATEGORY,
    ENTITY_SIZE,
    ENTITY_STYLE,
)
FIELD_TITLE = "title"
FIELD_DESCRIPTION = "description"

# products (hidden product state)
DEPARTMENT = "department"
BRAND_TIER = "brand_tier"
BASE_PRICE = "base_price"
QUALITY = "quality"
IS_DEFECTIVE = "is_defective"
DEFECT_THEME = "defect_theme"
POPULARITY = "popularity"
CREATED_DT = "created_dt"
DELETED_DT = "deleted_dt"

# user_tastes
VALID_FROM = "valid_from"
VALID_TO = "valid_to"
CATEGORY_1 = "category_1"
WEIGHT_1 = "weight_1"
CATEGORY_2 = "category_2"
WEIGHT_2 = "weight_2"
CATEGORY_3 = "category_3"
WEIGHT_3 = "weight_3"
PRICE_BAND = "price_band"
SESSIONS_PER_DAY = "sessions_per_day"

# reviews (hidden review themes)
THEME = "theme"

# query_intents
HAS_TYPO = "has_typo"

# faults
TABLE = "table"
DT = "dt"
FILE = "file"
ROW = "row"
KIND = "kind"
COLUMN = "column"
DETAIL = "detail"

# Complaint themes: what went wrong for a buyer.
THEME_DEFECTIVE = "defective"
THEME_WRONG_SIZE = "wrong_size"
THEME_NOT_AS_DESCRIBED = "not_as_described"
THEME_POOR_PACKAGING = "poor_packaging"
THEME_LATE_DELIVERY = "late_delivery"
COMPLAINT_THEMES: tuple[str, ...] = (
    THEME_DEFECTIVE,
    THEME_WRONG_SIZE,
    THEME_NOT_AS_DESCRIBED,
    THEME_POOR_PACKAGING,
    THEME_LATE_DELIVERY,
)

# Fault kinds injected by dirty generation.
FAULT_NULL_KEY = "null_key"
FAULT_DUPLICATE_KEY = "duplicate_key"
FAULT_TYPE_DRIFT = "type_drift"
FAULT_BAD_ENCODING = "bad_encoding"
FAULT_CONTROL_CHARS = "control_chars"
FAULT_HTML_MARKUP = "html_markup"
FAULT_ORPHAN_REFERENCE = "orphan_reference"
FAULT_OUT_OF_RANGE = "out_of_range"
FAULT_FUTURE_TIMESTAMP = "future_timestamp"
FAULT_UNKNOWN_CATEGORY = "unknown_category"
FAULT_CORRUPT_FILE = "corrupt_file"
FAULT_KINDS: tuple[str, ...] = (
    FAULT_NULL_KEY,
    FAULT_DUPLICATE_KEY,
    FAULT_TYPE_DRIFT,
    FAULT_BAD_ENCODING,
    FAULT_CONTROL_CHARS,
    FAULT_HTML_MARKUP,
    FAULT_ORPHAN_REFERENCE,
    FAULT_OUT_OF_RANGE,
    FAULT_FUTURE_TIMESTAMP,
    FAULT_UNKNOWN_CATEGORY,
    FAULT_CORRUPT_FILE,
)

PRODUCT_ENTITIES_SCHEMA = pl.Schema(
    {
        PRODUCT_ID: pl.String(),
        FIELD: pl.String(),
        START: pl.Int32(),
        END: pl.Int32(),
        ENTITY_TYPE: pl.String(),
        VALUE: pl.String(),
        CANONICAL: pl.String(),
    }
)

PRODUCT_TRUTH_SCHEMA = pl.Schema(
    {
        PRODUCT_ID: pl.String(),
        DEPARTMENT: pl.String(),
        CATEGORY_PATH: pl.String(),
        BRAND: pl.String(),
        BRAND_TIER: pl.String(),
        COLOUR: pl.String(),
        MATERIAL: pl.String(),
        SIZE: pl.String(),
        STYLE: pl.String(),
        BASE_PRICE: pl.Float64(),
        QUALITY: pl.Float64(),
        IS_DEFECTIVE: pl.Boolean(),
        DEFECT_THEME: pl.String(),
        POPULARITY: pl.Float64(),
        CREATED_DT: pl.Date(),
        DELETED_DT: pl.Date(),
    }
)

USER_TASTES_SCHEMA = pl.Schema(
    {
        USER_ID: pl.String(),
        VALID_FROM: pl.Date(),
        VALID_TO: pl.Date(),
        CATEGORY_1: pl.String(),
        WEIGHT_1: pl.Float64(),
        CATEGORY_2: pl.String(),
        WEIGHT_2: pl.Float64(),
        CATEGORY_3: pl.String(),
        WEIGHT_3: pl.Float64(),
        STYLE: pl.String(),
        BRAND: pl.String(),
        PRICE_BAND: pl.String(),
        SESSIONS_PER_DAY: pl.Float64(),
    }
)

REVIEW_TRUTH_SCHEMA = pl.Schema({REVIEW_ID: pl.String(), PRODUCT_ID: pl.String(), THEME: pl.String()})

QUERY_INTENTS_SCHEMA = pl.Schema(
    {
        QUERY_ID: pl.String(),
        QUERY: pl.String(),
        CATEGORY_PATH: pl.String(),
        BRAND: pl.String(),
        COLOUR: pl.String(),
        MATERIAL: pl.String(),
        STYLE: pl.String(),
        SIZE: pl.String(),
        HAS_TYPO: pl.Boolean(),
    }
)

FAULTS_SCHEMA = pl.Schema(
    {
        TABLE: pl.String(),
        DT: pl.Date(),
        FILE: pl.String(),
        ROW: pl.Int64(),
        KIND: pl.String(),
        COLUMN: pl.String(),
        DETAIL: pl.String(),
    }
)

TRUTH_SCHEMAS: dict[str, pl.Schema] = {
    PRODUCT_TRUTH: PRODUCT_TRUTH_SCHEMA,
    PRODUCT_ENTITIES: PRODUCT_ENTITIES_SCHEMA,
    USER_TASTES: USER_TASTES_SCHEMA,
    REVIEW_TRUTH: REVIEW_TRUTH_SCHEMA,
    QUERY_INTENTS: QUERY_INTENTS_SCHEMA,
    FAULTS: FAULTS_SCHEMA,
}
