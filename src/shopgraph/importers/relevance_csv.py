"""relevance-csv: query x product judgments (CrowdFlower, Home Depot) into products and search_judgments."""

from __future__ import annotations

from datetime import date

import polars as pl
from pydantic import BaseModel, ConfigDict, model_validator

from shopgraph.importers.common import (
    DT,
    ROW,
    ImportOptions,
    ImportResult,
    default_snapshot_day,
    drop_failing,
    hashed_ids,
    namespaced,
    product_rows,
    timeless_fact_time,
)
from shopgraph.importers.csv_source import blank_to_null, read_csv_text, require_columns
from shopgraph.importers.report import ImportReport
from shopgraph.schemas import landing as L

FORMAT = "relevance-csv"
SOURCE_PRODUCT = "_source_product"


class RelevanceColumns(BaseModel):
    """Source column per role; product_id and description are optional."""

    model_config = ConfigDict(extra="forbid")

    query: str
    title: str
    relevance: str
    description: str | None = None
    product_id: str | None = None


class DescriptionFile(BaseModel):
    """A second CSV holding product descriptions by product id (Home Depot's product_descriptions.csv)."""

    model_config = ConfigDict(extra="forbid")

    path: str
    product_id: str
    description: str
    encoding: str = "utf-8"


class RelevanceCsvMapping(ImportOptions):
    """Columns of a relevance CSV and the source's relevance scale, rescaled linearly to 0-3."""

    columns: RelevanceColumns
    relevance_min: float
    relevance_max: float
    encoding: str = "utf-8"
    separator: str = ","
    descriptions: DescriptionFile | None = None

    @model_validator(mode="after")
    def _check_scale(self) -> RelevanceCsvMapping:
        if self.relevance_max <= self.relevance_min:
            raise ValueError("relevance_max must be greater than relevance_min")
        if self.descriptions is not None and self.columns.product_id is None:
            raise ValueError("descriptions needs columns.product_id to join on")
        return self


def rescale_relevance(values: pl.Expr, low: float, high: float) -> pl.Expr:
    """Grades on [low, high] mapped linearly onto 0-3 and rounded half up, as Int32 (out-of-scale grades
    stay out of 0-3 so that ingestion quarantines them)."""
    scaled = (values - low) / (high - low) * L.RELEVANCE_RANGE[1]
    return (scaled + 0.5).floor().cast(pl.Int32)


def map_judgments(
    rows: pl.DataFrame,
    mapping: RelevanceCsvMapping,
    namespace: str,
    snapshot_day: date,
    file: str,
    report: ImportReport,
) -> dict[str, pl.DataFrame]:
    """products and search_judgments from source rows with `_row` and the mapped columns.

    Reads the mapped query, title, relevance and optional description and product_id columns; writes
    product_id (`<ns>:<id>` or `<ns>:P<hash of title and description>`), query_id (`<ns>:Q<hash of query>`),
    relevance rescaled to 0-3, judged_at the day after the snapshot. Drops and reports rows without query,
    title or numeric relevance, and repeated (query, product) pairs (the first row is kept).
    """
    cols = mapping.columns
    frame = rows.select(
        ROW,
        blank_to_null(cols.query).alias(L.QUERY),
        blank_to_null(cols.title).alias(L.TITLE),
        (blank_to_null(cols.description) if cols.description else pl.lit(None, pl.String)).alias(
            L.DESCRIPTION
        ),
        pl.col(cols.relevance).str.strip_chars().alias("_relevance_text"),
        (blank_to_null(cols.product_id) if cols.product_id else pl.lit(None, pl.String)).alias(
            SOURCE_PRODUCT
        ),
    ).with_columns(pl.col("_relevance_text").cast(pl.Float64, strict=False).alias("_relevance"))

    checks = [
        (pl.col(L.QUERY).is_null(), "missing query", pl.lit(f"column {cols.query!r} is empty")),
        (pl.col(L.TITLE).is_null(), "missing title", pl.lit(f"column {cols.title!r} is empty")),
        (
            pl.col("_relevance").is_null() | ~pl.col("_relevance").is_finite(),
            "non-numeric relevance",
            pl.format("{} = {}", pl.lit(cols.relevance), pl.col("_relevance_text").fill_null("<empty>")),
        ),
    ]
    if cols.product_id:
        checks.append(
            (pl.col(SOURCE_PRODUCT).is_null(), "missing product id", pl.lit(f"{cols.product_id!r} is empty"))
        )
    frame = drop_failing(frame, checks, L.SEARCH_JUDGMENTS, file, report)

    if cols.product_id:
        frame = frame.with_columns(namespaced(namespace, SOURCE_PRODUCT).alias(L.PRODUCT_ID))
    else:
        frame = frame.with_columns(
            hashed_ids(frame, [L.TITLE, L.DESCRIPTION], f"{namespace}:P").alias(L.PRODUCT_ID)
        )
        report.note("product_id: no id column, so `<ns>:P` + a hash of title and description")
    frame = frame.with_columns(
        hashed_ids(frame, [L.QUERY], f"{namespace}:Q").alias(L.QUERY_ID),
        rescale_relevance(pl.col("_relevance"), mapping.relevance_min, mapping.relevance_max).alias(
            L.RELEVANCE
        ),
    )

    first_rows = frame.group_by(L.QUERY_ID, L.PRODUCT_ID).agg(pl.col(ROW).min().alias("_first"))
    frame = frame.join(first_rows, on=[L.QUERY_ID, L.PRODUCT_ID], how="left", maintain_order="left")
    repeated = frame.filter(pl.col(ROW) != pl.col("_first"))
    for row, first, relevance in repeated.select(ROW, "_first", "_relevance_text").iter_rows():
        report.drop(
            L.SEARCH_JUDGMENTS,
            "duplicate judgment",
            file,
            row,
            f"same query and product as row {first} ({cols.relevance} {relevance})",
        )
    frame = frame.filter(pl.col(ROW) == pl.col("_first"))

    judged_at = timeless_fact_time(snapshot_day)
    judgments = frame.select(
        L.QUERY_ID, L.QUERY, L.PRODUCT_ID, L.RELEVANCE, pl.lit(judged_at).cast(L.TIMESTAMP).alias(L.JUDGED_AT)
    ).with_columns(pl.lit(judged_at.date()).alias(DT))

    products = frame.sort(ROW).unique(L.PRODUCT_ID, keep="first", maintain_order=True)
    if cols.product_id:
        conflicting = (
            frame.group_by(L.PRODUCT_ID)
            .agg(pl.col(L.TITLE).n_unique().alias("_titles"))
            .filter(pl.col("_titles") > 1)
        )
        if conflicting.height:
            report.note(
                f"{conflicting.height} product ids carry different titles in different rows: "
                "the first row's text is kept"
            )
    products = products.select(L.PRODUCT_ID, L.TITLE, L.DESCRIPTION).with_columns(
        pl.lit(mapping.category_path).alias(L.CATEGORY_PATH)
    )
    report.note(
        f"products: category_path {mapping.category_path!r}, price null, currency {mapping.currency}, "
        "no attributes"
    )
    report.note(f"search_judgments: judged_at {judged_at.isoformat()} (the source has no judgment time)")
    low, high = mapping.relevance_min, mapping.relevance_max
    report.note(f"relevance: {cols.relevance} on [{low:g}, {high:g}] rescaled to 0-3, rounded half up")
    return {
        L.PRODUCTS: product_rows(products, snapshot_day, mapping.currency),
        L.SEARCH_JUDGMENTS: judgments,
    }


