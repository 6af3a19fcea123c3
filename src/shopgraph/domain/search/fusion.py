"""Reciprocal rank fusion of BM25 and dense rankings, entity and quality boosts, and per-result reasons."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from shopgraph.domain.ner.labels import category_leaf
from shopgraph.domain.ner.text import value_keys
from shopgraph.schemas import truth as T

BM25 = "bm25"
DENSE = "dense"
HYBRID = "hybrid"
MODES: tuple[str, ...] = (HYBRID, BM25, DENSE)
# Entity types a product can carry and a query can ask for, in the order reasons name them.
BOOSTED_TYPES: tuple[str, ...] = (
    T.ENTITY_BRAND,
    T.ENTITY_CATEGORY,
    T.ENTITY_COLOUR,
    T.ENTITY_MATERIAL,
    T.ENTITY_STYLE,
    T.ENTITY_SIZE,
)
RATING_LOW, RATING_HIGH = 1.0, 5.0


@dataclass(frozen=True)
class FusionConfig:
    """Weights of each ranking in the fusion, the RRF constant k, and the boost strengths.

    A product's score is sum(weight / (k + rank)) over the rankings that hold it, multiplied by
    (1 + entity_boost x matched entities) and by (1 + quality_boost x (quality on 0-1 - 0.5)).
    """

    bm25_weight: float = 1.0
    dense_weight: float = 1.0
    k: int = 60
    entity_boost: float = 0.25
    quality_boost: float = 0.2

    def __post_init__(self) -> None:
        if self.k < 0:
            raise ValueError(f"rrf k must be >= 0, got {self.k}")
        if min(self.bm25_weight, self.dense_weight, self.entity_boost, self.quality_boost) < 0:
            raise ValueError("fusion weights and boosts must be >= 0")


@dataclass(frozen=True)
class QueryEntity:
    """An entity found in a query: its type (brand, colour, ...) and canonical value, and who found it."""

    type: str
    value: str
    source: str = "vocabulary"


@dataclass(frozen=True)
class ProductFacts:
    """What the boosts look at: a product's values per entity type and its review-mined quality (1-5)."""

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    quality_score: float | None = None


@dataclass(frozen=True)
class Hit:
    """A candidate from one retriever: product id, 1-based rank and the retriever's own score."""

    product_id: str
    rank: int
    score: float


@dataclass(frozen=True)
class Ranked:
    """A fused result: final score, the fused score before boosts, matched entities and the reasons."""

    product_id: str
    score: float
    fused: float
    ranks: Mapping[str, int]
    matched: tuple[QueryEntity, ...]
    reasons: tuple[str, ...]


def rrf_scores(
    rankings: Mapping[str, Sequence[str]], weights: Mapping[str, float], k: int
) -> dict[str, float]:
    """Weighted reciprocal rank fusion: id -> sum over rankings of weight / (k + rank), rank from 1.

    A ranking missing from weights has weight 1; an id repeated within one ranking counts at its best rank.
    """
    scores: dict[str, float] = {}
    for name, ids in rankings.items():
        weight = weights.get(name, 1.0)
        seen: set[str] = set()
        for rank, product_id in enumerate(ids, start=1):
            if product_id in seen:
                continue
            seen.add(product_id)
            scores[product_id] = scores.get(product_id, 0.0) + weight / (k + rank)
    return scores


def _keys(entity_type: str, value: str) -> tuple[str, ...]:
    # Categories compare by their leaf ('Clothing > Women > Dresses' ~ 'Dresses'), the rest by word keys,
    # so 'Navy Blue', 'navy-blue' and 'navy blues' are the same value.
    return value_keys(category_leaf(value) if entity_type == T.ENTITY_CATEGORY else value)


def matched_entities(entities: Sequence[QueryEntity], facts: ProductFacts | None) -> tuple[QueryEntity, ...]:
    """The query entities the product carries (same type, same value ignoring case, accents, plurals)."""
    if facts is None:
        return ()
    matched = []
    for entity in entities:
        wanted = _keys(entity.type, entity.value)
        if wanted and any(_keys(entity.type, have) == wanted for have in facts.values.get(entity.type, ())):
            matched.append(entity)
    return tuple(matched)


def quality_factor(quality_score: float | None, strength: float) -> float:
    """1 + strength x (quality mapped from 1-5 onto 0-1, minus 0.5); 1 when the quality is unknown."""
    if quality_score is None or strength == 0:
        return 1.0
    share = (min(max(quality_score, RATING_LOW), RATING_HIGH) - RATING_LOW) / (RATING_HIGH - RATING_LOW)
    return 1.0 + strength * (share - 0.5)


