"""Embed texts in length-sorted, dynamically padded batches; keep product embeddings in the lake current."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import torch

from shopgraph.adapters.encoder import Encoder, EncoderSpec, load_encoder, model_version
from shopgraph.adapters.lake import (
    filesystem,
    lake_path,
    partition_files,
    read_parts,
    remove_tree,
    write_parquet,
)
from shopgraph.batching import BatchOutOfMemoryError, HalvingBatches
from shopgraph.domain.embedding_plan import (
    EMBEDDING,
    MODEL_VERSION,
    EmbeddingPlan,
    check_stored_embeddings,
    merge_embeddings,
    plan_embeddings,
    vector_series,
)
from shopgraph.domain.pooling import pool_sentences
from shopgraph.domain.product_text import CONTENT_HASH, PRODUCT_TEXT, compose_product_text, hash_texts
from shopgraph.errors import ShopgraphError
from shopgraph.schemas import landing as L
from shopgraph.schemas.lake_layout import CURATED, CURRENT_PRODUCTS, PRODUCT_EMBEDDINGS, QUERY_EMBEDDINGS

# Texts tokenised at a time: bounds memory on large catalogs while keeping length sorting nearly global
# (texts are pre-sorted by character length across the whole input).
TOKENIZE_CHUNK = 16_384

ProgressFn = Callable[[int, int], None]
ForwardFn = Callable[[Encoder, dict[str, torch.Tensor]], torch.Tensor]


class EmbeddingError(ShopgraphError):
    """Embedding could not run: no input, or a single text did not fit on the device."""


@dataclass
class EmbedStats:
    """What one embed_texts call did: texts, real tokens, padded slots (batch x longest), time, batch size."""

    texts: int = 0
    tokens: int = 0
    padded_slots: int = 0
    seconds: float = 0.0
    batch_size: int = 0
    halvings: int = 0

    @property
    def texts_per_s(self) -> float:
        return self.texts / self.seconds if self.seconds > 0 else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0

    @property
    def fill_share(self) -> float:
        """Share of padded slots that hold a real token (1.0 means no padding at all)."""
        return self.tokens / self.padded_slots if self.padded_slots else 1.0


def encode_batch(encoder: Encoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """One forward pass: (batch, dim) unit-length float32 sentence vectors on the encoder's device."""
    autocast = (
        torch.autocast(device_type=encoder.device.type, dtype=encoder.autocast)
        if encoder.autocast is not None
        else contextlib.nullcontext()
    )
    with autocast:
        output = encoder.model(**batch)
    hidden = output.last_hidden_state if hasattr(output, "last_hidden_state") else output[0]
    return pool_sentences(hidden, batch["attention_mask"])


def pad_batch(
    encoder: Encoder, encodings: dict[str, list[list[int]]], rows: Sequence[int]
) -> tuple[dict[str, torch.Tensor], int, int]:
    """Pad the chosen rows to the longest among them; returns tensors on the device, real tokens, slots."""
    lengths = [len(encodings["input_ids"][row]) for row in rows]
    width = max(lengths)
    pad_values = {
        "input_ids": encoder.tokenizer.pad_token_id or 0,
        "token_type_ids": getattr(encoder.tokenizer, "pad_token_type_id", 0) or 0,
    }
    left = getattr(encoder.tokenizer, "padding_side", "right") == "left"
    batch: dict[str, torch.Tensor] = {}
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for name, values in encodings.items():
        if name == "attention_mask":
            continue
        array = np.full((len(rows), width), pad_values.get(name, 0), dtype=np.int64)
        for i, row in enumerate(rows):
            ids = values[row]
            if left:
                array[i, width - len(ids) :] = ids
            else:
                array[i, : len(ids)] = ids
        batch[name] = torch.from_numpy(array)
    for i, length in enumerate(lengths):
        if left:
            mask[i, width - length :] = 1
        else:
            mask[i, :length] = 1
    batch["attention_mask"] = torch.from_numpy(mask)
    non_blocking = encoder.device.type == "cuda"
    on_device = {name: tensor.to(encoder.device, non_blocking=non_blocking) for name, tensor in batch.items()}
    return on_device, sum(lengths), len(rows) * width


def _tokenize(encoder: Encoder, texts: list[str]) -> dict[str, list[list[int]]]:
    wanted = set(encoder.tokenizer.model_input_names) - {"attention_mask"}
    encoded = encoder.tokenizer(
        texts,
        truncation=True,
        max_length=encoder.max_length,
        padding=False,
        return_attention_mask=False,
    )
    return {name: list(values) for name, values in encoded.items() if name in wanted}


