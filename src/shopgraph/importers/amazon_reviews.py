"""amazon-reviews: Amazon review JSON lines (McAuley), optionally gzipped, with optional product metadata."""

from __future__ import annotations

import ast
import json
from datetime import date
from typing import Any

import polars as pl

from shopgraph.importers.common import (
    ImportOptions,
    ImportResult,
    decode_text,
    default_snapshot_day,
    landing_frame,
    placeholder_titles,
    product_rows,
    read_source_bytes,
    source_lines,
    unix_seconds_to_utc,
    user_rows,
    with_fact_day,
)
from shopgraph.importers.parsing import CATEGORY_SEPARATOR, parse_price_text
from shopgraph.importers.report import ImportReport
from shopgraph.schemas import landing as L

FORMAT = "amazon-reviews"
REVIEW_FIELDS_USED = ("reviewerID", "asin", "overall", "unixReviewTime", "reviewText", "summary")


class AmazonReviewsMapping(ImportOptions):
    """Amazon needs no column mapping; prices in the metadata are in US dollars by default."""

    currency: str = "USD"


def parse_json_line(line: str) -> dict[str, Any]:
    """One JSON object; older metadata dumps hold Python dict literals, read without evaluating code."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        try:
            value = ast.literal_eval(line)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
            raise ValueError("not a JSON object") from exc
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def as_rating(value: object) -> int | None:
    """An integral star rating from a number or numeric text, else None."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return int(number) if number == number and number.is_integer() else None


def as_unix_seconds(value: object) -> int | None:
    """Unix seconds from an integer or numeric text, else None."""
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def parse_reviews(lines: list[str], namespace: str, file: str, report: ImportReport) -> pl.DataFrame:
    """One row per usable review line (line numbers from 1): review_id/event_id/session_id from the line,
    user_id `<ns>:<reviewerID>`, product_id `<ns>:<asin>`, rating, title (summary), text (reviewText), ts.

    Lines that are not JSON objects or lack reviewerID, asin, an integral overall or unixReviewTime are
    dropped (for reviews and events) and reported; a review without text keeps only its rating event.
    """
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            review = parse_json_line(line)
        except ValueError:
            for table in (L.REVIEWS, L.EVENTS):
                report.drop(table, "bad JSON line", file, number, f"{line[:60]!r}")
            continue
        rating = as_rating(review.get("overall"))
        seconds = as_unix_seconds(review.get("unixReviewTime"))
        problem = None
        if not review.get("reviewerID") or not review.get("asin"):
            problem = ("missing id", "no reviewerID or asin")
        elif rating is None:
            problem = ("non-numeric rating", f"overall = {review.get('overall')!r}")
        elif seconds is None:
            problem = ("missing timestamp", f"unixReviewTime = {review.get('unixReviewTime')!r}")
        if problem is not None:
            for table in (L.REVIEWS, L.EVENTS):
                report.drop(table, problem[0], file, number, problem[1])
            continue
        text = str(review.get("reviewText") or "").strip() or None
        if text is None:
            report.drop(
                L.REVIEWS, "missing reviewText", file, number, "no review text: only the rating event is kept"
            )
        summary = str(review.get("summary") or "").strip() or None
        records.append(
            {
                "_line": number,
                L.USER_ID: f"{namespace}:{review['reviewerID']}",
                L.PRODUCT_ID: f"{namespace}:{review['asin']}",
                L.RATING: rating,
                L.TITLE: summary,
                L.TEXT: text,
                "_seconds": seconds,
            }
        )
    frame = pl.DataFrame(
        records,
        schema={
            "_line": pl.Int64,
            L.USER_ID: pl.String,
            L.PRODUCT_ID: pl.String,
            L.RATING: pl.Int32,
            L.TITLE: pl.String,
            L.TEXT: pl.String,
            "_seconds": pl.Int64,
        },
    )
    line_tag = pl.col("_line").cast(pl.String).str.zfill(9)
    return frame.with_columns(
        pl.format("{}:R{}", pl.lit(namespace), line_tag).alias(L.REVIEW_ID),
        pl.format("{}:E{}", pl.lit(namespace), line_tag).alias(L.EVENT_ID),
        pl.format("{}:S{}", pl.lit(namespace), line_tag).alias(L.SESSION_ID),
        unix_seconds_to_utc("_seconds").alias(L.TS),
    )


