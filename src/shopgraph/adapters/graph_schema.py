"""Graph schema: constraints, lookup, vector and fulltext indexes, and the applied version, idempotently."""

from __future__ import annotations

from dataclasses import dataclass

from neo4j import Driver

from shopgraph.adapters.graph_loader import embedding_dimension
from shopgraph.domain import graph_rows as G
from shopgraph.settings import Settings

SCHEMA_VERSION = 3
SCHEMA_NAME = "shopgraph"
VECTOR_INDEX = "product_embedding"
FULLTEXT_INDEX = "product_text"
MAX_DIMENSION = 4096
INDEX_WAIT_S = 300

# One uniqueness constraint per node key (named <label>_key), in NODE_KEYS order.
CONSTRAINTS: tuple[str, ...] = tuple(
    f"CREATE CONSTRAINT {label.lower()}_key IF NOT EXISTS FOR (n:{label}) REQUIRE "
    + (f"n.{keys[0]}" if len(keys) == 1 else "(" + ", ".join(f"n.{key}" for key in keys) + ")")
    + " IS UNIQUE"
    for label, keys in G.NODE_KEYS.items()
)

# Lookups that are not keys: attributes by type, categories by name, users by country, SIMILAR_TO edges
# by model version. RELATED.relation has no index on purpose: MERGE would seek every edge of that
# relation instead of expanding between the two entities, which made loading a knowledge graph with a
# few large relations quadratic.
INDEXES: tuple[str, ...] = (
    "CREATE INDEX attribute_type IF NOT EXISTS FOR (n:Attribute) ON (n.type)",
    "CREATE INDEX category_name IF NOT EXISTS FOR (n:Category) ON (n.name)",
    "CREATE INDEX user_country IF NOT EXISTS FOR (n:User) ON (n.country)",
    "CREATE INDEX similar_model IF NOT EXISTS FOR ()-[r:SIMILAR_TO]-() ON (r.model_version)",
    f"CREATE FULLTEXT INDEX {FULLTEXT_INDEX} IF NOT EXISTS FOR (n:Product) ON EACH [n.title, n.description]",
)

# Indexes earlier schema versions created and this one drops: related_relation (see the RELATED note
# above); product_active and product_category_path, which no query seeks by (a flag that nearly every
# product shares; categories are reached through IN_CATEGORY) and which every product write updated.
RETIRED_INDEXES: tuple[str, ...] = ("related_relation", "product_active", "product_category_path")

SCHEMA_VERSION_QUERY = (
    "MERGE (s:SchemaVersion {name: $name}) "
    "SET s.version = $version, s.embedding_dimension = $dimension, "
    "s.applied_at = CASE WHEN s.version = $version AND s.applied_at IS NOT NULL "
    "THEN s.applied_at ELSE datetime() END "
    "RETURN s.version AS version"
)


@dataclass(frozen=True)
class HnswConfig:
    """HNSW build knobs of the product vector index: links per vector, candidates per insert.

    Fewer candidates per insert make every embedding write cheaper and the graph a little coarser
    (docs/graph-model.md has the measured load rate and recall of both).
    """

    m: int = 16
    ef_construction: int = 100

    def __post_init__(self) -> None:
        for name, value, high in (("m", self.m, 512), ("ef_construction", self.ef_construction, 3200)):
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
                raise ValueError(f"HNSW {name} must be an integer in 1..{high}, got {value!r}")

    @classmethod
    def from_settings(cls, settings: Settings) -> HnswConfig:
        return cls(settings.graph.vector_hnsw_m, settings.graph.vector_hnsw_ef_construction)


@dataclass(frozen=True)
class SchemaReport:
    """What apply_schema left in place."""

    version: int
    dimension: int
    hnsw: HnswConfig
    constraints: int
    indexes: int
    vector_index_recreated: bool


def vector_index_query(dimension: int, hnsw: HnswConfig = HnswConfig()) -> str:
    """CREATE VECTOR INDEX on Product.embedding (cosine); the dimension is a checked integer and the
    HNSW knobs are checked integers of an HnswConfig."""
    if not isinstance(dimension, int) or isinstance(dimension, bool) or not 1 <= dimension <= MAX_DIMENSION:
        raise ValueError(f"embedding dimension must be an integer in 1..{MAX_DIMENSION}, got {dimension!r}")
    return (
        f"CREATE VECTOR INDEX {VECTOR_INDEX} IF NOT EXISTS FOR (n:Product) ON n.embedding "
        f"OPTIONS {{indexConfig: {{`vector.dimensions`: {dimension}, "
        f"`vector.similarity_function`: 'cosine', `vector.hnsw.m`: {hnsw.m}, "
        f"`vector.hnsw.ef_construction`: {hnsw.ef_construction}}}}}"
    )


