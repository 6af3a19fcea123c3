"""Unit tests for the graph schema statements: vector index options and retired indexes."""

from __future__ import annotations

import pytest

from shopgraph.adapters.graph_schema import (
    INDEXES,
    RETIRED_INDEXES,
    HnswConfig,
    vector_index_query,
)
from shopgraph.settings import load_settings

pytestmark = pytest.mark.unit


def test_vector_index_query_carries_dimension_and_hnsw_knobs() -> None:
    query = vector_index_query(384, HnswConfig(m=24, ef_construction=64))
    assert "`vector.dimensions`: 384" in query
    assert "`vector.similarity_function`: 'cosine'" in query
    assert "`vector.hnsw.m`: 24" in query and "`vector.hnsw.ef_construction`: 64" in query
    assert "`vector.hnsw.ef_construction`: 100" in vector_index_query(8)  # Neo4j's default


@pytest.mark.parametrize("dimension", [0, 4097, True, "384}) DROP INDEX x //"])
def test_vector_index_query_refuses_bad_dimensions(dimension: object) -> None:
    with pytest.raises(ValueError, match="dimension"):
        vector_index_query(dimension)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("m", "ef_construction"), [(0, 40), (513, 40), (16, 0), (16, 3201), (16, "40}}) //"), (True, 40)]
)
def test_hnsw_config_refuses_values_neo4j_rejects_or_that_are_not_integers(
    m: object, ef_construction: object
) -> None:
    with pytest.raises(ValueError, match="HNSW"):
        HnswConfig(m, ef_construction)  # type: ignore[arg-type]


def test_hnsw_config_follows_the_graph_settings() -> None:
    settings = load_settings(graph={"vector_hnsw_m": 32, "vector_hnsw_ef_construction": 100})
    assert HnswConfig.from_settings(settings) == HnswConfig(32, 100)


def test_retired_indexes_are_not_created_again() -> None:
    for name in RETIRED_INDEXES:
        assert not any(f"INDEX {name} " in statement for statement in INDEXES)