def parse_metadata(lines: list[str], namespace: str, file: str, report: ImportReport) -> pl.DataFrame:
    """Products from metadata lines: product_id, title, description (list joined by newlines), brand,
    category_path (the category list, or the first list of `categories`, joined by ` > `), price (a single
    `$x.yy`; ranges and other text leave it null and are reported). Bad lines and repeated asins are
    dropped and reported."""
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            meta = parse_json_line(line)
        except ValueError:
            report.drop(L.PRODUCTS, "bad JSON line", file, number, f"{line[:60]!r}")
            continue
        asin = str(meta.get("asin") or "").strip()
        if not asin:
            report.drop(L.PRODUCTS, "missing id", file, number, "no asin")
            continue
        if asin in seen:
            report.drop(L.PRODUCTS, "duplicate asin", file, number, f"same asin as line {seen[asin]}")
            continue
        seen[asin] = number
        rows.append(
            {
                L.PRODUCT_ID: f"{namespace}:{asin}",
                L.TITLE: text_of(meta.get("title")),
                L.DESCRIPTION: text_of(meta.get("description")),
                L.BRAND: text_of(meta.get("brand")),
                L.CATEGORY_PATH: category_of(meta),
                L.PRICE: price_of(meta.get("price"), file, number, report),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            L.PRODUCT_ID: pl.String,
            L.TITLE: pl.String,
            L.DESCRIPTION: pl.String,
            L.BRAND: pl.String,
            L.CATEGORY_PATH: pl.String,
            L.PRICE: pl.Float64,
        },
    )


def text_of(value: object) -> str | None:
    """Text from a string or a list of strings (joined by newlines); blank gives None."""
    if isinstance(value, list):
        value = "\n".join(str(part) for part in value if str(part).strip())
    text = str(value).strip() if value is not None else ""
    return text or None


def category_of(meta: dict[str, Any]) -> str | None:
    """` > `-joined category levels from `category` (2018) or the first list of `categories` (2014)."""
    levels = meta.get("category")
    if levels is None and isinstance(meta.get("categories"), list) and meta["categories"]:
        levels = meta["categories"][0]
    if not isinstance(levels, list):
        return None
    cleaned = [" ".join(str(level).split()) for level in levels if str(level).strip()]
    return CATEGORY_SEPARATOR.join(cleaned) or None


def price_of(value: object, file: str, row: int, report: ImportReport) -> float | None:
    """A positive price from a number or `$x.yy`; anything else is reported and left null."""
    if value is None or value == "":
        return None
    price = float(value) if isinstance(value, int | float) else parse_price_text(str(value))
    if price is None or not price > 0:
        report.partial(
            L.PRODUCTS, "no usable price", file, row, f"price = {str(value)[:40]!r}: price left null"
        )
        return None
    return price


def map_amazon(
    reviews: pl.DataFrame,
    metadata: pl.DataFrame | None,
    mapping: AmazonReviewsMapping,
    snapshot_day: date,
    report: ImportReport,
) -> dict[str, pl.DataFrame]:
    """products, users, events (one `rating` event per review, a session of its own) and reviews."""
    referenced = reviews.select(L.PRODUCT_ID).unique()
    products = metadata if metadata is not None else parse_metadata([], "", "", report)
    missing = referenced.join(products.select(L.PRODUCT_ID), on=L.PRODUCT_ID, how="anti").sort(L.PRODUCT_ID)
    if missing.height:
        report.note(f"{missing.height} reviewed products have no metadata: title `item <asin>`, price null")
    products = pl.concat([products, missing], how="diagonal_relaxed").with_columns(
        pl.coalesce(
            pl.col(L.TITLE),
            placeholder_titles(pl.col(L.PRODUCT_ID).str.splitn(":", 2).struct.field("field_1")),
        ).alias(L.TITLE),
        pl.col(L.CATEGORY_PATH).fill_null(mapping.category_path),
    )
    users = reviews.select(L.USER_ID).unique().sort(L.USER_ID)
    events = with_fact_day(reviews.with_columns(pl.lit(L.RATE).alias(L.EVENT_TYPE)), L.TS)
    texts = with_fact_day(reviews.filter(pl.col(L.TEXT).is_not_null()), L.TS)
    report.note("events: one `rating` event per review line (same rating and ts), a session of its own")
    report.note("reviews: title = summary, text = reviewText; not imported: reviewerName, style, vote, image")
    return {
        L.PRODUCTS: product_rows(products, snapshot_day, mapping.currency),
        L.USERS: user_rows(users, snapshot_day, mapping.users),
        L.EVENTS: landing_frame(events, L.EVENTS),
        L.REVIEWS: landing_frame(texts, L.REVIEWS),
    }


def import_amazon_reviews(
    path: str,
    mapping: AmazonReviewsMapping,
    namespace: str,
    day: date | None,
    metadata_path: str | None = None,
) -> ImportResult:
    """Read review JSON lines (and metadata JSON lines when given) and map them to landing tables."""
    report = ImportReport(FORMAT, namespace, path)
    reviews = parse_reviews(source_lines(decode_text(read_source_bytes(path), path)), namespace, path, report)
    metadata = None
    if metadata_path is not None:
        lines = source_lines(decode_text(read_source_bytes(metadata_path), metadata_path))
        metadata = parse_metadata(lines, namespace, metadata_path, report)
    snapshot_day = default_snapshot_day([reviews[L.TS]], day)
    tables = map_amazon(reviews, metadata, mapping, snapshot_day, report)
    return ImportResult(tables, report, snapshot_day)
