"""Unit tests for graph rows: exact Cypher of the builders, whitelists, frame transforms, similarity."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import polars as pl
import pytest
import torch
from polars.testing import assert_frame_equal

from shopgraph.domain import graph_rows as G
from shopgraph.domain.similarity import (
    normalised_rows,
    refresh_targets,
    similar_product_rows,
    top_k_neighbours,
)
from shopgraph.schemas import landing as L

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 1, 1, 2, tzinfo=UTC)
T2 = datetime(2026, 1, 1, 3, tzinfo=UTC)


def _products() -> pl.DataFrame:
    pairs = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))
    return pl.DataFrame(
        {
            L.PRODUCT_ID: ["P2", "P1", "P3"],
            L.TITLE: ['Zip "Dress" `x`', "Mug", None],
            L.DESCRIPTION: ["d", None, None],
            L.BRAND: ["Acme", None, None],
            L.CATEGORY_PATH: ["Clothing > Women > Dresses", "Home > Mugs", None],
            L.PRICE: [10.0, 5.0, None],
            L.CURRENCY: ["EUR", "EUR", None],
            L.COLOUR: ["navy", "red", None],
            L.MATERIAL: [None, "ceramic", None],
            L.SIZE: ["M", None, None],
            L.STYLE: [None, None, None],
            L.ATTRIBUTES: pl.Series([[{"key": "warranty_months", "value": "24"}], [], None], dtype=pairs),
            L.IS_DELETED: [False, False, True],
            L.UPDATED_AT: [T0, T1, T2],
        },
        schema_overrides={L.STYLE: pl.String},
    )


# ---------------------------------------------------------------- whitelists and batches


@pytest.mark.parametrize("label", ["Product`) DETACH DELETE (x", "product", "Movie", ""])
def test_checked_label_rejects_names_outside_the_whitelist(label: str) -> None:
    with pytest.raises(ValueError, match="not one of"):
        G.checked_label(label)


@pytest.mark.parametrize("rel_type", ["VIEWED]->() DELETE r//", "similar_to", "LIKES"])
def test_checked_type_rejects_names_outside_the_whitelist(rel_type: str) -> None:
    with pytest.raises(ValueError, match="not one of"):
        G.checked_type(rel_type)


def test_builders_refuse_unknown_labels_and_types() -> None:
    with pytest.raises(ValueError):
        G.merge_nodes_query("Evil")
    with pytest.raises(ValueError):
        G.merge_interactions_query("EVIL")
    with pytest.raises(ValueError):
        G.merge_edges_query("RELATED", "Entity", "head_id", "Evil", "tail_id")


def test_row_batches_split_rows_and_keep_values_as_parameters() -> None:
    frame = pl.DataFrame({"name": ["a", "b'c", "d"]})
    batches = list(G.row_batches(G.BRAND, "Q", frame, 2))
    assert [batch.rows for batch in batches] == [[{"name": "a"}, {"name": "b'c"}], [{"name": "d"}]]
    assert batches[0].parameters == {"rows": [{"name": "a"}, {"name": "b'c"}]}
    assert {batch.query for batch in batches} == {"Q"}
    with pytest.raises(ValueError, match="batch_size"):
        list(G.row_batches(G.BRAND, "Q", frame, 0))


# ---------------------------------------------------------------- exact Cypher

UPDATED = G.unwind_rows(("updated_at",))


def test_key_partitions_give_each_key_one_part_and_keep_row_order() -> None:
    rows = pl.DataFrame({"id": [f"K{i % 37}" for i in range(400)], "seq": list(range(400))})
    parts = G.key_partitions(rows, "id", 3)
    assert len(parts) == 3 and sum(part.height for part in parts) == rows.height
    owners = [set(part.get_column("id")) for part in parts]
    assert all(not (owners[i] & owners[j]) for i in range(3) for j in range(i + 1, 3))
    for part in parts:  # each key's rows keep their relative order (later versions stay later)
        assert part.get_column("seq").is_sorted()
    assert_frame_equal(pl.concat(parts).sort("seq"), rows)
    assert G.key_partitions(rows, "id", 1) == [rows]
    assert len(G.key_partitions(rows.head(1), "id", 4)) == 1  # empty parts are dropped
    with pytest.raises(ValueError, match="at least 1"):
        G.key_partitions(rows, "id", 0)


def test_unwind_rows_rebuilds_times_and_dates_from_wire_values() -> None:
    assert G.unwind_rows() == "UNWIND $rows AS row"
    assert G.unwind_rows(("ts",), ("day",)) == (
        "UNWIND $rows AS raw\n"
        "WITH raw {.*, ts: CASE WHEN raw.ts IS NULL THEN null ELSE datetime({epochSeconds: raw.ts / 1000000, "
        "nanosecond: raw.ts % 1000000 * 1000}) END, day: date(raw.day)} AS row"
    )


def test_row_batches_send_times_as_microseconds_and_dates_as_text() -> None:
    frame = pl.DataFrame({"ts": [T0, None], "day": [date(2026, 1, 2), None], "n": [1, 2]})
    (batch,) = G.row_batches(G.VIEWED, "Q", frame, 10)
    assert batch.rows == [
        {"ts": int(T0.timestamp() * 1_000_000), "day": "2026-01-02", "n": 1},
        {"ts": None, "day": None, "n": 2},
    ]


def test_merge_nodes_query_text() -> None:
    assert G.merge_nodes_query(G.CATEGORY, ("name", "depth")) == (
        "UNWIND $rows AS row\n"
        "MERGE (n:Category {path: row.path})\n"
        "SET n.name = row.name, n.depth = row.depth\n"
        "RETURN count(*) AS written"
    )
    assert G.merge_nodes_query(G.ATTRIBUTE) == (
        "UNWIND $rows AS row\n"
        "MERGE (n:Attribute {type: row.type, value: row.value})\n"
        "RETURN count(*) AS written"
    )


def test_upsert_versioned_query_text() -> None:
    assert G.upsert_versioned_query(G.USER, ("country", "updated_at")) == (
        UPDATED + "\n"
        "MERGE (n:User {user_id: row.user_id})\n"
        "WITH n, row WHERE n.updated_at IS NULL OR n.updated_at <= row.updated_at\n"
        "SET n.country = row.country, n.updated_at = row.updated_at, n.active = true, n.deleted_at = null\n"
        "RETURN count(*) AS written"
    )


def test_deactivate_and_delete_query_text() -> None:
    assert G.deactivate_products_query() == (
        UPDATED + "\n"
        "MATCH (n:Product {product_id: row.product_id})\n"
        "WHERE n.updated_at IS NULL OR n.updated_at <= row.updated_at\n"
        "SET n.active = false, n.deleted_at = row.updated_at, n.updated_at = row.updated_at\n"
        "REMOVE n.embedding, n.embedding_model, n.content_hash\n"
        "WITH n\n"
        "OPTIONAL MATCH (n)-[s:SIMILAR_TO]-()\n"
        "DELETE s\n"
        "RETURN count(DISTINCT n) AS written"
    )
    assert G.delete_users_query() == (
        UPDATED + "\n"
        "MATCH (n:User {user_id: row.user_id})\n"
        "WHERE n.updated_at IS NULL OR n.updated_at <= row.updated_at\n"
        "DETACH DELETE n\n"
        "RETURN count(*) AS written"
    )


def test_replace_single_edge_query_text() -> None:
    assert G.replace_single_edge_query(G.HAS_BRAND, G.BRAND, "brand") == (
        UPDATED + "\n"
        "MATCH (p:Product {product_id: row.product_id}) WHERE p.updated_at = row.updated_at\n"
        "OPTIONAL MATCH (p)-[old:HAS_BRAND]->(t:Brand)\n"
        "WHERE row.brand IS NULL OR t.name <> row.brand\n"
        "DELETE old\n"
        "WITH DISTINCT p, row WHERE row.brand IS NOT NULL\n"
        "MATCH (t:Brand {name: row.brand})\n"
        "MERGE (p)-[:HAS_BRAND]->(t)\n"
        "RETURN count(*) AS written"
    )


def test_replace_attributes_query_text() -> None:
    assert G.replace_attributes_query() == (
        "UNWIND $rows AS row\n"
        "MATCH (p:Product {product_id: row.product_id})\n"
        "OPTIONAL MATCH (p)-[old:HAS_ATTRIBUTE]->(a:Attribute)\n"
        "WHERE NOT any(x IN row.attributes WHERE x.type = a.type AND x.value = a.value)\n"
        "DELETE old\n"
        "WITH DISTINCT p, row\n"
        "UNWIND row.attributes AS attr\n"
        "MATCH (a:Attribute {type: attr.type, value: attr.value})\n"
        "MERGE (p)-[r:HAS_ATTRIBUTE]->(a)\n"
        "SET r.source = attr.source, r.confidence = attr.confidence\n"
        "RETURN count(*) AS written"
    )


def test_merge_edges_query_keeps_relation_name_as_data() -> None:
    assert G.merge_edges_query(G.RELATED, G.ENTITY, "head_id", G.ENTITY, "tail_id", data_key="relation") == (
        "UNWIND $rows AS row\n"
        "MATCH (a:Entity {entity_id: row.head_id})\n"
        "MATCH (b:Entity {entity_id: row.tail_id})\n"
        "MERGE (a)-[:RELATED {relation: row.relation}]->(b)\n"
        "RETURN count(*) AS written"
    )


def test_interaction_query_is_per_day_idempotent_and_rated_keeps_rating() -> None:
    viewed = G.merge_interactions_query(G.VIEWED)
    assert viewed.startswith(
        G.unwind_rows(("first_at", "last_at"), ("day",)) + "\n"
        "MATCH (u:User {user_id: row.user_id})\n"
        "MATCH (p:Product {product_id: row.product_id})\n"
        "MERGE (u)-[r:VIEWED]->(p)\n"
    )
    assert "[i IN before | days[i]] + row.day + [i IN after | days[i]] AS new_days" in viewed
    assert "r.count = reduce(total = 0, c IN new_counts | total + c)" in viewed
    assert "rating" not in viewed
    rated = G.merge_interactions_query(G.RATED)
    assert "MERGE (u)-[r:RATED]->(p)" in rated
    assert rated.endswith("r.rating = new_rating, r.rated_at = new_last\nRETURN count(*) AS written")


def test_similar_and_embedding_query_text() -> None:
    assert (
        G.replace_similar_query().splitlines()[3]
        == "WHERE NOT q.product_id IN [x IN row.neighbours | x.product_id]"
    )
    assert "CALL db.create.setNodeVectorProperty(p, 'embedding', row.embedding)" in G.set_embeddings_query()


# ---------------------------------------------------------------- frame transforms


def test_product_rows_split_live_rows_and_tombstones() -> None:
    products = _products()
    nodes = G.product_node_rows(products)
    assert nodes.get_column(L.PRODUCT_ID).to_list() == ["P1", "P2"]
    assert nodes.columns == [L.PRODUCT_ID, *G.PRODUCT_PROPERTIES]
    assert nodes.filter(pl.col(L.PRODUCT_ID) == "P2").get_column(L.TITLE).item() == 'Zip "Dress" `x`'
    assert_frame_equal(
        G.tombstone_rows(products, L.PRODUCT_ID), pl.DataFrame({L.PRODUCT_ID: ["P3"], L.UPDATED_AT: [T2]})
    )
    assert G.brand_node_rows(products).get_column("name").to_list() == ["Acme"]


def test_category_rows_include_every_ancestor() -> None:
    expected = pl.DataFrame(
        {
            "path": ["Clothing", "Clothing > Women", "Clothing > Women > Dresses", "Home", "Home > Mugs"],
            "name": ["Clothing", "Women", "Dresses", "Home", "Mugs"],
            "depth": [0, 1, 2, 0, 1],
            "parent_path": [None, "Clothing", "Clothing > Women", None, "Home"],
        }
    )
    assert_frame_equal(G.category_node_rows(_products()), expected)


def test_catalog_attribute_rows_take_columns_and_spec_pairs() -> None:
    rows = G.catalog_attribute_rows(_products()).sort(L.PRODUCT_ID, "type", "value")
    assert rows.select(L.PRODUCT_ID, "type", "value").rows() == [
        ("P1", "colour", "red"),
        ("P1", "material", "ceramic"),
        ("P2", "brand", "Acme"),
        ("P2", "colour", "navy"),
        ("P2", "size", "M"),
        ("P2", "warranty_months", "24"),
    ]
    assert set(rows.get_column("source")) == {"catalog"}
    assert set(rows.get_column("confidence")) == {1.0}


def test_attribute_sets_prefer_highest_confidence_then_catalog_and_give_empty_sets() -> None:
    attributes = pl.DataFrame(
        {
            L.PRODUCT_ID: ["P1", "P1", "P1", "P2"],
            "type": ["colour", "colour", "style", "colour"],
            "value": ["red", "red", "retro", "navy"],
            "source": ["ner", "catalog", "ner", "ner"],
            "confidence": [1.0, 1.0, 0.7, 0.9],
        }
    )
    sets = G.attribute_set_rows(attributes, pl.Series(["P1", "P9"]))
    assert sets.get_column(L.PRODUCT_ID).to_list() == ["P1", "P9"]
    assert sets.get_column("attributes").to_list() == [
        [
            {"type": "colour", "value": "red", "source": "catalog", "confidence": 1.0},
            {"type": "style", "value": "retro", "source": "ner", "confidence": 0.7},
        ],
        [],
    ]


def test_interaction_rows_fold_a_day_per_type() -> None:
    events = pl.DataFrame(
        {
            L.USER_ID: ["U1", "U1", "U1", "U2", "U1", "U1"],
            L.PRODUCT_ID: ["P1", "P1", "P2", "P1", "P1", "P1"],
            L.EVENT_TYPE: ["view", "view", "view", "purchase", "rating", "rating"],
            L.TS: [T1, T0, T2, T1, T2, T1],
            L.RATING: [None, None, None, None, 2, 5],
        },
        schema_overrides={L.RATING: pl.Int32},
    )
    day = date(2026, 1, 1)
    folded = G.interaction_rows(events, day)
    assert sorted(folded) == ["PURCHASED", "RATED", "VIEWED"]
    assert folded["VIEWED"].rows() == [("U1", "P1", 2, T0, T1, day), ("U1", "P2", 1, T2, T2, day)]
    assert folded["RATED"].select(L.USER_ID, "count", L.RATING, "last_at").rows() == [("U1", 2, 2, T2)]


def test_entity_and_triple_rows() -> None:
    triples = pl.DataFrame(
        {
            L.HEAD_ENTITY: ["m.1", "m.1", "m.2"],
            L.RELATION: ["film.actor", "film.actor", "x"],
            L.TAIL_ENTITY: ["m.2"] * 3,
        }
    )
    links = pl.DataFrame({L.PRODUCT_ID: ["P1"], L.ENTITY_ID: ["m.9"]})
    assert G.entity_node_rows(triples, links).get_column("entity_id").to_list() == ["m.1", "m.2", "m.9"]
    assert G.triple_rows(triples).rows() == [("m.1", "film.actor", "m.2"), ("m.2", "x", "m.2")]


# ---------------------------------------------------------------- similarity


def test_top_k_excludes_self_and_orders_by_score() -> None:
    keys = normalised_rows(np.array([[1, 0], [0.9, 0.1], [0, 1], [0.7, 0.7]], dtype=np.float32))
    scores, index = top_k_neighbours(keys, keys, torch.arange(4), k=2, block_size=3)
    assert index.tolist() == [[1, 3], [0, 3], [3, 1], [1, 2]]
    assert torch.all(scores[:, 0] >= scores[:, 1])
    assert torch.allclose(scores[0, 0], keys[0] @ keys[1])


def test_top_k_caps_k_at_the_other_products() -> None:
    keys = normalised_rows(np.eye(2, dtype=np.float32))
    scores, index = top_k_neighbours(keys, keys, torch.arange(2), k=5)
    assert index.tolist() == [[1], [0]]
    with pytest.raises(ValueError, match="k must be"):
        top_k_neighbours(keys, keys, torch.arange(2), k=0)


def test_similar_product_rows_only_for_changed_products() -> None:
    embeddings = pl.DataFrame(
        {
            L.PRODUCT_ID: ["P1", "P2", "P3"],
            "embedding": pl.Series([[1.0, 0.0], [1.0, 0.01], [0.0, 1.0]], dtype=pl.Array(pl.Float32, 2)),
        }
    )
    rows = similar_product_rows(embeddings, pl.Series(["P2"]), k=1)
    assert rows.get_column(L.PRODUCT_ID).to_list() == ["P2"]
    neighbours = rows.get_column("neighbours").to_list()[0]
    assert [(n["product_id"], n["rank"]) for n in neighbours] == [("P1", 1)]
    assert neighbours[0]["score"] == pytest.approx(0.99995, abs=1e-4)
    assert similar_product_rows(embeddings, pl.Series(["P9"]), k=1).is_empty()


def _lists(rows: pl.DataFrame) -> dict[str, list[str]]:
    return {pid: [n["product_id"] for n in ns] for pid, ns in rows.iter_rows()}


def test_incremental_refresh_equals_a_full_recomputation() -> None:
    rng = np.random.default_rng(11)
    ids = [f"P{i:02d}" for i in range(40)]
    vectors = rng.normal(size=(40, 8)).astype(np.float32)

    def frame(selected: list[str], vecs: np.ndarray) -> pl.DataFrame:
        rows = [ids.index(pid) for pid in selected]
        return pl.DataFrame(
            {L.PRODUCT_ID: selected, "embedding": pl.Series(vecs[rows], dtype=pl.Array(pl.Float32, 8))}
        )

    before = frame(ids[:30], vectors)
    lists = _lists(similar_product_rows(before, pl.Series(ids[:30]), k=4))
    scores = {
        pid: [n["score"] for n in ns]
        for pid, ns in similar_product_rows(before, pl.Series(ids[:30]), k=4).iter_rows()
    }
    # Day 2: ten new products, three changed vectors, two deleted (their incoming edges go).
    vectors[[3, 4, 5]] = rng.normal(size=(3, 8))
    deleted = {"P07", "P08"}
    alive = [pid for pid in ids if pid not in deleted]
    after = frame(alive, vectors)
    changed = pl.Series(ids[30:] + ["P03", "P04", "P05"])
    state_rows = []
    for pid in alive[:28]:
        kept = [(n, s) for n, s in zip(lists[pid], scores[pid], strict=True) if n not in deleted]
        if kept:
            state_rows.append({L.PRODUCT_ID: pid, "low": min(s for _, s in kept), "n": len(kept)})
    current = pl.DataFrame(state_rows, schema={L.PRODUCT_ID: pl.String, "low": pl.Float64, "n": pl.Int64})
    pointing = pl.Series(
        [pid for pid in alive[:28] if set(lists[pid]) & set(changed.to_list())], dtype=pl.String
    )
    targets = refresh_targets(after, changed, current, pointing, k=4, block_size=7)
    assert set(changed.to_list()) <= set(targets.to_list())
    assert len(targets) < len(alive)
    merged = {pid: [n for n in lists[pid] if n not in deleted] for pid in alive[:28]}
    merged.update(_lists(similar_product_rows(after, targets, k=4)))
    assert merged == _lists(similar_product_rows(after, pl.Series(alive), k=4))
