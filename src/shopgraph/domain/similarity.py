"""Similar products: top-k cosine neighbours from embeddings with blocked torch matrix products."""

from __future__ import annotations

import numpy as np
import polars as pl
import torch

from shopgraph.schemas import landing as L

NEIGHBOURS = "neighbours"
SCORE = "score"
RANK = "rank"


def normalised_rows(vectors: np.ndarray) -> torch.Tensor:
    """Float32 rows scaled to unit length (zero rows stay zero)."""
    tensor = torch.from_numpy(np.array(vectors, dtype=np.float32, copy=True))
    norms = tensor.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return tensor / norms


def top_k_neighbours(
    queries: torch.Tensor,
    keys: torch.Tensor,
    query_index: torch.Tensor,
    k: int,
    block_size: int = 1024,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scores and key indices of the k most similar keys for each query row, excluding the query itself.

    queries and keys are unit rows; query_index[i] is the row of queries[i] within keys (or -1), so a
    product is never its own neighbour. Queries are processed in blocks of block_size rows, so memory is
    block_size x len(keys) scores at a time. Ties are broken by the lower key index.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    take = min(k, max(keys.shape[0] - 1, 0))
    scores_out = torch.empty((queries.shape[0], take), dtype=torch.float32)
    index_out = torch.empty((queries.shape[0], take), dtype=torch.int64)
    if take == 0:
        return scores_out, index_out
    for start in range(0, queries.shape[0], block_size):
        block = queries[start : start + block_size]
        scores = block @ keys.T
        own = query_index[start : start + block_size]
        rows = torch.arange(block.shape[0])
        mine = own >= 0
        scores[rows[mine], own[mine]] = -float("inf")
        # topk on scores then a stable re-sort makes equal scores come out in key order.
        values, indices = torch.topk(scores, take, dim=1)
        order = torch.argsort(indices, dim=1)
        values, indices = values.gather(1, order), indices.gather(1, order)
        order = torch.argsort(-values, dim=1, stable=True)
        scores_out[start : start + block.shape[0]] = values.gather(1, order)
        index_out[start : start + block.shape[0]] = indices.gather(1, order)
    return scores_out, index_out


def similar_product_rows(
    embeddings: pl.DataFrame,
    changed: pl.Series,
    k: int,
    *,
    block_size: int = 1024,
    decimals: int = 6,
) -> pl.DataFrame:
    """product_id and neighbours (list of {product_id, score, rank}) for each changed product.

    Reads product_id and embedding (fixed-size float array) of every live product; neighbours come from
    all of them, the product itself excluded. Scores are cosine similarities rounded to decimals so
    reruns write identical values; rank starts at 1.
    """
    frame = embeddings.select(L.PRODUCT_ID, "embedding").unique(L.PRODUCT_ID, keep="last").sort(L.PRODUCT_ID)
    ids = frame.get_column(L.PRODUCT_ID)
    wanted = ids.is_in(changed.implode())
    schema: dict[str, pl.DataType] = {
        L.PRODUCT_ID: pl.String(),
        NEIGHBOURS: pl.List(pl.Struct({L.PRODUCT_ID: pl.String, SCORE: pl.Float64, RANK: pl.Int64})),
    }
    if not wanted.any():
        return pl.DataFrame(schema=schema)
    vectors = np.asarray(frame.get_column("embedding").to_numpy(), dtype=np.float32)
    if vectors.ndim == 1:
        vectors = np.stack(list(vectors))
    keys = normalised_rows(vectors)
    query_rows = torch.as_tensor(np.flatnonzero(wanted.to_numpy()))
    scores, indices = top_k_neighbours(keys[query_rows], keys, query_rows, k, block_size)
    id_list = ids.to_list()
    neighbour_ids = [[id_list[j] for j in row] for row in indices.tolist()]
    rounded = np.round(scores.numpy().astype(np.float64), decimals).tolist()
    return pl.DataFrame(
        {
            L.PRODUCT_ID: [id_list[i] for i in query_rows.tolist()],
            NEIGHBOURS: [
                [
                    {L.PRODUCT_ID: pid, SCORE: score, RANK: rank + 1}
                    for rank, (pid, score) in enumerate(zip(pids, row_scores, strict=True))
                ]
                for pids, row_scores in zip(neighbour_ids, rounded, strict=True)
            ],
        },
        schema=schema,
    )


def refresh_targets(
    embeddings: pl.DataFrame,
    changed: pl.Series,
    current: pl.DataFrame,
    pointing_at_changed: pl.Series,
    k: int,
    *,
    block_size: int = 1024,
    decimals: int = 6,
) -> pl.Series:
    """The products whose top-k must be recomputed after `changed` products were added or updated.

    Reads product_id and embedding of every active product, and the current SIMILAR_TO state in
    `current` (product_id, low = lowest neighbour score, n = number of neighbours). A product is
    refreshed when it changed, when it points at a changed product, when it has fewer than k neighbours
    (new, or a neighbour was deleted), or when a changed product now scores above its lowest neighbour.
    Applied after every change set, this keeps each list equal to a full recomputation.
    """
    frame = embeddings.select(L.PRODUCT_ID, "embedding").unique(L.PRODUCT_ID, keep="last").sort(L.PRODUCT_ID)
    ids = frame.get_column(L.PRODUCT_ID)
    if ids.is_empty():
        return ids
    state = frame.select(L.PRODUCT_ID).join(current, on=L.PRODUCT_ID, how="left")
    expected = min(k, ids.len() - 1)
    short = state.get_column("n").fill_null(0) < expected
    is_changed = ids.is_in(changed.implode())
    if is_changed.all():
        return ids
    beaten = pl.Series([False] * ids.len())
    if is_changed.any():
        vectors = np.asarray(frame.get_column("embedding").to_numpy(), dtype=np.float32)
        keys = normalised_rows(vectors)
        changed_rows = torch.as_tensor(np.flatnonzero(is_changed.to_numpy()))
        best = torch.empty(ids.len(), dtype=torch.float32)
        for start in range(0, ids.len(), block_size):
            scores = keys[start : start + block_size] @ keys[changed_rows].T
            # A product does not beat itself.
            own = (changed_rows >= start) & (changed_rows < start + scores.shape[0])
            scores[changed_rows[own] - start, torch.nonzero(own).flatten()] = -float("inf")
            best[start : start + scores.shape[0]] = scores.max(dim=1).values
        rounded = np.round(best.numpy().astype(np.float64), decimals)
        low = state.get_column("low").fill_null(float("inf")).to_numpy()
        beaten = pl.Series(rounded > low)
    wanted = is_changed | short | beaten | ids.is_in(pointing_at_changed.implode())
    return ids.filter(wanted)
