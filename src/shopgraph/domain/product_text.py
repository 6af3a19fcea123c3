"""The text of a product that gets embedded, and a content hash of that text for incremental embedding."""

from __future__ import annotations

import hashlib

import polars as pl

from shopgraph.errors import ShopgraphError
from shopgraph.schemas import landing as L

PRODUCT_TEXT = "product_text"
CONTENT_HASH = "content_hash"

# Attribute columns with a dedicated landing column, written as "key: value" in this order.
ATTRIBUTE_COLUMNS: tuple[str, ...] = (L.COLOUR, L.MATERIAL, L.SIZE, L.STYLE)
TEXT_COLUMNS: tuple[str, ...] = (
    L.PRODUCT_ID,
    L.TITLE,
    L.DESCRIPTION,
    L.BRAND,
    L.CATEGORY_PATH,
    *ATTRIBUTE_COLUMNS,
    L.ATTRIBUTES,
)
PART_SEPARATOR = ". "
PAIR_SEPARATOR = "; "


class ProductTextError(ShopgraphError):
    """A products frame lacks the columns the product text is composed from."""


def check_text_columns(products: pl.DataFrame, source: str = "products") -> None:
    """Fail with one error naming every missing or mistyped column the product text reads."""
    problems = []
    for column in TEXT_COLUMNS:
        expected = L.PRODUCTS_SCHEMA[column]
        if column not in products.columns:
            problems.append(f"{column} missing")
        elif products.schema[column] != expected:
            problems.append(f"{column} is {products.schema[column]}, expected {expected}")
    if problems:
        raise ProductTextError(f"{source}: cannot compose product text: {'; '.join(problems)}")


def _clean(column: str) -> pl.Expr:
    # Collapse whitespace runs so that re-wrapped text with the same words hashes the same.
    return pl.col(column).str.replace_all(r"\s+", " ").str.strip_chars()


def _part(column: str) -> pl.Expr:
    # A part's own full stop is dropped: the separator adds one.
    return _clean(column).str.strip_chars_end(".").str.strip_chars_end()


def _attribute_pairs() -> pl.Expr:
    fixed = [
        pl.when(_clean(column).str.len_chars() > 0).then(pl.lit(f"{column}: ") + _clean(column))
        for column in ATTRIBUTE_COLUMNS
    ]
    listed = (
        pl.col(L.ATTRIBUTES)
        .list.eval(
            pl.element().struct.field(L.ATTRIBUTE_KEY).str.strip_chars()
            + pl.lit(": ")
            + pl.element().struct.field(L.ATTRIBUTE_VALUE).str.strip_chars()
        )
        .list.join(PAIR_SEPARATOR)
    )
    joined = pl.concat_list([*fixed, listed]).list.drop_nulls()
    return joined.list.eval(pl.element().filter(pl.element().str.len_chars() > 0)).list.join(PAIR_SEPARATOR)


def compose_product_text(products: pl.DataFrame) -> pl.DataFrame:
    """product_id, product_text and content_hash for each product.

    Reads title, brand, category_path, description, colour, material, size, style and attributes (a list of
    key/value structs); the text is "title. brand. category path. description. colour: x; key: value" with
    empty or null parts left out and whitespace runs collapsed. content_hash is the sha256 of that text, so
    it changes exactly when the embedded text changes (including a change of this recipe).
    """
    check_text_columns(products)
    parts = [_part(column) for column in (L.TITLE, L.BRAND, L.CATEGORY_PATH, L.DESCRIPTION)]
    texts = products.select(
        L.PRODUCT_ID,
        pl.concat_list([*parts, _attribute_pairs()])
        .list.drop_nulls()
        .list.eval(pl.element().filter(pl.element().str.len_chars() > 0))
        .list.join(PART_SEPARATOR)
        .alias(PRODUCT_TEXT),
    )
    return texts.with_columns(hash_texts(texts.get_column(PRODUCT_TEXT)).alias(CONTENT_HASH))


def hash_text(text: str) -> str:
    """The sha256 hex digest of a text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_texts(texts: pl.Series) -> pl.Series:
    """sha256 hex digests of a string series (stable across polars versions, unlike Series.hash)."""
    return pl.Series(CONTENT_HASH, [hash_text(text) for text in texts.to_list()], dtype=pl.String)
