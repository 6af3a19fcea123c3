"""Which products the NER model must tag again: text or model changed since their last tagging."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import polars as pl

from shopgraph.schemas import landing as L

TEXT_HASH = "text_hash"
MODEL_VERSION = "model_version"
TAGGED_SCHEMA = pl.Schema({L.PRODUCT_ID: pl.String(), TEXT_HASH: pl.String(), MODEL_VERSION: pl.String()})


def text_hashes(products: pl.DataFrame, fields: Sequence[str]) -> pl.DataFrame:
    """product_id, text_hash (sha256 of the text fields, nulls as empty, joined by a unit separator)."""
    texts = products.select(
        L.PRODUCT_ID, pl.concat_str([pl.col(f).fill_null("") for f in fields], separator="\x1f").alias("t")
    )
    digests = [hashlib.sha256(text.encode()).hexdigest() for text in texts.get_column("t").to_list()]
    return texts.select(L.PRODUCT_ID).with_columns(pl.Series(TEXT_HASH, digests, dtype=pl.String))


def to_tag(current: pl.DataFrame, tagged: pl.DataFrame | None, version: str) -> pl.Series:
    """Ids of current products (product_id, text_hash) without a tagging of the same text by `version`
    in `tagged` (product_id, text_hash, model_version); every id when nothing was tagged before."""
    if tagged is None:
        return current.get_column(L.PRODUCT_ID)
    done = tagged.filter(pl.col(MODEL_VERSION) == version).select(L.PRODUCT_ID, TEXT_HASH)
    return current.join(done, on=[L.PRODUCT_ID, TEXT_HASH], how="anti").get_column(L.PRODUCT_ID)
