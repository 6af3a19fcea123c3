"""The stage chain the demo runs: ingest, train-ner and enrich flows on a tiny generated shop."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import torch

from shopgraph.adapters.lake import lake_path, read_parquet
from shopgraph.generate import generate_shop

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture()
def small_lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    root = str(tmp_path / "lake")
    generate_shop(root, products=60, users=20, days=2, start_date=date(2026, 1, 1), seed=5)
    monkeypatch.setenv("SHOPGRAPH_LAKE__ROOT", root)
    for key, value in {"MAX_LENGTH": "64", "BATCH_SIZE": "8", "DEVICE": "cpu", "VAL_SHARE": "0.25"}.items():
        monkeypatch.setenv(f"SHOPGRAPH_NER__{key}", value)
    monkeypatch.setenv("SHOPGRAPH_EMBEDDING__DEVICE", "cpu")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield root
    torch.set_num_threads(before)


def test_ingest_train_ner_then_enrich(small_lake: str, mlflow_uri: str, prefect_harness: None) -> None:
    from flows.enrich import EnrichParams, enrich
    from flows.ingest import IngestParams, ingest
    from flows.train_ner import TrainNerParams, train_ner

    ingest(IngestParams(start="2026-01-01", end="2026-01-02"))
    current = pl.concat(
        read_parquet(str(f))
        for f in sorted(Path(lake_path(small_lake, "curated", "products", "current")).glob("*.parquet"))
    )
    trained = train_ner(TrainNerParams(epochs=1, learning_rate=3e-4))
    assert trained.version == "1" and trained.promoted

    result = enrich(EnrichParams())
    embeddings = result["embeddings"]
    assert embeddings["embedded"] == current.height and embeddings["reused"] == 0
    stored = read_parquet(str(next(Path(embeddings["path"]).parent.glob("part-*.parquet"))))
    assert sorted(stored["product_id"].to_list()) == sorted(current["product_id"].to_list())
    assert result["entities"].products == current.height
    assert result["entities"].attributes > 0
    queries = result["query_embeddings"]
    assert queries["kind"] == "queries" and queries["embedded"] == queries["products"] > 0

    again = enrich(EnrichParams())
    assert again["embeddings"]["embedded"] == 0 and again["embeddings"]["reused"] == current.height
    assert again["query_embeddings"]["embedded"] == 0 and not again["query_embeddings"]["written"]