def vector_index_config(driver: Driver, database: str) -> tuple[int, HnswConfig] | None:
    """The dimension and HNSW knobs of the existing product vector index, None when there is none."""
    records, _, _ = driver.execute_query(
        "SHOW VECTOR INDEXES YIELD name, options WHERE name = $name RETURN options",
        {"name": VECTOR_INDEX},
        database_=database,
    )
    if not records:
        return None
    config = records[0]["options"]["indexConfig"]
    # Servers before the HNSW options (and indexes made on them) build with Neo4j's defaults.
    default = HnswConfig()
    hnsw = HnswConfig(
        int(config.get("vector.hnsw.m", default.m)),
        int(config.get("vector.hnsw.ef_construction", default.ef_construction)),
    )
    return int(config["vector.dimensions"]), hnsw


def vector_index_dimension(driver: Driver, database: str) -> int | None:
    """The dimension of the existing product vector index, None when there is none."""
    current = vector_index_config(driver, database)
    return current[0] if current else None


def apply_schema(
    driver: Driver, database: str, dimension: int, hnsw: HnswConfig = HnswConfig()
) -> SchemaReport:
    """Create every constraint and index (IF NOT EXISTS), the vector index at this dimension, and record
    the schema version in a (:SchemaVersion) node. Running it again changes nothing. A vector index of
    another dimension (a new embedding model) is dropped and rebuilt, and its stale vectors are removed;
    one with other HNSW knobs is rebuilt from the stored vectors.
    """
    for statement in CONSTRAINTS + INDEXES:
        driver.execute_query(statement, database_=database)
    for name in RETIRED_INDEXES:
        # An index name cannot be a parameter; these names are constants of this module.
        driver.execute_query(f"DROP INDEX {name} IF EXISTS", database_=database)
    recreated = False
    current = vector_index_config(driver, database)
    if current is not None and current != (dimension, hnsw):
        driver.execute_query(f"DROP INDEX {VECTOR_INDEX} IF EXISTS", database_=database)
        if current[0] != dimension:
            _remove_stale_vectors(driver, database, dimension)
        recreated = True
    driver.execute_query(vector_index_query(dimension, hnsw), database_=database)
    driver.execute_query("CALL db.awaitIndexes($seconds)", {"seconds": INDEX_WAIT_S}, database_=database)
    driver.execute_query(
        SCHEMA_VERSION_QUERY,
        {"name": SCHEMA_NAME, "version": SCHEMA_VERSION, "dimension": dimension},
        database_=database,
    )
    return SchemaReport(SCHEMA_VERSION, dimension, hnsw, len(CONSTRAINTS), len(INDEXES) + 1, recreated)


def apply_configured_schema(driver: Driver, settings: Settings, lake: str | None = None) -> SchemaReport:
    """apply_schema at the width of the lake's enriched embeddings (graph.embedding_dimension before any
    exist) and the HNSW knobs of the `graph:` settings; the lake defaults to the settings' one."""
    dimension = embedding_dimension(lake or settings.lake_root) or settings.graph.embedding_dimension
    return apply_schema(driver, settings.neo4j.database, dimension, HnswConfig.from_settings(settings))


def _remove_stale_vectors(driver: Driver, database: str, dimension: int) -> None:
    # CALL ... IN TRANSACTIONS needs an implicit (auto-commit) transaction, hence session.run.
    with driver.session(database=database) as session:
        session.run(
            "MATCH (p:Product) WHERE p.embedding IS NOT NULL AND size(p.embedding) <> $dimension "
            "CALL (p) { REMOVE p.embedding, p.embedding_model, p.content_hash } "
            "IN TRANSACTIONS OF 10000 ROWS",
            {"dimension": dimension},
        ).consume()


def applied_schema_version(driver: Driver, database: str) -> int | None:
    """The schema version recorded in the graph, None before the first apply_schema."""
    records, _, _ = driver.execute_query(
        "MATCH (s:SchemaVersion {name: $name}) RETURN s.version AS version",
        {"name": SCHEMA_NAME},
        database_=database,
    )
    return int(records[0]["version"]) if records else None
