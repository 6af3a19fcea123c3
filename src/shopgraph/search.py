"""Hybrid product search: the library API (`hybrid_search`, `open_search`) and search evaluation.

A query is cleaned and checked, embedded with the product encoder and searched in the Neo4j vector index
(dense) and the fulltext index (BM25); the two rankings are fused by weighted reciprocal rank fusion and
boosted where the product carries entities found in the query and by its review-mined quality. Query
entities come from the NER champion (models:/shopgraph-ner@champion) when one is registered and loads,
otherwise from the catalog vocabulary in the graph (documented fallback; see docs/search.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from neo4j import Driver
from neo4j.exceptions import ClientError

from shopgraph.adapters.graph_schema import vector_index_dimension
from shopgraph.adapters.search_index import (
    ProductCard,
    VocabularyMatcher,
    catalog_vocabulary,
    embedding_models,
    fulltext_candidates,
    product_cards,
    vector_candidates,
)
from shopgraph.domain.search.fusion import (
    BM25,
    BOOSTED_TYPES,
    DENSE,
    HYBRID,
    MODES,
    FusionConfig,
    Hit,
    QueryEntity,
    Ranked,
    facts_to_fetch,
    fuse,
)
from shopgraph.domain.search.metrics import NDCG_K, RECALL_K, QueryMetrics, mean_metrics, query_metrics
from shopgraph.domain.search.query import QueryError, clean_query, escape_lucene, has_searchable_text
from shopgraph.errors import ShopgraphError
from shopgraph.schemas import landing as L
from shopgraph.settings import Settings

log = logging.getLogger(__name__)

MAX_RESULTS = 1000
ENTITY_MODES: tuple[str, ...] = ("auto", "ner", "vocabulary", "none")
POOLS: tuple[str, ...] = ("catalog", "judged")
Extractor = Callable[[str], list[QueryEntity]]
Embedder = Callable[[Sequence[str]], np.ndarray]


class SearchError(ShopgraphError):
    """A search could not run: bad mode or size, unusable index, or no model for query entities."""


@dataclass(frozen=True)
class SearchResult:
    """One result: its rank, product, final score, review quality and why it matched."""

    rank: int
    product_id: str
    title: str | None
    brand: str | None
    category_path: str | None
    price: float | None
    currency: str | None
    score: float
    quality_score: float | None
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "product_id": self.product_id,
            "title": self.title,
            "brand": self.brand,
            "category_path": self.category_path,
            "price": self.price,
            "currency": self.currency,
            "score": round(self.score, 6),
            "quality_score": self.quality_score,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class SearchResponse:
    """The results of one query, the entities found in it (and by what), and notes on what was skipped."""

    query: str
    mode: str
    results: list[SearchResult]
    entities: list[QueryEntity] = field(default_factory=list)
    entity_source: str = "none"
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "mode": self.mode,
            "entity_source": self.entity_source,
            "entities": [{"type": e.type, "value": e.value, "source": e.source} for e in self.entities],
            "notes": self.notes,
            "results": [result.to_json() for result in self.results],
        }


FACTS_BATCH = 30  # product facts read per round trip while ranking (at least 2 x k)


class SearchEngine:
    """Searches one graph with a query embedder and an optional entity extractor; reusable across queries."""

    def __init__(
        self,
        driver: Driver,
        database: str,
        *,
        embed: Embedder,
        extract: Extractor | None,
        entity_source: str,
        config: FusionConfig,
        candidates: int,
        max_query_chars: int,
        notes: Sequence[str] = (),
    ) -> None:
        self.driver = driver
        self.database = database
        self.embed = embed
        self.extract = extract
        self.entity_source = entity_source if extract is not None else "none"
        self.config = config
        self.candidates = candidates
        self.max_query_chars = max_query_chars
        self.notes = list(notes)
        # The two retrievers of a hybrid query run side by side (each waits mostly on Neo4j or torch).
        self._workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="search")

    def close(self) -> None:
        self._workers.shutdown(wait=False, cancel_futures=True)

    def search(
        self,
        query: str,
        k: int = 10,
        mode: str = HYBRID,
        *,
        pool: Sequence[str] | None = None,
        vector: np.ndarray | None = None,
    ) -> SearchResponse:
        """The top k products for a query; pool limits the search to those product ids.

        Raises QueryError for an empty or too long query and SearchError for a bad mode or k; a query
        without a letter or digit gives no results and says so.
        """
        check_request(mode, k)
        text = clean_query(query, self.max_query_chars)
        notes = list(self.notes)
        if not has_searchable_text(text):
            notes.append("the query has no letter or digit to search for")
            return SearchResponse(text, mode, [], [], self.entity_source, notes)
        hits = self.retrieve(text, mode, max(k, self.candidates), pool, vector)
        entities = self.entities(text) if mode == HYBRID else []
        return self.rank(text, mode, hits, entities, k, notes)

    def entities(self, text: str) -> list[QueryEntity]:
        """The boostable entities in a query (deduplicated, in the order found)."""
        if self.extract is None:
            return []
        found = [e for e in self.extract(text) if e.type in BOOSTED_TYPES]
        return list(dict.fromkeys(found))

    def retrieve(
        self,
        text: str,
        mode: str,
        limit: int,
        pool: Sequence[str] | None = None,
        vector: np.ndarray | None = None,
    ) -> dict[str, list[Hit]]:
        """Candidates of the retrievers a mode needs: BM25 from the fulltext index, dense from the vectors
        (the two side by side)."""
        bm25 = self._workers.submit(self._bm25, text, limit, pool) if mode in (HYBRID, BM25) else None
        hits: dict[str, list[Hit]] = {}
        if mode in (HYBRID, DENSE):
            hits[DENSE] = self._dense(text, limit, pool, vector)
        if bm25 is not None:
            hits[BM25] = bm25.result()
        return {name: hits[name] for name in (BM25, DENSE) if name in hits}

    def _bm25(self, text: str, limit: int, pool: Sequence[str] | None) -> list[Hit]:
        return fulltext_candidates(self.driver, self.database, escape_lucene(text), limit, pool)

    def _dense(
        self, text: str, limit: int, pool: Sequence[str] | None, vector: np.ndarray | None
    ) -> list[Hit]:
        query_vector = vector if vector is not None else self.embed([text])[0]
        try:
            return vector_candidates(self.driver, self.database, query_vector, limit, pool)
        except ClientError as exc:
            raise SearchError(
                f"vector search failed ({exc.message}); is the graph loaded with embeddings of the "
                "configured embedding.model? Run `shopgraph graph schema` and `shopgraph graph load`"
            ) from exc

    def rank(
        self,
        text: str,
        mode: str,
        hits: Mapping[str, Sequence[Hit]],
        entities: Sequence[QueryEntity],
        k: int,
        notes: Sequence[str] = (),
    ) -> SearchResponse:
        """Fuse (hybrid) or keep (bm25, dense) the rankings of one mode and describe the top k.

        Product facts are read in batches, best candidates first, only until no other candidate could
        reach the top k (facts_to_fetch): the same results as reading them all, in fewer reads.
        """
        config = self.config if mode == HYBRID else replace(self.config, entity_boost=0.0, quality_boost=0.0)
        chosen = {name: list(found) for name, found in hits.items() if mode == HYBRID or name == mode}
        cards: dict[str, ProductCard] = {}
        fetched: set[str] = set()
        batch = max(2 * k, FACTS_BATCH)
        while wanted := facts_to_fetch(
            chosen, {pid: card.facts for pid, card in cards.items()}, fetched, entities, config, k, batch
        ):
            cards.update(product_cards(self.driver, self.database, wanted))
            fetched.update(wanted)
        ranked = fuse(chosen, {pid: card.facts for pid, card in cards.items()}, entities, config, k)
        results = [
            _result(position, item, cards.get(item.product_id)) for position, item in enumerate(ranked, 1)
        ]
        return SearchResponse(text, mode, results, list(entities), self.entity_source, list(notes))


def _result(rank: int, item: Ranked, card: ProductCard | None) -> SearchResult:
    return SearchResult(
        rank=rank,
        product_id=item.product_id,
        title=card.title if card else None,
        brand=card.brand if card else None,
        category_path=card.category_path if card else None,
        price=card.price if card else None,
        currency=card.currency if card else None,
        score=item.score,
        quality_score=card.facts.quality_score if card else None,
        reasons=item.reasons,
    )


def check_request(mode: str, k: int) -> None:
    """SearchError for a mode other than hybrid, bm25, dense or a k outside 1..1000."""
    if mode not in MODES:
        raise SearchError(f"search mode must be one of {', '.join(MODES)}, got {mode!r}")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_RESULTS:
        raise SearchError(f"the number of results must be an integer in 1..{MAX_RESULTS}, got {k!r}")


def fusion_config(settings: Settings) -> FusionConfig:
    """The fusion weights and boosts of the `search:` settings."""
    s = settings.search
    return FusionConfig(s.bm25_weight, s.dense_weight, s.rrf_k, s.entity_boost, s.quality_boost)


# ---------------------------------------------------------------- wiring: encoder, entities, engine


def query_embedder(settings: Settings, driver: Driver) -> Embedder:
    """Embeds queries with the configured product encoder (loaded on first use), after checking that its
    width matches the vector index."""
    from shopgraph.adapters.encoder import EncoderSpec, load_encoder
    from shopgraph.embedding import embed_texts

    loaded: dict[str, Any] = {}

    def embed(texts: Sequence[str]) -> np.ndarray:
        if "encoder" not in loaded:
            spec = EncoderSpec(
                settings.embedding.model, settings.embedding.device, settings.embedding.max_length
            )
            encoder = load_encoder(spec)
            dimension = vector_index_dimension(driver, settings.neo4j.database)
            if dimension is not None and dimension != encoder.dimension:
                raise SearchError(
                    f"the vector index holds {dimension}-dimensional vectors but embedding.model "
                    f"{settings.embedding.model!r} makes {encoder.dimension}-dimensional ones: "
                    "embed and load the products with the same model"
                )
            stored = embedding_models(driver, settings.neo4j.database)
            if stored and encoder.model_version not in stored:
                log.warning(
                    "product vectors were made by %s, queries are embedded by %s",
                    ", ".join(stored),
                    encoder.model_version,
                )
            loaded["encoder"] = encoder
        vectors, _ = embed_texts(loaded["encoder"], list(texts), batch_size=settings.embedding.batch_size)
        return vectors

    return embed


def ner_extractor(settings: Settings, vocabulary: Mapping[str, Sequence[str]]) -> Extractor:
    """Query entities from the NER champion (or ner.model_uri), canonicalised with the catalog values."""
    from shopgraph.adapters.registry import alias_version, registry_client, tracking_store_problem
    from shopgraph.domain.ner.merge import canonical_lookup
    from shopgraph.ner.extract import default_model_uri, load_ner, query_entities
    from shopgraph.ner.io import read_synonyms

    ner = settings.ner
    tracking_uri = settings.mlflow.resolved_tracking_uri
    uri = default_model_uri(ner.registered_model, ner.champion_alias, ner.model_uri)
    if uri.startswith("models:/"):
        problem = tracking_store_problem(tracking_uri)
        if problem is None and "@" in uri:
            name, _, alias = uri.removeprefix("models:/").partition("@")
            if alias_version(registry_client(tracking_uri), name, alias) is None:
                problem = f"no {uri} registered at {tracking_uri}"
        if problem is not None:
            raise SearchError(problem)
    loaded = load_ner(uri, tracking_uri, ner.device)
    lookup = canonical_lookup(read_synonyms(ner.synonyms), vocabulary)

    def extract(query: str) -> list[QueryEntity]:
        found = query_entities(loaded, [query], lookup, ner.inference_batch_size)
        found = found.filter(pl.col("confidence") >= ner.min_confidence)
        return [QueryEntity(kind, value, "ner") for kind, value in found.select("type", "value").iter_rows()]

    return extract


def entity_extractor(
    settings: Settings, driver: Driver, mode: str
) -> tuple[Extractor | None, str, list[str]]:
    """The query entity extractor for a mode, its name and notes.

    auto: the NER champion when it is registered and loads, else the vocabulary matcher (the reason is
    noted); ner: the champion or a SearchError; vocabulary: the matcher; none: no entities, no boosts.
    """
    from shopgraph.ner.io import read_synonyms

    if mode not in ENTITY_MODES:
        raise SearchError(f"entities must be one of {', '.join(ENTITY_MODES)}, got {mode!r}")
    if mode == "none":
        return None, "none", []
    vocabulary = catalog_vocabulary(driver, settings.neo4j.database)
    notes: list[str] = []
    if mode in ("auto", "ner"):
        try:
            return ner_extractor(settings, vocabulary), "ner", []
        except Exception as exc:  # any failure to load the model falls back in auto mode, by design
            if mode == "ner":
                raise SearchError(f"the NER model for query entities could not be used: {exc}") from exc
            notes.append(f"NER champion not used ({exc}); query entities from the catalog vocabulary")
            log.info(notes[-1])
    return VocabularyMatcher(vocabulary, read_synonyms(settings.ner.synonyms)), "vocabulary", notes


@contextmanager
def open_search(settings: Settings, entities: str | None = None) -> Iterator[SearchEngine]:
    """A SearchEngine on the configured Neo4j with the configured encoder and entity extractor."""
    from shopgraph.adapters.graph_store import neo4j_driver

    with neo4j_driver(settings) as driver:
        extract, source, notes = entity_extractor(settings, driver, entities or settings.search.entities)
        engine = SearchEngine(
            driver,
            settings.neo4j.database,
            embed=query_embedder(settings, driver),
            extract=extract,
            entity_source=source,
            config=fusion_config(settings),
            candidates=settings.search.candidates,
            max_query_chars=settings.search.max_query_chars,
            notes=notes,
        )
        try:
            yield engine
        finally:
            engine.close()


def hybrid_search(
    query: str,
    k: int = 10,
    mode: str = HYBRID,
    *,
    settings: Settings | None = None,
    entities: str | None = None,
) -> SearchResponse:
    """Search the configured graph once (for many queries keep an `open_search` engine instead)."""
    from shopgraph.settings import load_settings

    resolved = settings or load_settings()
    with open_search(resolved, entities) as engine:
        return engine.search(query, k, mode)


# ---------------------------------------------------------------- evaluation on search judgments


@dataclass
class SearchEvaluation:
    """Mean metrics per mode, per-query metrics, and the queries left out (with why)."""

    means: dict[str, dict[str, float]]
    per_query: dict[str, list[QueryMetrics]]
    skipped: dict[str, str]
    pool: str


def judged_queries(judgments: pl.DataFrame) -> list[tuple[str, str, dict[str, float]]]:
    """(query_id, query, gains by product_id) per query; gain = relevance on the landing 0-3 scale, which
    is a CrowdFlower-style 1-4 label minus 1. Reads query_id, query, product_id, relevance."""
    grouped = (
        judgments.group_by(L.QUERY_ID)
        .agg(pl.col(L.QUERY).first(), pl.col(L.PRODUCT_ID), pl.col(L.RELEVANCE))
        .sort(L.QUERY_ID)
    )
    return [
        (query_id, query, {p: float(max(r, 0)) for p, r in zip(products, relevance, strict=True)})
        for query_id, query, products, relevance in grouped.iter_rows()
    ]


def evaluate_search(
    engine: SearchEngine,
    judgments: pl.DataFrame,
    *,
    pool: str = "catalog",
    modes: Sequence[str] = (BM25, DENSE, HYBRID),
    ndcg_k: int = NDCG_K,
    recall_k: int = RECALL_K,
    progress: Callable[[int, int], None] | None = None,
) -> SearchEvaluation:
    """NDCG@ndcg_k, MRR and Recall@recall_k of each mode over the judged queries.

    pool 'catalog' searches every product (unjudged results gain 0); 'judged' ranks only each query's
    judged products (the usual protocol for CrowdFlower-style judgments). Every mode ranks the same
    retrieved candidates, so the comparison is like for like.
    """
    if pool not in POOLS:
        raise SearchError(f"pool must be one of {', '.join(POOLS)}, got {pool!r}")
    queries = judged_queries(judgments)
    cleaned: list[tuple[str, str, dict[str, float]]] = []
    skipped: dict[str, str] = {}
    for query_id, query, gains in queries:
        try:
            text = clean_query(query, engine.max_query_chars)
        except QueryError as exc:
            skipped[query_id] = str(exc)
            continue
        cleaned.append((query_id, text, gains))
    vectors = engine.embed([text for _, text, _ in cleaned]) if cleaned else np.zeros((0, 1))
    per_query: dict[str, list[QueryMetrics]] = {mode: [] for mode in modes}
    limit = max(recall_k, ndcg_k, engine.candidates)
    for done, ((query_id, text, gains), vector) in enumerate(zip(cleaned, vectors, strict=True), start=1):
        judged = sorted(gains) if pool == "judged" else None
        hits = engine.retrieve(text, HYBRID, len(judged) if judged else limit, judged, vector)
        entities = engine.entities(text) if HYBRID in modes else []
        for mode in modes:
            response = engine.rank(text, mode, hits, entities if mode == HYBRID else [], limit)
            ranked = [result.product_id for result in response.results]
            per_query[mode].append(query_metrics(query_id, ranked, gains, ndcg_k=ndcg_k, recall_k=recall_k))
        if progress is not None:
            progress(done, len(cleaned))
    means = {mode: mean_metrics(values) for mode, values in per_query.items()}
    return SearchEvaluation(means, per_query, skipped, pool)


def log_evaluation(
    evaluation: SearchEvaluation,
    tracking_uri: str,
    experiment: str,
    params: Mapping[str, str | int | float],
    *,
    ndcg_k: int = NDCG_K,
    recall_k: int = RECALL_K,
) -> dict[str, str]:
    """One MLflow run per mode in one experiment (run name = mode), same params and an evaluation tag,
    so the modes compare side by side; returns run id by mode."""
    import uuid

    from shopgraph.adapters.tracking import log_run

    evaluation_id = uuid.uuid4().hex[:12]
    runs = {}
    for mode, means in evaluation.means.items():
        runs[mode] = log_run(
            tracking_uri,
            experiment,
            run_name=mode,
            params={**params, "mode": mode, "pool": evaluation.pool},
            metrics={
                f"ndcg_at_{ndcg_k}": means["ndcg"],
                "mrr": means["mrr"],
                f"recall_at_{recall_k}": means["recall"],
                "queries": means["queries"],
                "skipped_queries": float(len(evaluation.skipped)),
            },
            tags={"evaluation_id": evaluation_id, "stage": "search-evaluation"},
        )
    return runs


def read_judgments(lake: str, path: str | None = None) -> pl.DataFrame:
    """Search judgments from a local Parquet file or folder, else every curated/search_judgments
    partition of the lake; SearchError when there are none."""
    from shopgraph.adapters.lake import read_parts
    from shopgraph.quality import curated_fact_files

    if path:
        given = Path(path)
        files = sorted(given.rglob("*.parquet")) if given.is_dir() else ([given] if given.is_file() else [])
        if not files:
            raise SearchError(f"{path}: no search judgments (Parquet) found")
        frame = pl.concat([pl.read_parquet(file) for file in files], how="vertical_relaxed")
    else:
        found = read_parts(curated_fact_files(lake, L.SEARCH_JUDGMENTS))
        if found is None:
            raise SearchError(
                f"no curated search judgments in {lake}: run `shopgraph ingest` or pass --judgments"
            )
        frame = found
    missing = {L.QUERY_ID, L.QUERY, L.PRODUCT_ID, L.RELEVANCE} - set(frame.columns)
    if missing:
        raise SearchError(f"search judgments lack columns: {', '.join(sorted(missing))}")
    return frame