def _reasons(
    ranks: Mapping[str, int],
    hits: Mapping[str, Hit],
    matched: Sequence[QueryEntity],
    facts: ProductFacts | None,
    quality_boost: float,
) -> tuple[str, ...]:
    reasons = []
    if BM25 in ranks:
        reasons.append(f"keywords: BM25 rank {ranks[BM25]} (score {hits[BM25].score:.2f})")
    if DENSE in ranks:
        reasons.append(f"meaning: vector rank {ranks[DENSE]} (cosine {hits[DENSE].score:.3f})")
    for entity in sorted(
        matched, key=lambda e: BOOSTED_TYPES.index(e.type) if e.type in BOOSTED_TYPES else 99
    ):
        reasons.append(f"{entity.type} {entity.value!r} from the query")
    if quality_boost and facts is not None and facts.quality_score is not None:
        reasons.append(f"review quality {facts.quality_score:.2f}/5")
    return tuple(reasons)


def boosted(
    base: float, matched: Sequence[QueryEntity], product: ProductFacts | None, config: FusionConfig
) -> float:
    """The fused score: base x (1 + entity_boost x matched entities) x the quality factor."""
    score = base * (1.0 + config.entity_boost * len(matched))
    return score * quality_factor(product.quality_score if product else None, config.quality_boost)


def max_boost(entities: Sequence[QueryEntity], config: FusionConfig) -> float:
    """The largest factor boosts can give a product: every query entity matched, top quality."""
    return (1.0 + config.entity_boost * len(entities)) * (1.0 + abs(config.quality_boost) * 0.5)


def facts_to_fetch(
    hits: Mapping[str, Sequence[Hit]],
    facts: Mapping[str, ProductFacts],
    fetched: Collection[str],
    entities: Sequence[QueryEntity],
    config: FusionConfig,
    limit: int,
    batch: int,
) -> list[str]:
    """The next products (up to batch, best fused base score first) whose facts could still change the
    top `limit` of fuse(); empty once it is final.

    It is final when no product outside `fetched`, even with every boost, can beat the limit-th boosted
    score among the fetched ones; a product without facts scores as unboosted, below that bound, so
    fuse() with the facts at hand gives exactly the top `limit` it would give with every product's facts.
    """
    weights = {BM25: config.bm25_weight, DENSE: config.dense_weight}
    fused = rrf_scores(
        {name: [h.product_id for h in found] for name, found in hits.items()}, weights, config.k
    )
    waiting = sorted(
        ((pid, base) for pid, base in fused.items() if pid not in fetched), key=lambda x: (-x[1], x[0])
    )
    if not waiting:
        return []
    scores = sorted(
        (
            boosted(base, matched_entities(entities, facts.get(pid)), facts.get(pid), config)
            for pid, base in fused.items()
            if pid in fetched
        ),
        reverse=True,
    )
    if len(scores) >= limit and waiting[0][1] * max_boost(entities, config) < scores[limit - 1]:
        return []
    return [pid for pid, _ in waiting[:batch]]


def fuse(
    hits: Mapping[str, Sequence[Hit]],
    facts: Mapping[str, ProductFacts],
    entities: Sequence[QueryEntity],
    config: FusionConfig,
    limit: int,
) -> list[Ranked]:
    """The top `limit` products of the fused rankings (hits by retriever name, each best first), boosted.

    Ties break on product id, so the same inputs always give the same order.
    """
    weights = {BM25: config.bm25_weight, DENSE: config.dense_weight}
    fused = rrf_scores(
        {name: [h.product_id for h in found] for name, found in hits.items()}, weights, config.k
    )
    by_product: dict[str, dict[str, Hit]] = {}
    for name, found in hits.items():
        for hit in found:
            by_product.setdefault(hit.product_id, {}).setdefault(name, hit)
    results = []
    for product_id, base in fused.items():
        own = by_product[product_id]
        product = facts.get(product_id)
        matched = matched_entities(entities, product)
        score = boosted(base, matched, product, config)
        ranks = {name: hit.rank for name, hit in own.items()}
        reasons = _reasons(ranks, own, matched, product, config.quality_boost)
        results.append(Ranked(product_id, score, base, ranks, matched, reasons))
    results.sort(key=lambda r: (-r.score, r.product_id))
    return results[:limit]