def attach_descriptions(
    rows: pl.DataFrame, mapping: RelevanceCsvMapping, source_path: str, report: ImportReport
) -> tuple[pl.DataFrame, str | None]:
    """rows with descriptions from the description file joined by product id, and the description column."""
    extra = mapping.descriptions
    if extra is None or mapping.columns.product_id is None:
        return rows, mapping.columns.description
    table = read_csv_text(source_path, extra.encoding, mapping.separator)
    require_columns(table, {"product_id": extra.product_id, "description": extra.description}, source_path)
    table = table.select(
        pl.col(extra.product_id).str.strip_chars().alias("_join_id"),
        pl.col(extra.description).alias("_joined_description"),
    ).unique("_join_id", keep="first", maintain_order=True)
    joined = rows.with_columns(pl.col(mapping.columns.product_id).str.strip_chars().alias("_join_id")).join(
        table, on="_join_id", how="left", maintain_order="left"
    )
    target = mapping.columns.description or "_joined_description"
    if mapping.columns.description:
        joined = joined.with_columns(pl.coalesce(pl.col("_joined_description"), pl.col(target)).alias(target))
    missing = joined.filter(pl.col("_joined_description").is_null())["_join_id"].n_unique()
    if missing:
        report.note(f"{missing} product ids have no row in {source_path}: description left null")
    return joined.drop("_join_id"), target


def import_relevance_csv(
    path: str, mapping: RelevanceCsvMapping, namespace: str, day: date | None
) -> ImportResult:
    """Read a relevance CSV (and its description file) and map it to products and search_judgments."""
    report = ImportReport(FORMAT, namespace, path)
    rows = read_csv_text(path, mapping.encoding, mapping.separator)
    require_columns(rows, mapping.columns.model_dump(), path)
    descriptions = mapping.descriptions.path if mapping.descriptions else ""
    if descriptions and "://" not in descriptions and not descriptions.startswith("/"):
        descriptions = f"{path.rsplit('/', 1)[0]}/{descriptions}" if "/" in path else descriptions
    rows, description = attach_descriptions(rows, mapping, descriptions, report)
    mapping = mapping.model_copy(
        update={"columns": mapping.columns.model_copy(update={"description": description})}
    )
    snapshot_day = default_snapshot_day([], day)
    tables = map_judgments(rows, mapping, namespace, snapshot_day, path, report)
    return ImportResult(tables, report, snapshot_day)