def _chunks(texts: Sequence[str]) -> Iterator[np.ndarray]:
    # Longest first: an out-of-memory batch shows up at the start, not after most of the work.
    by_chars = np.argsort(
        -np.fromiter((len(text) for text in texts), dtype=np.int64, count=len(texts)), kind="stable"
    )
    for start in range(0, len(texts), TOKENIZE_CHUNK):
        yield by_chars[start : start + TOKENIZE_CHUNK]


def batch_end(negated_lengths: np.ndarray, start: int, batch_size: int, uniform: bool = True) -> int:
    """Where the batch starting at `start` ends, over token lengths sorted longest first (and negated).

    A run of equal lengths of at least a quarter batch becomes a batch of its own: with no padding at all
    the attention mask is dropped and SDPA takes its fused kernel. Shorter runs share a mixed batch.
    """
    end = min(start + batch_size, len(negated_lengths))
    if not uniform:
        return end
    run_end = int(np.searchsorted(negated_lengths, negated_lengths[start], side="right"))
    if min(run_end, end) - start >= max(1, batch_size // 4):
        return min(run_end, end)
    return end


@dataclass
class _Chunk:
    """Texts of one tokenised chunk, ordered longest first; batches are cut from this order."""

    rows: np.ndarray
    encodings: dict[str, list[list[int]]]
    order: np.ndarray
    descending: np.ndarray


def _embed_chunk(
    encoder: Encoder,
    chunk: _Chunk,
    batches: HalvingBatches,
    vectors: np.ndarray,
    stats: EmbedStats,
    forward: ForwardFn,
    uniform_batches: bool,
    progress: Callable[[int], None],
) -> None:
    def step(position: int, size: int) -> int:
        end = batch_end(chunk.descending, position, size, uniform=uniform_batches)
        rows = chunk.order[position:end].tolist()
        batch, tokens, slots = pad_batch(encoder, chunk.encodings, rows)
        pooled = forward(encoder, batch)
        vectors[chunk.rows[rows]] = pooled.float().cpu().numpy()
        stats.tokens += tokens
        stats.padded_slots += slots
        progress(len(rows))
        return len(rows)

    try:
        batches.run(len(chunk.order), step)
    except BatchOutOfMemoryError as exc:
        tokens = -int(chunk.descending[exc.position])
        raise EmbeddingError(
            f"out of memory embedding one text of {tokens} tokens on {encoder.device}; "
            "lower embedding.max_length or use a larger device"
        ) from exc
    finally:
        stats.batch_size, stats.halvings = batches.batch_size, batches.halvings


def embed_texts(
    encoder: Encoder,
    texts: Sequence[str],
    *,
    batch_size: int,
    progress: ProgressFn | None = None,
    forward: ForwardFn = encode_batch,
    uniform_batches: bool = True,
) -> tuple[np.ndarray, EmbedStats]:
    """(n, dim) float32 unit vectors for texts, in input order, and what it took.

    Texts are sorted by token length (longest first) and each batch is padded only to its own longest text.
    On an out-of-memory error the batch size halves and the same texts are tried again; the smaller size
    is kept for the rest of the run (HalvingBatches). `forward` runs one batch (replaceable to test that).
    """
    batches = HalvingBatches(batch_size, encoder.device, "texts")
    vectors = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
    stats = EmbedStats(texts=len(texts), batch_size=batch_size)
    started = time.perf_counter()
    done = 0

    def advance(rows: int) -> None:
        nonlocal done
        done += rows
        if progress is not None:
            progress(done, len(texts))

    with torch.inference_mode():
        for rows in _chunks(texts):
            encodings = _tokenize(encoder, [texts[int(i)] for i in rows])
            lengths = np.fromiter(
                (len(ids) for ids in encodings["input_ids"]), dtype=np.int64, count=len(rows)
            )
            order = np.argsort(-lengths, kind="stable")
            chunk = _Chunk(rows, encodings, order, -lengths[order])
            _embed_chunk(encoder, chunk, batches, vectors, stats, forward, uniform_batches, advance)
    if encoder.device.type == "cuda":
        torch.cuda.synchronize(encoder.device)
    stats.seconds = time.perf_counter() - started
    return vectors, stats


def query_texts(queries: Sequence[str | None] | pl.Series) -> pl.DataFrame:
    """query, content_hash of each distinct non-blank query, in first-seen order."""
    distinct = pl.Series(L.QUERY, list(queries), dtype=pl.String).drop_nulls()
    distinct = distinct.filter(distinct.str.strip_chars().str.len_chars() > 0).unique(maintain_order=True)
    return pl.DataFrame({L.QUERY: distinct, CONTENT_HASH: hash_texts(distinct)})


def embed_queries(
    encoder: Encoder,
    queries: Sequence[str] | pl.Series,
    *,
    batch_size: int,
    progress: ProgressFn | None = None,
) -> pl.DataFrame:
    """query, model_version, embedding for each distinct non-empty query, by the same code as products.

    Queries come from any list of strings; update_query_embeddings keeps those of the lake stored.
    """
    distinct = query_texts(queries).get_column(L.QUERY)
    vectors, _ = embed_texts(encoder, distinct.to_list(), batch_size=batch_size, progress=progress)
    return pl.DataFrame(
        {
            L.QUERY: distinct,
            MODEL_VERSION: pl.Series([encoder.model_version] * distinct.len(), dtype=pl.String),
            EMBEDDING: vector_series(vectors),
        }
    )


@dataclass
class EmbeddingReport:
    """What one incremental embedding run did, for logs, artifacts and the CLI; `products` counts the live
    items, which are distinct search queries when kind is 'queries'."""

    path: str
    model_version: str
    products: int
    embedded: int
    new: int
    changed: int
    reused: int
    dropped: int
    written: bool
    seconds: float
    stats: EmbedStats
    kind: str = "products"

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "path": self.path,
            "model_version": self.model_version,
            "products": self.products,
            "embedded": self.embedded,
            "new": self.new,
            "changed": self.changed,
            "reused": self.reused,
            "dropped": self.dropped,
            "written": self.written,
            "seconds": round(self.seconds, 3),
            "texts": self.stats.texts,
            "tokens": self.stats.tokens,
            "fill_share": round(self.stats.fill_share, 4),
            "texts_per_s": round(self.stats.texts_per_s, 1),
            "tokens_per_s": round(self.stats.tokens_per_s, 1),
            "batch_size": self.stats.batch_size,
            "halvings": self.stats.halvings,
        }


