"""Search against Neo4j: vector and fulltext candidates, product facts for boosts, the catalog vocabulary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from neo4j import Driver

from shopgraph.adapters.graph_schema import FULLTEXT_INDEX, VECTOR_INDEX
from shopgraph.domain.ner.labels import CATEGORY_SEPARATOR, Synonyms, label_text, product_candidates
from shopgraph.domain.search.fusion import BOOSTED_TYPES, Hit, ProductFacts, QueryEntity
from shopgraph.schemas import truth as T

# Index names are module constants, passed as parameters like every value.
VECTOR_QUERY = (
    "CALL db.index.vector.queryNodes($index, $k, $vector) YIELD node, score "
    "WHERE node.active "
    "RETURN node.product_id AS product_id, score ORDER BY score DESC, product_id"
)
# Within a given pool (e.g. the judged products of a query): exact cosine, no index needed.
VECTOR_POOL_QUERY = (
    "UNWIND $ids AS id MATCH (p:Product {product_id: id}) "
    "WHERE p.active AND p.embedding IS NOT NULL "
    "RETURN p.product_id AS product_id, vector.similarity.cosine(p.embedding, $vector) AS score "
    "ORDER BY score DESC, product_id LIMIT $k"
)
FULLTEXT_QUERY = (
    "CALL db.index.fulltext.queryNodes($index, $query, {limit: $k}) YIELD node, score "
    "WHERE node.active "
    "RETURN node.product_id AS product_id, score ORDER BY score DESC, product_id"
)
FULLTEXT_POOL_QUERY = (
    "CALL db.index.fulltext.queryNodes($index, $query) YIELD node, score "
    "WHERE node.active AND node.product_id IN $ids "
    "RETURN node.product_id AS product_id, score ORDER BY score DESC, product_id LIMIT $k"
)
FACTS_QUERY = (
    "UNWIND $ids AS id MATCH (p:Product {product_id: id}) "
    "OPTIONAL MATCH (p)-[:HAS_BRAND]->(b:Brand) "
    "CALL (p) { OPTIONAL MATCH (p)-[:HAS_ATTRIBUTE]->(a:Attribute) WHERE a.type IN $types "
    "RETURN collect([a.type, a.value]) AS attributes } "
    "RETURN p.product_id AS product_id, p.title AS title, p.category_path AS category_path, "
    "p.price AS price, p.currency AS currency, b.name AS brand, attributes, p.quality_score AS quality_score"
)
VOCABULARY_QUERIES: tuple[tuple[str, str], ...] = (
    (T.ENTITY_BRAND, "MATCH (b:Brand) RETURN b.name AS value ORDER BY value"),
    (T.ENTITY_CATEGORY, "MATCH (c:Category) RETURN c.path AS value ORDER BY value"),
)
ATTRIBUTE_VOCABULARY_QUERY = (
    "MATCH (a:Attribute) WHERE a.type = $type RETURN DISTINCT a.value AS value ORDER BY value"
)
EMBEDDING_MODELS_QUERY = (
    "MATCH (p:Product) WHERE p.active AND p.embedding_model IS NOT NULL "
    "RETURN DISTINCT p.embedding_model AS model LIMIT 10"
)
ATTRIBUTE_TYPES: tuple[str, ...] = tuple(
    t for t in BOOSTED_TYPES if t not in (T.ENTITY_BRAND, T.ENTITY_CATEGORY)
)


@dataclass(frozen=True)
class ProductCard:
    """What a search result shows of a product, and the facts its boosts used."""

    product_id: str
    title: str | None
    brand: str | None
    category_path: str | None
    price: float | None
    currency: str | None
    facts: ProductFacts


def _hits(records: Sequence[Any]) -> list[Hit]:
    return [
        Hit(str(record["product_id"]), rank, float(record["score"]))
        for rank, record in enumerate(records, start=1)
    ]


def vector_candidates(
    driver: Driver, database: str, vector: np.ndarray, k: int, pool: Sequence[str] | None = None
) -> list[Hit]:
    """The k active products nearest the query vector: from the vector index, or by exact cosine within
    a pool of product ids when one is given."""
    parameters: dict[str, Any] = {"k": k, "vector": [float(x) for x in vector]}
    if pool is None:
        query = VECTOR_QUERY
        parameters["index"] = VECTOR_INDEX
    else:
        query = VECTOR_POOL_QUERY
        parameters["ids"] = list(pool)
    records, _, _ = driver.execute_query(query, parameters, database_=database)
    return _hits(records)


def fulltext_candidates(
    driver: Driver, database: str, lucene_query: str, k: int, pool: Sequence[str] | None = None
) -> list[Hit]:
    """The k best active products for an already escaped Lucene query over title and description (BM25),
    optionally only those in a pool of product ids."""
    parameters: dict[str, Any] = {"index": FULLTEXT_INDEX, "query": lucene_query, "k": k}
    query = FULLTEXT_QUERY
    if pool is not None:
        query = FULLTEXT_POOL_QUERY
        parameters["ids"] = list(pool)
    records, _, _ = driver.execute_query(query, parameters, database_=database)
    return _hits(records)


def category_values(category_path: str | None) -> tuple[str, ...]:
    """A product's category path and every ancestor path, so a query for a department matches too."""
    if not category_path:
        return ()
    parts = [part.strip() for part in category_path.split(CATEGORY_SEPARATOR.strip())]
    return tuple(CATEGORY_SEPARATOR.join(parts[: depth + 1]) for depth in range(len(parts)))


