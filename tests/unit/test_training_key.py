"""training_key: the challenger's cache key changes with the content of its inputs, not their names."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from shopgraph.recsys.stage import training_key
from shopgraph.settings import Settings, load_settings

pytestmark = pytest.mark.unit


def lake_with(root: Path, digest: str, vectors: list[float]) -> Settings:
    """A lake whose latest export snapshot has `digest` and whose product vectors are `vectors`."""
    snapshot = root / "exports" / "graph" / "snap-a"
    snapshot.mkdir(parents=True, exist_ok=True)
    (snapshot / "manifest.json").write_text(json.dumps({"digest": digest}))
    (root / "exports" / "graph" / "latest.json").write_text(json.dumps({"path": str(snapshot)}))
    embeddings = root / "enriched" / "product_embeddings"
    embeddings.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"product_id": ["p1"], "embedding": [vectors]}).write_parquet(
        embeddings / "part-00000.parquet"
    )
    return load_settings(lake={"root": str(root)}, mlflow={"tracking_uri": "sqlite:///x.db"})


def test_same_content_same_key_in_another_folder(tmp_path: Path) -> None:
    first = training_key(lake_with(tmp_path / "a", "d1", [1.0, 2.0]), ["kg_text_gcn"])
    assert first == training_key(lake_with(tmp_path / "b", "d1", [1.0, 2.0]), ["kg_text_gcn"])


def test_key_follows_snapshot_vectors_settings_and_models(tmp_path: Path) -> None:
    base = lake_with(tmp_path, "d1", [1.0, 2.0])
    key = training_key(base, ["kg_text_gcn"])
    assert training_key(base, ["ease"]) != key
    assert (
        training_key(
            base.model_copy(update={"recsys": base.recsys.model_copy(update={"epochs": 7})}), ["kg_text_gcn"]
        )
        != key
    )
    assert training_key(lake_with(tmp_path, "d2", [1.0, 2.0]), ["kg_text_gcn"]) != key
    assert training_key(lake_with(tmp_path, "d1", [1.0, 2.5]), ["kg_text_gcn"]) != key