def read_current_products(lake: str) -> pl.DataFrame:
    """The curated live products (curated/products/current/part-*.parquet); one product_id per row."""
    folder = lake_path(lake, *CURRENT_PRODUCTS)
    products = read_parts(partition_files(folder))
    if products is None:
        raise EmbeddingError(f"{folder}: no curated products (part-*.parquet); run `shopgraph ingest` first")
    duplicated = products.filter(pl.col(L.PRODUCT_ID).is_duplicated())
    if duplicated.height:
        raise EmbeddingError(
            f"{folder}: product_id {duplicated.item(0, L.PRODUCT_ID)!r} appears {duplicated.height} times; "
            "the current table must hold one row per live product"
        )
    return products


def read_curated_queries(lake: str) -> pl.DataFrame:
    """query, content_hash of the distinct queries of curated/search_judgments (every dt= partition);
    no rows when there are none."""
    fs, root = filesystem(lake_path(lake, CURATED, L.SEARCH_JUDGMENTS))
    files: list[str] = []
    for folder in sorted(fs.glob(f"{root.rstrip('/')}/dt=*")):
        files += partition_files(
            lake_path(lake, CURATED, L.SEARCH_JUDGMENTS, folder.rstrip("/").rsplit("/")[-1])
        )
    judgments = read_parts(files)
    return query_texts([] if judgments is None else judgments.get_column(L.QUERY))


def read_embeddings(lake: str, folder: tuple[str, ...], key: str) -> pl.DataFrame | None:
    """Stored vectors (<folder>/part-*.parquet: key, content_hash, model_version, embedding); None before
    the first run."""
    path = lake_path(lake, *folder)
    files = partition_files(path)
    stored = read_parts(files)
    if stored is not None:
        check_stored_embeddings(stored, ", ".join(files), key)
    return stored


def read_product_embeddings(lake: str) -> pl.DataFrame | None:
    """The stored product vectors (enriched/product_embeddings/part-*.parquet); None before the first run."""
    return read_embeddings(lake, PRODUCT_EMBEDDINGS, L.PRODUCT_ID)


def read_query_embeddings(lake: str) -> pl.DataFrame | None:
    """The stored query vectors (enriched/query_embeddings/part-*.parquet); None before the first run."""
    return read_embeddings(lake, QUERY_EMBEDDINGS, L.QUERY)


def write_embeddings(lake: str, folder: tuple[str, ...], embeddings: pl.DataFrame) -> str:
    """Replace the stored embeddings of a folder by one atomically written part; returns its path."""
    path = lake_path(lake, *folder)
    target = lake_path(path, "part-00000.parquet")
    write_parquet(embeddings, target)
    for stale in partition_files(path):
        if stale != target:
            remove_tree(stale)
    return target


