"""Integration tests of the graph stage against the real Neo4j: schema, idempotent load, tombstones,
hostile names, the vector index, export."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from graph_inputs import (
    DIMENSION,
    graph_snapshot,
    product_frame,
    small_shop,
    wipe_graph,
)
from neo4j import Driver

from shopgraph.adapters.graph_export import export_graph
from shopgraph.adapters.graph_loader import (
    DayInputs,
    LoadOptions,
    graph_counts,
    load_day,
    load_days,
    read_manifest,
)
from shopgraph.adapters.graph_schema import (
    SCHEMA_VERSION,
    HnswConfig,
    applied_schema_version,
    apply_schema,
    vector_index_config,
    vector_index_dimension,
)
from shopgraph.adapters.graph_store import neo4j_driver
from shopgraph.adapters.lake import lake_path, read_parquet, write_parquet
from shopgraph.domain.dates import partition_name
from shopgraph.schemas import landing as L
from shopgraph.settings import Settings

pytestmark = pytest.mark.integration

DB = "neo4j"
OPTIONS = LoadOptions(batch_size=50, top_k=5)


@pytest.fixture()
def driver(neo4j_settings: Settings) -> Iterator[Driver]:
    """A driver on an empty graph with the schema applied."""
    with neo4j_driver(neo4j_settings) as graph:
        wipe_graph(graph)
        apply_schema(graph, DB, DIMENSION)
        yield graph
        wipe_graph(graph)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[date]]:
    """A small generated shop, curated and enriched (read-only: tests that change it copy it)."""
    lake = str(tmp_path_factory.mktemp("graph-shop") / "lake")
    return lake, small_shop(lake)


def _copy_lake(shop: tuple[str, list[date]], tmp_path: Path) -> str:
    target = tmp_path / "lake"
    shutil.copytree(shop[0], target, ignore=shutil.ignore_patterns("manifests"))
    return str(target)


def test_schema_is_idempotent_versioned_and_follows_the_dimension(driver: Driver) -> None:
    constraints_before = driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN name ORDER BY name").records
    apply_schema(driver, DB, DIMENSION)
    constraints = [
        r["name"]
        for r in driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN name ORDER BY name").records
    ]
    assert constraints == [r["name"] for r in constraints_before]
    assert {"product_key", "brand_key", "category_key", "attribute_key", "user_key", "entity_key"} <= set(
        constraints
    )
    indexes = {
        r["name"]: r for r in driver.execute_query("SHOW INDEXES YIELD name, type, state RETURN *").records
    }
    assert indexes["product_text"]["type"] == "FULLTEXT"
    assert indexes["product_embedding"]["type"] == "VECTOR"
    assert all(row["state"] == "ONLINE" for row in indexes.values())
    assert applied_schema_version(driver, DB) == SCHEMA_VERSION
    assert vector_index_dimension(driver, DB) == DIMENSION
    report = apply_schema(driver, DB, 8)
    assert report.vector_index_recreated and vector_index_dimension(driver, DB) == 8


def test_schema_drops_retired_indexes(driver: Driver) -> None:
    # A graph whose schema an earlier version applied still has its per-product lookup indexes.
    driver.execute_query("CREATE INDEX product_active IF NOT EXISTS FOR (n:Product) ON (n.active)")
    apply_schema(driver, DB, DIMENSION)
    names = {r["name"] for r in driver.execute_query("SHOW INDEXES YIELD name RETURN name").records}
    assert "product_active" not in names and "product_text" in names


def test_new_hnsw_knobs_rebuild_the_vector_index_from_stored_vectors(
    driver: Driver, shop: tuple[str, list[date]], tmp_path: Path
) -> None:
    lake = _copy_lake(shop, tmp_path)
    load_days(driver, DB, lake, shop[1], OPTIONS)
    assert vector_index_config(driver, DB) == (DIMENSION, HnswConfig())
    embedded = "MATCH (p:Product) WHERE p.embedding IS NOT NULL RETURN count(p) AS n"
    before = driver.execute_query(embedded).records[0]["n"]
    assert before > 0
    same = apply_schema(driver, DB, DIMENSION)
    assert not same.vector_index_recreated
    report = apply_schema(driver, DB, DIMENSION, HnswConfig(m=8, ef_construction=20))
    assert report.vector_index_recreated
    assert vector_index_config(driver, DB) == (DIMENSION, HnswConfig(m=8, ef_construction=20))
    assert driver.execute_query(embedded).records[0]["n"] == before  # the vectors stay
    hits = driver.execute_query(
        "MATCH (p:Product) WHERE p.embedding IS NOT NULL WITH p LIMIT 1 "
        "CALL db.index.vector.queryNodes('product_embedding', 1, p.embedding) YIELD node "
        "RETURN node = p AS itself"
    ).records
    assert hits[0]["itself"]


def test_parallel_writers_leave_the_graph_one_writer_leaves(
    driver: Driver, shop: tuple[str, list[date]], tmp_path: Path
) -> None:
    lake = _copy_lake(shop, tmp_path)
    serial = load_days(driver, DB, lake, shop[1], LoadOptions(batch_size=500, top_k=5, writers=1))
    counts, snapshot = graph_counts(driver, DB), graph_snapshot(driver)
    wipe_graph(driver)
    apply_schema(driver, DB, DIMENSION)
    parallel = load_days(
        driver, DB, lake, shop[1], LoadOptions(batch_size=500, top_k=5, writers=3), force=True
    )
    assert graph_counts(driver, DB) == counts
    assert graph_snapshot(driver) == snapshot
    assert parallel.total("nodes") == serial.total("nodes")
    assert parallel.stats["Product"].batches > serial.stats["Product"].batches  # three writers' batches


def test_load_twice_gives_identical_counts_and_properties(
    driver: Driver, shop: tuple[str, list[date]], tmp_path: Path
) -> None:
    lake = _copy_lake(shop, tmp_path)
    days = shop[1]
    first = load_days(driver, DB, lake, days, OPTIONS)
    assert first.days == [d.isoformat() for d in days] and not first.skipped
    counts, snapshot = graph_counts(driver, DB), graph_snapshot(driver)
    again = load_days(driver, DB, lake, days, OPTIONS, force=True)
    assert again.days == first.days
    assert graph_counts(driver, DB) == counts
    assert graph_snapshot(driver) == snapshot
    # Unchanged partitions are skipped by their manifest.
    skipped = load_days(driver, DB, lake, days, OPTIONS)
    assert skipped.days == [] and skipped.skipped == [d.isoformat() for d in days]
    assert read_manifest(lake, days[0])["inputs"]  # type: ignore[index]


def test_loaded_graph_matches_its_inputs(
    driver: Driver, shop: tuple[str, list[date]], tmp_path: Path
) -> None:
    lake = _copy_lake(shop, tmp_path)
    load_days(driver, DB, lake, shop[1], OPTIONS)
    current = read_parquet(lake_path(lake, "curated", "products", "current", "part-00000.parquet"))
    users = read_parquet(lake_path(lake, "curated", "users", "current", "part-00000.parquet"))
    events = pl.read_parquet(lake_path(lake, "curated", "events", "*", "*.parquet"))
    records = driver.execute_query("MATCH (p:Product) WHERE p.active RETURN count(p) AS n").records
    assert records[0]["n"] == current.height
    assert driver.execute_query("MATCH (u:User) RETURN count(u) AS n").records[0]["n"] == users.height
    live_users = events.filter(pl.col(L.USER_ID).is_in(users.get_column(L.USER_ID).implode()))
    for event_type, rel_type in (("view", "VIEWED"), ("purchase", "PURCHASED")):
        expected = live_users.filter(pl.col(L.EVENT_TYPE) == event_type).height
        got = driver.execute_query(f"MATCH ()-[r:{rel_type}]->() RETURN sum(r.count) AS n").records[0]["n"]
        assert got == expected
    product = current.filter(pl.col(L.BRAND).is_not_null()).row(0, named=True)
    record = driver.execute_query(
        "MATCH (p:Product {product_id: $id})-[:HAS_BRAND]->(b:Brand) "
        "MATCH (p)-[:IN_CATEGORY]->(c:Category) RETURN p.title AS title, b.name AS brand, c.path AS path",
        {"id": product[L.PRODUCT_ID]},
    ).records[0]
    assert (record["title"], record["brand"], record["path"]) == (
        product[L.TITLE],
        product[L.BRAND],
        product[L.CATEGORY_PATH],
    )
    similar = driver.execute_query(
        "MATCH (p:Product {product_id: $id})-[s:SIMILAR_TO]->(q) RETURN s.rank AS rank, s.model_version AS v "
        "ORDER BY rank",
        {"id": product[L.PRODUCT_ID]},
    ).records
    assert [r["rank"] for r in similar] == [1, 2, 3, 4, 5]
    assert {r["v"] for r in similar} == {"test-embedder-1"}


def test_later_change_set_tombstones_updates_and_removes_stale_attributes(
    driver: Driver, shop: tuple[str, list[date]], tmp_path: Path
) -> None:
    lake = _copy_lake(shop, tmp_path)
    load_days(driver, DB, lake, shop[1], OPTIONS)
    current = read_parquet(lake_path(lake, "curated", "products", "current", "part-00000.parquet"))
    # A product with interactions goes; another changes colour and loses its brand.
    gone = driver.execute_query(
        "MATCH (:User)-[:VIEWED]->(p:Product) WHERE p.active RETURN p.product_id AS id ORDER BY id LIMIT 1"
    ).records[0]["id"]
    changed = current.filter((pl.col(L.PRODUCT_ID) != gone) & pl.col(L.COLOUR).is_not_null()).row(
        0, named=True
    )
    user = driver.execute_query(
        "MATCH (u:User)-[:VIEWED]->() RETURN u.user_id AS id ORDER BY id LIMIT 1"
    ).records[0]["id"]
    day = date.fromordinal(shop[1][-1].toordinal() + 1)
    stamp = datetime(day.year, day.month, day.day, 0, 30, tzinfo=UTC)
    new_colour = "chartreuse" if changed[L.COLOUR] != "chartreuse" else "teal"
    update = {**changed, L.COLOUR: new_colour, L.BRAND: None, L.IS_DELETED: False, L.UPDATED_AT: stamp}
    tombstone = {key: None for key in L.PRODUCTS_SCHEMA} | {
        L.PRODUCT_ID: gone,
        L.IS_DELETED: True,
        L.UPDATED_AT: stamp,
    }
    # A new listing that enrichment has not reached yet keeps its catalog attributes.
    newcomer = {**update, L.PRODUCT_ID: "P99999999", L.COLOUR: "ochre", L.BRAND: "Newco"}
    changes = pl.DataFrame([update, tombstone, newcomer], schema=L.PRODUCTS_SCHEMA)
    write_parquet(
        changes, lake_path(lake, "curated", "products", "changes", partition_name(day), "part-00000.parquet")
    )
    user_tombstone = pl.DataFrame(
        [{key: None for key in L.USERS_SCHEMA} | {L.USER_ID: user, L.IS_DELETED: True, L.UPDATED_AT: stamp}],
        schema=L.USERS_SCHEMA,
    )
    write_parquet(
        user_tombstone,
        lake_path(lake, "curated", "users", "changes", partition_name(day), "part-00000.parquet"),
    )
    attributes_path = lake_path(lake, "enriched", "product_attributes", "part-00000.parquet")
    attributes = read_parquet(attributes_path)
    is_changed = pl.col(L.PRODUCT_ID) == changed[L.PRODUCT_ID]
    attributes = attributes.filter(~(is_changed & pl.col("type").is_in(["colour", "brand"]))).vstack(
        pl.DataFrame(
            [
                {
                    L.PRODUCT_ID: changed[L.PRODUCT_ID],
                    "type": "colour",
                    "value": new_colour,
                    "source": "ner",
                    "confidence": 0.8,
                }
            ],
            schema=attributes.schema,
        )
    )
    write_parquet(attributes, attributes_path)
    write_parquet(
        current.filter(pl.col(L.PRODUCT_ID) != gone),
        lake_path(lake, "curated", "products", "current", "part-00000.parquet"),
    )

    report = load_days(driver, DB, lake, [*shop[1], day], OPTIONS)
    assert report.days == [day.isoformat()]
    node = driver.execute_query(
        "MATCH (p:Product {product_id: $id}) OPTIONAL MATCH (p)-[s:SIMILAR_TO]-() "
        "RETURN p.active AS active, p.deleted_at AS deleted_at, p.embedding AS embedding, "
        "count(s) AS similar, "
        "COUNT { (:User)-[:VIEWED]->(p) } AS viewers",
        {"id": gone},
    ).records[0]
    assert node["active"] is False and node["deleted_at"].to_native() == stamp
    assert node["embedding"] is None and node["similar"] == 0 and node["viewers"] >= 1
    colours = driver.execute_query(
        "MATCH (p:Product {product_id: $id})-[r:HAS_ATTRIBUTE]->(a:Attribute {type: 'colour'}) "
        "RETURN a.value AS value, r.source AS source",
        {"id": changed[L.PRODUCT_ID]},
    ).records
    assert [(r["value"], r["source"]) for r in colours] == [(new_colour, "ner")]
    brands = driver.execute_query(
        "MATCH (p:Product {product_id: $id})-[:HAS_BRAND]->(b) RETURN count(b) AS n",
        {"id": changed[L.PRODUCT_ID]},
    ).records
    assert brands[0]["n"] == 0
    newcomer_attributes = driver.execute_query(
        "MATCH (:Product {product_id: 'P99999999'})-[r:HAS_ATTRIBUTE]->(a:Attribute) "
        "RETURN a.type AS type, a.value AS value, r.source AS source"
    ).records
    assert {("colour", "ochre", "catalog"), ("brand", "Newco", "catalog")} <= {
        (r["type"], r["value"], r["source"]) for r in newcomer_attributes
    }
    assert driver.execute_query("MATCH (u:User {user_id: $id}) RETURN u", {"id": user}).records == []
    # Replaying the older change sets after the tombstone does not bring the product back.
    load_days(driver, DB, lake, shop[1], OPTIONS, force=True)
    assert (
        driver.execute_query(
            "MATCH (p:Product {product_id: $id}) RETURN p.active AS a", {"id": gone}
        ).records[0]["a"]
        is False
    )


HOSTILE = [
    'O\'Brien "Quoted" Shop',
    "`Backtick`) DETACH DELETE n //",
    "{braces: $rows} }}{{",
    "MATCH (n) DETACH DELETE n",
    "RETURN MERGE CREATE DELETE",
    "Café 😀🛒 ünïcödé",
    "back\\slash \n newline\t tab",
]


def test_hostile_names_are_stored_verbatim(driver: Driver) -> None:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            L.PRODUCT_ID: f"P{index:08d}",
            L.TITLE: name,
            L.DESCRIPTION: name,
            L.BRAND: name,
            L.CATEGORY_PATH: f"Dept > {name}",
            L.COLOUR: name,
            L.ATTRIBUTES: [{"key": name, "value": name}],
            L.UPDATED_AT: stamp,
        }
        for index, name in enumerate(HOSTILE)
    ]
    load_day(driver, DB, DayInputs(day=date(2026, 1, 1), products=product_frame(rows)), OPTIONS)
    load_day(driver, DB, DayInputs(day=date(2026, 1, 1), products=product_frame(rows)), OPTIONS)
    got = driver.execute_query(
        "MATCH (p:Product)-[:HAS_BRAND]->(b:Brand) MATCH (p)-[:IN_CATEGORY]->(c:Category) "
        "RETURN p.product_id AS id, p.title AS title, p.description AS description, b.name AS brand, "
        "c.name AS category "
        "ORDER BY id"
    ).records
    assert [(r["title"], r["description"], r["brand"], r["category"]) for r in got] == [
        (n, n, n, n) for n in HOSTILE
    ]
    spec = driver.execute_query(
        "MATCH (:Product)-[:HAS_ATTRIBUTE]->(a:Attribute) WHERE a.type = a.value "
        "RETURN a.value AS v ORDER BY v"
    ).records
    assert sorted(r["v"] for r in spec) == sorted(HOSTILE)
    counts = graph_counts(driver, DB)
    assert counts["Product"] == len(HOSTILE) and counts["Brand"] == len(HOSTILE)
    assert counts["Category"] == len(HOSTILE) + 1


def test_vector_index_returns_own_near_duplicates_first(driver: Driver) -> None:
    rng = np.random.default_rng(3)
    bases = rng.normal(size=(6, DIMENSION))
    vectors, ids = [], []
    for index, base in enumerate(bases):
        for copy in range(2):  # each product and its near-duplicate listing
            ids.append(f"P{index:04d}{copy}")
            vectors.append(base + (0.01 * rng.normal(size=DIMENSION) if copy else 0))
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    products = product_frame([{L.PRODUCT_ID: pid, L.UPDATED_AT: stamp} for pid in ids])
    embeddings = pl.DataFrame(
        {
            L.PRODUCT_ID: ids,
            "content_hash": ids,
            "model_version": "m1",
            "embedding": pl.Series(
                np.array(vectors, dtype=np.float32), dtype=pl.Array(pl.Float32, DIMENSION)
            ),
        }
    )
    load_day(driver, DB, DayInputs(day=date(2026, 1, 1), products=products, embeddings=embeddings), OPTIONS)
    driver.execute_query("CALL db.awaitIndexes(60)")
    for index in range(len(bases)):
        pid = f"P{index:04d}0"
        hits = driver.execute_query(
            "MATCH (p:Product {product_id: $id}) "
            "CALL db.index.vector.queryNodes('product_embedding', 3, p.embedding) YIELD node, score "
            "RETURN node.product_id AS id, score",
            {"id": pid},
        ).records
        assert [hit["id"] for hit in hits[:2]] == [pid, f"P{index:04d}1"]
        nearest = driver.execute_query(
            "MATCH (:Product {product_id: $id})-[s:SIMILAR_TO {rank: 1}]->(q) RETURN q.product_id AS id",
            {"id": pid},
        ).records
        assert nearest[0]["id"] == f"P{index:04d}1"


def test_export_streams_a_digested_snapshot(
    driver: Driver, shop: tuple[str, list[date]], tmp_path: Path
) -> None:
    lake = _copy_lake(shop, tmp_path)
    load_days(driver, DB, lake, shop[1], OPTIONS)
    triples = pl.DataFrame(
        {L.HEAD_ENTITY: ["m.1", "m.2"], L.RELATION: ["film.actor", "x'y"], L.TAIL_ENTITY: ["m.2", "m.3"]}
    )
    some_product = driver.execute_query(
        "MATCH (p:Product) RETURN p.product_id AS id ORDER BY id LIMIT 1"
    ).records[0]["id"]
    links = pl.DataFrame({L.PRODUCT_ID: [some_product], L.ENTITY_ID: ["m.1"]})
    load_day(driver, DB, DayInputs(day=shop[1][0], triples=triples, links=links), OPTIONS)
    first = export_graph(driver, DB, lake, chunk_size=7)
    second = export_graph(driver, DB, lake, chunk_size=1000)
    assert second.digest == first.digest and second.reused and not first.reused
    interactions = pl.read_parquet(f"{first.path}/interactions.parquet")
    total = driver.execute_query(
        "MATCH (:User)-[r]->(:Product) RETURN count(r) AS n, sum(r.count) AS s"
    ).records[0]
    assert interactions.height == total["n"] and interactions.get_column("count").sum() == total["s"]
    assert pl.read_parquet(f"{first.path}/kg_triples.parquet").rows() == [
        ("m.1", "film.actor", "m.2"),
        ("m.2", "x'y", "m.3"),
    ]
    assert pl.read_parquet(f"{first.path}/item_entities.parquet").rows() == [(some_product, "m.1")]
    attributes = pl.read_parquet(f"{first.path}/item_attributes.parquet")
    assert (
        attributes.height
        == driver.execute_query("MATCH ()-[r:HAS_ATTRIBUTE]->() RETURN count(r) AS n").records[0]["n"]
    )
    assert Path(first.path).name == first.digest[:16]
