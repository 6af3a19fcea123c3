"""catalog-csv: a product catalog CSV (Flipkart style) mapped column by column into landing products."""

from __future__ import annotations

from datetime import date
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from shopgraph.importers.common import (
    ROW,
    ImportOptions,
    ImportResult,
    default_snapshot_day,
    drop_failing,
    drop_repeats,
    hashed_ids,
    namespaced,
    product_rows,
)
from shopgraph.importers.csv_source import blank_to_null, read_csv_text, require_columns
from shopgraph.importers.parsing import (
    BlobError,
    category_path,
    drop_product_leaf,
    parse_category_list,
    parse_specifications,
    split_levels,
)
from shopgraph.importers.report import ImportReport
from shopgraph.schemas import landing as L

FORMAT = "catalog-csv"
CanonicalColumn = Literal["colour", "material", "size", "style"]


class CatalogColumns(BaseModel):
    """Source column per role; only title is required."""

    model_config = ConfigDict(extra="forbid")

    title: str
    product_id: str | None = None
    description: str | None = None
    brand: str | None = None
    category: str | None = None
    price: str | None = None
    specifications: str | None = None


class CatalogCsvMapping(ImportOptions):
    """Columns of a catalog CSV and how to read its category and specification fields."""

    columns: CatalogColumns
    encoding: str = "utf-8"
    separator: str = ","
    category_format: Literal["list", "path"] = "path"
    category_separator: str = ">"
    drop_product_leaf: bool = False
    # Canonical product columns filled from specification keys (matched case-insensitively, first wins).
    attribute_columns: dict[CanonicalColumn, list[str]] = Field(default_factory=dict)


def map_categories(
    frame: pl.DataFrame, mapping: CatalogCsvMapping, file: str, report: ImportReport
) -> pl.Series:
    """category_path per row from `_category` (and `title` for drop_product_leaf); unreadable or empty
    trees fall back to the mapping's default category and are reported."""
    paths: list[str] = []
    for row, text, title in frame.select(ROW, "_category", L.TITLE).iter_rows():
        levels: list[str] = []
        if text is not None:
            try:
                if mapping.category_format == "list":
                    levels = parse_category_list(text)
                else:
                    levels = split_levels(text, mapping.category_separator)
            except BlobError as exc:
                report.partial(L.PRODUCTS, "unreadable category", file, row, f"{exc}: {text[:80]!r}")
        if mapping.drop_product_leaf:
            levels = drop_product_leaf(levels, title)
        path = category_path(levels)
        if path is None:
            report.partial(
                L.PRODUCTS, "no category", file, row, f"category_path set to {mapping.category_path!r}"
            )
        paths.append(path or mapping.category_path)
    return pl.Series(L.CATEGORY_PATH, paths, dtype=pl.String)


def map_specifications(frame: pl.DataFrame, file: str, report: ImportReport) -> pl.Series:
    """attributes (key/value list) per row from `_specifications`; unreadable blobs and keyless values
    are reported and left out."""
    values: list[list[dict[str, str]]] = []
    for row, text in frame.select(ROW, "_specifications").iter_rows():
        pairs: list[dict[str, str]] = []
        if text is not None:
            try:
                pairs, keyless = parse_specifications(text)
                if keyless:
                    report.partial(
                        L.PRODUCTS, "specification without key", file, row, f"{keyless} value(s) left out"
                    )
            except BlobError as exc:
                report.partial(L.PRODUCTS, "unreadable specifications", file, row, f"{exc}: {text[:80]!r}")
        values.append(pairs)
    return pl.Series(L.ATTRIBUTES, values, dtype=L.ATTRIBUTE_PAIRS)


def canonical_from_attributes(attributes: pl.Expr, keys: list[str]) -> pl.Expr:
    """The lower-cased value of the first attribute whose key is one of keys (any case), else null."""
    wanted = [key.lower() for key in keys]
    matches = attributes.list.eval(
        pl.when(pl.element().struct.field(L.ATTRIBUTE_KEY).str.to_lowercase().is_in(wanted))
        .then(pl.element().struct.field(L.ATTRIBUTE_VALUE).str.to_lowercase())
        .otherwise(None)
    ).list.drop_nulls()
    return matches.list.first()


