"""Unit tests of search maths: query cleaning and Lucene escaping, rank fusion and boosts, metrics."""

from __future__ import annotations

import math
import random

import pytest

from shopgraph.domain.search.fusion import (
    BM25,
    DENSE,
    FusionConfig,
    Hit,
    ProductFacts,
    QueryEntity,
    facts_to_fetch,
    fuse,
    matched_entities,
    quality_factor,
    rrf_scores,
)
from shopgraph.domain.search.metrics import (
    dcg,
    gains_from_labels,
    mean_metrics,
    ndcg_at_k,
    query_metrics,
    recall_at_k,
    reciprocal_rank,
)
from shopgraph.domain.search.query import QueryError, clean_query, escape_lucene, has_searchable_text


def test_clean_query_normalises_and_refuses_empty_or_long() -> None:
    assert clean_query("  red\tlinen\x00 dress \n", 50) == "red linen dress"
    assert clean_query("ｒｅｄ", 50) == "red"  # full-width letters fold to ASCII (NFKC)
    assert clean_query("красное платье", 50) == "красное платье"
    with pytest.raises(QueryError, match="empty"):
        clean_query(" \n\t ", 50)
    with pytest.raises(QueryError, match="501 characters, more than the limit of 500"):
        clean_query("a" * 501, 500)


def test_escape_lucene_neutralises_syntax() -> None:
    assert escape_lucene('title:"red" AND (dress*)~2') == 'title\\:\\"red\\" and \\(dress\\*\\)\\~2'
    assert escape_lucene("a && b || !c / d\\") == "a \\&\\& b \\|\\| \\!c \\/ d\\\\"
    assert escape_lucene("NOT TO or") == "not to or"
    assert has_searchable_text("靴") and has_searchable_text("42")
    assert not has_searchable_text("?!* -- ✨")


def test_rrf_by_hand() -> None:
    scores = rrf_scores({BM25: ["a", "b", "c"], DENSE: ["b", "d", "b"]}, {BM25: 1.0, DENSE: 2.0}, k=1)
    # a: 1/(1+1); b: 1/(1+2) + 2/(1+1); c: 1/(1+3); d: 2/(1+2); the repeated b counts once, at rank 1.
    assert scores == pytest.approx({"a": 0.5, "b": 1 / 3 + 1.0, "c": 0.25, "d": 2 / 3})
    assert rrf_scores({"x": ["a"]}, {}, k=60) == pytest.approx({"a": 1 / 61})


def test_fuse_boosts_entities_and_quality_and_explains() -> None:
    hits = {
        BM25: [Hit("p1", 1, 9.0), Hit("p2", 2, 8.0)],
        DENSE: [Hit("p2", 1, 0.9), Hit("p3", 2, 0.8)],
    }
    facts = {
        "p1": ProductFacts({"brand": ("Acme",), "colour": ("Navy Blue",)}, quality_score=5.0),
        "p2": ProductFacts({"brand": ("Other",)}, quality_score=1.0),
        "p3": ProductFacts({"category": ("Clothing", "Clothing > Women > Dresses")}),
    }
    entities = [
        QueryEntity("brand", "acme"),
        QueryEntity("colour", "navy-blue"),
        QueryEntity("category", "Dresses"),
    ]
    config = FusionConfig(k=0, entity_boost=0.5, quality_boost=0.2)
    ranked = fuse(hits, facts, entities, config, limit=10)
    scores = {r.product_id: r.score for r in ranked}
    # p1: 1/1 x (1 + 0.5 x 2) x (1 + 0.2 x 0.5) = 2.2; p2: (1/2 + 1/1) x 1 x (1 - 0.1) = 1.35;
    # p3: 1/2 x (1 + 0.5) = 0.75 (unknown quality: factor 1).
    assert scores == pytest.approx({"p1": 2.2, "p2": 1.35, "p3": 0.75})
    assert [r.product_id for r in ranked] == ["p1", "p2", "p3"]
    first = ranked[0]
    assert first.ranks == {BM25: 1}
    assert [e.type for e in first.matched] == ["brand", "colour"]
    assert first.reasons == (
        "keywords: BM25 rank 1 (score 9.00)",
        "brand 'acme' from the query",
        "colour 'navy-blue' from the query",
        "review quality 5.00/5",
    )
    assert "category 'Dresses' from the query" in ranked[2].reasons
    assert fuse(hits, facts, entities, config, limit=1) == ranked[:1]