def write_product_embeddings(lake: str, embeddings: pl.DataFrame) -> str:
    """Replace the stored product embeddings by one atomically written part; returns its path."""
    return write_embeddings(lake, PRODUCT_EMBEDDINGS, embeddings)


def update_product_embeddings(
    lake: str,
    spec: EncoderSpec,
    *,
    batch_size: int,
    progress: ProgressFn | None = None,
    load: Callable[[EncoderSpec], Encoder] = load_encoder,
    version: Callable[[EncoderSpec], str] = model_version,
    forward: ForwardFn = encode_batch,
) -> EmbeddingReport:
    """Embed new and changed curated products, reuse the rest, drop tombstoned ones, write the result.

    Reads curated/products/current (title, description, brand, category_path, colour, material, size, style,
    attributes) and enriched/product_embeddings; writes enriched/product_embeddings/part-00000.parquet with
    product_id, content_hash, model_version, embedding. The model is loaded only when something needs
    embedding; nothing is written when nothing changed.
    """
    started = time.perf_counter()
    texts = compose_product_text(read_current_products(lake))
    stored = read_product_embeddings(lake)
    current = version(spec)
    plan = plan_embeddings(texts, stored, current, key=L.PRODUCT_ID, text=PRODUCT_TEXT)
    embedder = _Embedder(spec, batch_size, progress, load, forward)
    return _update(lake, PRODUCT_EMBEDDINGS, plan, stored, current, embedder, started)


def update_query_embeddings(
    lake: str,
    spec: EncoderSpec,
    *,
    batch_size: int,
    progress: ProgressFn | None = None,
    load: Callable[[EncoderSpec], Encoder] = load_encoder,
    version: Callable[[EncoderSpec], str] = model_version,
    forward: ForwardFn = encode_batch,
) -> EmbeddingReport:
    """Embed the new distinct queries of curated/search_judgments by the product code path, reuse stored
    vectors of known queries, drop queries no longer there.

    Writes enriched/query_embeddings/part-00000.parquet with query, content_hash, model_version, embedding
    (a query is keyed by its text, so an edited query is a new one); nothing is written when nothing changed.
    """
    started = time.perf_counter()
    texts = read_curated_queries(lake)
    stored = read_query_embeddings(lake)
    current = version(spec)
    plan = plan_embeddings(texts, stored, current, key=L.QUERY, text=L.QUERY)
    embedder = _Embedder(spec, batch_size, progress, load, forward)
    report = _update(lake, QUERY_EMBEDDINGS, plan, stored, current, embedder, started)
    report.kind = "queries"
    return report


@dataclass
class _Embedder:
    """Loads the encoder (only when called) and embeds texts with it."""

    spec: EncoderSpec
    batch_size: int
    progress: ProgressFn | None
    load: Callable[[EncoderSpec], Encoder]
    forward: ForwardFn

    def __call__(self, texts: list[str]) -> tuple[np.ndarray, EmbedStats]:
        encoder = self.load(self.spec)
        return embed_texts(
            encoder, texts, batch_size=self.batch_size, progress=self.progress, forward=self.forward
        )


def _update(
    lake: str,
    folder: tuple[str, ...],
    plan: EmbeddingPlan,
    stored: pl.DataFrame | None,
    current_version: str,
    embedder: _Embedder,
    started: float,
) -> EmbeddingReport:
    """Embed a plan's unique texts, merge with the reused vectors and write them unless nothing changed."""
    unique = plan.unique_texts
    stats = EmbedStats(batch_size=embedder.batch_size)
    if unique.height:
        vectors, stats = embedder(unique.get_column(plan.text).to_list())
        embedded = pl.DataFrame(
            {
                CONTENT_HASH: unique.get_column(CONTENT_HASH),
                MODEL_VERSION: pl.Series([current_version] * unique.height, dtype=pl.String),
                EMBEDDING: vector_series(vectors),
            }
        )
    else:
        embedded = pl.DataFrame()
        if embedder.progress is not None:
            embedder.progress(0, 0)
    merged = merge_embeddings(plan, embedded)
    path = lake_path(lake, *folder, "part-00000.parquet")
    unchanged = (
        plan.to_embed.height == 0 and plan.dropped == 0 and (stored is None or stored.height == merged.height)
    )
    if not unchanged:
        path = write_embeddings(lake, folder, merged)
    return EmbeddingReport(
        path=path,
        model_version=current_version,
        products=plan.to_embed.height + plan.reused.height,
        embedded=plan.to_embed.height,
        new=plan.new,
        changed=plan.changed,
        reused=plan.reused.height,
        dropped=plan.dropped,
        written=not unchanged,
        seconds=time.perf_counter() - started,
        stats=stats,
    )