def map_catalog(
    rows: pl.DataFrame,
    mapping: CatalogCsvMapping,
    namespace: str,
    snapshot_day: date,
    file: str,
    report: ImportReport,
) -> pl.DataFrame:
    """Contract products from catalog rows with `_row` and the mapped columns.

    Reads title, product_id, description, brand, category, price and specifications as mapped; writes
    product_id (`<ns>:<id>`, or `<ns>:P<hash of title and description>` without an id column), category_path
    (`A > B > C`), price (null and reported when missing, non-numeric or not positive), attributes and the
    canonical colour/material/size/style taken from specification keys. Drops and reports rows without a
    title or id and repeated ids (the first row is kept).
    """
    cols = mapping.columns

    def optional(column: str | None, name: str) -> pl.Expr:
        return (blank_to_null(column) if column else pl.lit(None, pl.String)).alias(name)

    frame = rows.select(
        ROW,
        optional(cols.title, L.TITLE),
        optional(cols.description, L.DESCRIPTION),
        optional(cols.brand, L.BRAND),
        optional(cols.category, "_category"),
        optional(cols.price, "_price_text"),
        optional(cols.specifications, "_specifications"),
        optional(cols.product_id, "_source_id"),
    )
    checks = [(pl.col(L.TITLE).is_null(), "missing title", pl.lit(f"column {cols.title!r} is empty"))]
    if cols.product_id:
        checks.append(
            (pl.col("_source_id").is_null(), "missing product id", pl.lit(f"{cols.product_id!r} is empty"))
        )
    frame = drop_failing(frame, checks, L.PRODUCTS, file, report)
    if cols.product_id:
        frame = frame.with_columns(namespaced(namespace, "_source_id").alias(L.PRODUCT_ID))
    else:
        frame = frame.with_columns(
            hashed_ids(frame, [L.TITLE, L.DESCRIPTION], f"{namespace}:P").alias(L.PRODUCT_ID)
        )
        report.note("product_id: no id column, so `<ns>:P` + a hash of title and description")
    frame = drop_repeats(frame, [L.PRODUCT_ID], L.PRODUCTS, "duplicate product id", file, report)

    frame = frame.with_columns(
        pl.col("_price_text").str.replace_all(",", "").cast(pl.Float64, strict=False).alias(L.PRICE)
    )
    if cols.price:
        unpriced = frame.filter(
            pl.col(L.PRICE).is_null() | (pl.col(L.PRICE) <= 0) | ~pl.col(L.PRICE).is_finite()
        )
        for row, text in unpriced.select(ROW, "_price_text").iter_rows():
            report.partial(
                L.PRODUCTS,
                "no usable price",
                file,
                row,
                f"{cols.price} = {text if text is not None else '<empty>'}: price left null",
            )
        frame = frame.with_columns(
            pl.when((pl.col(L.PRICE) > 0) & pl.col(L.PRICE).is_finite())
            .then(pl.col(L.PRICE))
            .otherwise(None)
            .alias(L.PRICE)
        )
    else:
        report.note("price: no price column mapped, so price is null")
    frame = frame.with_columns(
        map_categories(frame, mapping, file, report), map_specifications(frame, file, report)
    )
    frame = frame.with_columns(
        canonical_from_attributes(pl.col(L.ATTRIBUTES), keys).alias(column)
        for column, keys in mapping.attribute_columns.items()
    )
    report.note(
        f"products: currency {mapping.currency} from the mapping, updated_at the snapshot day {snapshot_day}"
    )
    return product_rows(frame, snapshot_day, mapping.currency)


def import_catalog_csv(
    path: str, mapping: CatalogCsvMapping, namespace: str, day: date | None
) -> ImportResult:
    """Read a catalog CSV and map it to landing products."""
    report = ImportReport(FORMAT, namespace, path)
    rows = read_csv_text(path, mapping.encoding, mapping.separator)
    require_columns(rows, mapping.columns.model_dump(), path)
    snapshot_day = default_snapshot_day([], day)
    products = map_catalog(rows, mapping, namespace, snapshot_day, path, report)
    return ImportResult({L.PRODUCTS: products}, report, snapshot_day)