def test_matching_and_quality_factor_edges() -> None:
    facts = ProductFacts({"colour": ("Off-White",)})
    assert matched_entities([QueryEntity("colour", "off white")], facts)
    assert not matched_entities([QueryEntity("material", "off white")], facts)
    assert matched_entities([QueryEntity("colour", "white")], None) == ()
    assert quality_factor(None, 0.5) == 1.0
    assert quality_factor(3.0, 0.5) == pytest.approx(1.0)
    assert quality_factor(9.0, 0.5) == pytest.approx(1.25)  # clipped to 5
    with pytest.raises(ValueError):
        FusionConfig(k=-1)


def test_ndcg_by_hand() -> None:
    gains = {"a": 3.0, "b": 2.0, "c": 0.0, "d": 1.0}
    ranked = ["c", "a", "x", "b"]
    dcg_value = 0 / math.log2(2) + 3 / math.log2(3) + 0 / math.log2(4) + 2 / math.log2(5)
    ideal = 3 / math.log2(2) + 2 / math.log2(3) + 1 / math.log2(4)
    assert dcg([3, 2, 1]) == pytest.approx(ideal)
    assert ndcg_at_k(ranked, gains, 10) == pytest.approx(dcg_value / ideal)
    assert ndcg_at_k(["a", "b", "d"], gains, 10) == pytest.approx(1.0)
    # Cut at k=1: only the first position counts, against the best single gain.
    assert ndcg_at_k(ranked, gains, 1) == pytest.approx(0.0)
    assert ndcg_at_k(["a", "a", "b"], {"a": 1.0, "b": 1.0}, 2) == pytest.approx(1.0)
    assert ndcg_at_k(ranked, {"a": 0.0}, 10) is None


def test_mrr_recall_and_labels_by_hand() -> None:
    assert reciprocal_rank(["x", "y", "a"], {"a", "b"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x"], {"a"}) == 0.0
    assert reciprocal_rank(["x"], set()) is None
    assert recall_at_k(["a", "x", "b"], {"a", "b", "c", "d"}, 2) == pytest.approx(0.25)
    assert recall_at_k(["a", "x", "b"], {"a", "b", "c", "d"}, 100) == pytest.approx(0.5)
    assert gains_from_labels({"a": 4, "b": 1, "c": 2}, offset=1) == {"a": 3.0, "b": 0.0, "c": 1.0}
    first = query_metrics("q1", ["b", "a"], {"a": 2.0, "b": 0.0}, ndcg_k=10, recall_k=1)
    assert first.mrr == pytest.approx(0.5) and first.recall == 0.0
    assert first.ndcg == pytest.approx((2 / math.log2(3)) / 2)
    second = query_metrics("q2", ["a"], {"a": 1.0}, ndcg_k=10, recall_k=1)
    empty = query_metrics("q3", ["a"], {"a": 0.0})
    means = mean_metrics([first, second, empty])
    assert means["mrr"] == pytest.approx(0.75)
    assert means["recall"] == pytest.approx(0.5)
    assert means["queries"] == 2.0


@pytest.mark.parametrize("seed", range(40))
def test_lazily_read_facts_give_the_same_top_k_as_all_facts(seed: int) -> None:
    """facts_to_fetch stops reading facts early, yet fuse() ranks exactly as with every product's facts."""
    rng = random.Random(seed)
    products = [f"p{n:03d}" for n in range(120)]
    hits = {
        name: [Hit(pid, rank, 1.0 / rank) for rank, pid in enumerate(rng.sample(products, 80), start=1)]
        for name in (BM25, DENSE)
    }
    colours = ["red", "blue", "teal"]
    every = {
        pid: ProductFacts({"colour": (rng.choice(colours),)}, rng.choice([None, 1.0, 2.5, 3.7, 5.0]))
        for pid in products
        if rng.random() > 0.05  # some candidates have no facts at all (not in the graph)
    }
    entities = [QueryEntity("colour", rng.choice(colours))] if seed % 2 else []
    config = FusionConfig(1.0, rng.choice([0.5, 1.0, 2.0]), 60, rng.choice([0.25, 1.0]), 0.2)
    k = rng.choice([1, 5, 10])
    facts: dict[str, ProductFacts] = {}
    fetched: set[str] = set()
    reads = 0
    while wanted := facts_to_fetch(hits, facts, fetched, entities, config, k, batch=20):
        facts |= {pid: every[pid] for pid in wanted if pid in every}
        fetched |= set(wanted)
        reads += 1
    assert fuse(hits, facts, entities, config, k) == fuse(hits, every, entities, config, k)
    assert reads >= 1 and (len(fetched) < len(every) or reads * 20 >= len(every))
