"""Incremental embedding: which texts (of products or queries) need a new vector, which stored ones stay."""

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
# Queries are keyed by their text: a changed query is a new one.
QUERY_EMBEDDING_COLUMNS: tuple[str, ...] = (L.QUERY, CONTENT_HASH, MODEL_VERSION, EMBEDDING)


def embedding_columns(key: str) -> tuple[str, ...]:
    """key, content_hash, model_version, embedding: the columns of a stored embedding table."""
    return (key, CONTENT_HASH, MODEL_VERSION, EMBEDDING)


class EmbeddingStoreError(ShopgraphError):
    """Stored embeddings do not have the columns the incremental update needs."""


@dataclass(frozen=True)
class EmbeddingPlan:
    """to_embed: key, text, content_hash needing a vector; reused: stored rows to keep (key is product_id
    and text product_text for products, both `query` for queries)."""

    to_embed: pl.DataFrame
    reused: pl.DataFrame
    new: int
    changed: int
    dropped: int
    key: str = L.PRODUCT_ID
    text: str = PRODUCT_TEXT

    @property
    def unique_texts(self) -> pl.DataFrame:
        """content_hash, text: each text to embed once, however many keys share it."""
        return self.to_embed.select(CONTENT_HASH, self.text).unique(
            CONTENT_HASH, keep="first", maintain_order=True
        )


def check_stored_embeddings(stored: pl.DataFrame, source: str, key: str = L.PRODUCT_ID) -> None:
    """Fail naming the source and every missing column, or an embedding column that is not a float array."""
    problems = [f"{column} missing" for column in embedding_columns(key) if column not in stored.columns]
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
    return plan_embeddings(texts, stored, model_version, key=L.PRODUCT_ID, text=PRODUCT_TEXT)


def plan_embeddings(
    texts: pl.DataFrame, stored: pl.DataFrame | None, model_version: str, *, key: str, text: str
) -> EmbeddingPlan:
    """plan_product_embeddings for any keyed texts: `texts` holds key, text, content_hash; `stored` holds
    key, content_hash, model_version, embedding."""
    columns = embedding_columns(key)
    current_ids = texts.select(key)
    if stored is None or stored.height == 0:
        empty = pl.DataFrame(
            schema={**{column: pl.String for column in columns[:3]}, EMBEDDING: pl.List(pl.Float32)}
        )
        return EmbeddingPlan(texts, empty, new=texts.height, changed=0, dropped=0, key=key, text=text)
    vectors = (
        stored.filter(pl.col(MODEL_VERSION) == model_version)
        .select(CONTENT_HASH, MODEL_VERSION, EMBEDDING)
        .unique(CONTENT_HASH, keep="first", maintain_order=True)
    )
    reused = texts.select(key, CONTENT_HASH).join(vectors, on=CONTENT_HASH, how="inner")
    to_embed = texts.join(reused.select(key), on=key, how="anti")
    stored_ids = stored.select(key).unique()
    new = to_embed.join(stored_ids, on=key, how="anti").height
    dropped = stored_ids.join(current_ids, on=key, how="anti").height
    return EmbeddingPlan(
        to_embed=to_embed,
        reused=reused.select(columns),
        new=new,
        changed=to_embed.height - new,
        dropped=dropped,
        key=key,
        text=text,
    )


def vector_series(vectors: np.ndarray, name: str = EMBEDDING) -> pl.Series:
    """A (n, dim) array as an `embedding` series of fixed-size float32 arrays (pl.Array(pl.Float32, dim))."""
    array = np.ascontiguousarray(vectors, dtype=np.float32)
    return pl.Series(name, array, dtype=pl.Array(pl.Float32, int(array.shape[1])))


def merge_embeddings(plan: EmbeddingPlan, embedded: pl.DataFrame) -> pl.DataFrame:
    """The reused rows plus a vector for every key in plan.to_embed, sorted by the key.

    `embedded` holds content_hash, model_version, embedding for each unique text that was embedded.
    """
    key, columns = plan.key, embedding_columns(plan.key)
    if plan.to_embed.height == 0:
        return plan.reused.select(columns).sort(key)
    fresh = plan.to_embed.select(key, CONTENT_HASH).join(embedded, on=CONTENT_HASH, how="left")
    missing = fresh.filter(pl.col(EMBEDDING).is_null())
    if missing.height:
        raise ValueError(f"no vector for {missing.height} {key}(s), e.g. {missing.item(0, key)}")
    parts = [fresh.select(columns)]
    if plan.reused.height:
        parts.insert(0, plan.reused.cast({EMBEDDING: fresh.schema[EMBEDDING]}))
    return pl.concat(parts, how="vertical").sort(key)
