"""Incremental embedding: which product texts need a new vector and which stored vectors are reused."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from shopgraph.domain.product_text import CONTENT_HASH, PRODUCT_TEXT
from shopgraph.errors import ShopgraphError
from shopgraph.schemas import landing as L

MODEL_VERSION = "model_version"
EMBEDDING = "embedding"
EMBEDDING_COLUMNS: tuple[str, ...] = (L.PRODUCT_ID, CONTENT_HASH, MODEL_VERSION, EMBEDDING)


class EmbeddingStoreError(ShopgraphError):
    """Stored embeddings do not have the columns the incremental update needs."""


@dataclass(frozen=True)
class EmbeddingPlan:
    """to_embed: product_id, product_text, content_hash needing a vector; reused: stored rows to keep."""

    to_embed: pl.DataFrame
    reused: pl.DataFrame
    new: int
    changed: int
    dropped: int

    @property
    def unique_texts(self) -> pl.DataFrame:
        """content_hash, product_text: each text to embed once, however many products share it."""
        return self.to_embed.select(CONTENT_HASH, PRODUCT_TEXT).unique(
            CONTENT_HASH, keep="first", maintain_order=True
        )


def check_stored_embeddings(stored: pl.DataFrame, source: str) -> None:
    """Fail naming the source and every missing column, or an embedding column that is not a float array."""
    problems = [f"{column} missing" for column in EMBEDDING_COLUMNS if column not in stored.columns]
    if EMBEDDING in stored.columns and not isinstance(stored.schema[EMBEDDING], pl.Array | pl.List):
        problems.append(f"{EMBEDDING} is {stored.schema[EMBEDDING]}, expected an array of float32")
    if problems:
        raise EmbeddingStoreError(f"{source}: not usable as stored embeddings: {'; '.join(problems)}")


def plan_product_embeddings(
    texts: pl.DataFrame, stored: pl.DataFrame | None, model_version: str
) -> EmbeddingPlan:
    """Split current product texts into those to embed and stored vectors to reuse.

    Reads product_id, product_text, content_hash of `texts` (the current live products) and product_id,
    content_hash, model_version, embedding of `stored`. A stored vector is reused for any current product
    whose content_hash it was computed from under the same model_version (so renamed duplicates reuse it
    too); every other current product is embedded. Stored products absent from `texts` (tombstoned) count
    as dropped. A model change matches nothing, so everything is embedded again.
    """
    current_ids = texts.select(L.PRODUCT_ID)
    if stored is None or stored.height == 0:
        empty = pl.DataFrame(
            schema={**{column: pl.String for column in EMBEDDING_COLUMNS[:3]}, EMBEDDING: pl.List(pl.Float32)}
        )
        return EmbeddingPlan(to_embed=texts, reused=empty, new=texts.height, changed=0, dropped=0)
    vectors = (
        stored.filter(pl.col(MODEL_VERSION) == model_version)
        .select(CONTENT_HASH, MODEL_VERSION, EMBEDDING)
        .unique(CONTENT_HASH, keep="first", maintain_order=True)
    )
    reused = texts.select(L.PRODUCT_ID, CONTENT_HASH).join(vectors, on=CONTENT_HASH, how="inner")
    to_embed = texts.join(reused.select(L.PRODUCT_ID), on=L.PRODUCT_ID, how="anti")
    stored_ids = stored.select(L.PRODUCT_ID).unique()
    new = to_embed.join(stored_ids, on=L.PRODUCT_ID, how="anti").height
    dropped = stored_ids.join(current_ids, on=L.PRODUCT_ID, how="anti").height
    return EmbeddingPlan(
        to_embed=to_embed,
        reused=reused.select(EMBEDDING_COLUMNS),
        new=new,
        changed=to_embed.height - new,
        dropped=dropped,
    )


def vector_series(vectors: np.ndarray, name: str = EMBEDDING) -> pl.Series:
    """A (n, dim) array as an `embedding` series of fixed-size float32 arrays (pl.Array(pl.Float32, dim))."""
    array = np.ascontiguousarray(vectors, dtype=np.float32)
    return pl.Series(name, array, dtype=pl.Array(pl.Float32, int(array.shape[1])))


def merge_product_embeddings(plan: EmbeddingPlan, embedded: pl.DataFrame) -> pl.DataFrame:
    """The reused rows plus a vector for every product in plan.to_embed, sorted by product_id.

    `embedded` holds content_hash, model_version, embedding for each unique text that was embedded.
    """
    if plan.to_embed.height == 0:
        return plan.reused.select(EMBEDDING_COLUMNS).sort(L.PRODUCT_ID)
    fresh = plan.to_embed.select(L.PRODUCT_ID, CONTENT_HASH).join(embedded, on=CONTENT_HASH, how="left")
    missing = fresh.filter(pl.col(EMBEDDING).is_null())
    if missing.height:
        raise ValueError(f"no vector for {missing.height} product(s), e.g. {missing.item(0, L.PRODUCT_ID)}")
    parts = [fresh.select(EMBEDDING_COLUMNS)]
    if plan.reused.height:
        parts.insert(0, plan.reused.cast({EMBEDDING: fresh.schema[EMBEDDING]}))
    return pl.concat(parts, how="vertical").sort(L.PRODUCT_ID)