def product_cards(driver: Driver, database: str, product_ids: Sequence[str]) -> dict[str, ProductCard]:
    """Title, brand, category, price, the boosted attribute values and quality_score of each product."""
    if not product_ids:
        return {}
    records, _, _ = driver.execute_query(
        FACTS_QUERY,
        {"ids": list(dict.fromkeys(product_ids)), "types": list(ATTRIBUTE_TYPES)},
        database_=database,
    )
    cards = {}
    for record in records:
        values: dict[str, list[str]] = {}
        for entity_type, value in record["attributes"]:
            if entity_type is not None and value is not None:
                values.setdefault(str(entity_type), []).append(str(value))
        if record["brand"] is not None:
            values.setdefault(T.ENTITY_BRAND, []).append(str(record["brand"]))
        values[T.ENTITY_CATEGORY] = list(category_values(record["category_path"]))
        quality = record["quality_score"]
        facts = ProductFacts(
            {key: tuple(sorted(set(found))) for key, found in values.items()},
            float(quality) if quality is not None else None,
        )
        price = record["price"]
        cards[str(record["product_id"])] = ProductCard(
            str(record["product_id"]),
            record["title"],
            record["brand"],
            record["category_path"],
            float(price) if price is not None else None,
            record["currency"],
            facts,
        )
    return cards


def catalog_vocabulary(driver: Driver, database: str) -> dict[str, list[str]]:
    """Known values per entity type in the graph: brand names, category paths, attribute values."""
    vocabulary: dict[str, list[str]] = {}
    for entity_type, query in VOCABULARY_QUERIES:
        records, _, _ = driver.execute_query(query, database_=database)
        vocabulary[entity_type] = [str(r["value"]) for r in records if r["value"] is not None]
    for entity_type in ATTRIBUTE_TYPES:
        records, _, _ = driver.execute_query(
            ATTRIBUTE_VOCABULARY_QUERY, {"type": entity_type}, database_=database
        )
        vocabulary[entity_type] = [str(r["value"]) for r in records if r["value"] is not None]
    return vocabulary


def embedding_models(driver: Driver, database: str) -> list[str]:
    """The model versions of the product vectors in the graph (normally one)."""
    records, _, _ = driver.execute_query(EMBEDDING_MODELS_QUERY, database_=database)
    return sorted(str(r["model"]) for r in records)


class VocabularyMatcher:
    """Query entities by the catalog vocabulary: the graph's brands, categories and attribute values (and
    their synonyms) found as whole words in the query, as the NER weak labeller finds them in products."""

    source = "vocabulary"

    def __init__(self, vocabulary: Mapping[str, Sequence[str]], synonyms: Synonyms) -> None:
        self._candidates = product_candidates(vocabulary, synonyms)

    def __call__(self, query: str) -> list[QueryEntity]:
        return [QueryEntity(m.type, m.canonical, self.source) for m in label_text(query, self._candidates)]
