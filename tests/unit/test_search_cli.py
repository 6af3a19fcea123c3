"""Unit tests of the search and quality wiring that need no Neo4j: the vocabulary matcher, the themes file,
judgment reading, and the CLI refusing bad requests with one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from shopgraph.adapters.search_index import VocabularyMatcher, category_values
from shopgraph.quality import QualityError, read_themes
from shopgraph.schemas import landing as L
from shopgraph.search import SearchError, check_request, judged_queries, read_judgments

SHOPGRAPH = [sys.executable, "-m", "shopgraph.cli"]


def test_vocabulary_matcher_finds_canonical_values_and_synonyms() -> None:
    vocabulary = {
        "brand": ["Acme Outdoor"],
        "colour": ["navy", "red"],
        "category": ["Clothing > Women > Dresses"],
        "size": ["M"],
    }
    matcher = VocabularyMatcher(vocabulary, {"colour": {"navy": ["midnight blue"]}})
    found = {(e.type, e.value) for e in matcher("midnight blue acme outdoor dresses m")}
    # 'm' in lower case is no size: short values must match their case exactly.
    assert found == {
        ("colour", "navy"),
        ("brand", "Acme Outdoor"),
        ("category", "Clothing > Women > Dresses"),
    }
    assert matcher("Красное платье") == []
    assert category_values("A > B > C") == ("A", "A > B", "A > B > C")
    assert category_values(None) == ()


def test_read_themes_checks_the_file(tmp_path: Path) -> None:
    spec = read_themes("conf/quality/themes.yaml")
    assert {"defective", "wrong_size", "not_as_described", "poor_packaging", "late_delivery"} == set(
        spec.themes
    )
    assert spec.no_complaint
    bad = tmp_path / "themes.yaml"
    bad.write_text("themes:\n  defective: broken\n")
    with pytest.raises(QualityError, match="non-empty list"):
        read_themes(str(bad))
    with pytest.raises(QualityError, match="not found"):
        read_themes(str(tmp_path / "missing.yaml"))


def test_judgments_reading_and_grouping(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            L.QUERY_ID: ["q1", "q1", "q2"],
            L.QUERY: ["red dress", "red dress", "mug"],
            L.PRODUCT_ID: ["p1", "p2", "p3"],
            L.RELEVANCE: pl.Series([3, 0, 1], dtype=pl.Int32),
        }
    )
    (tmp_path / "j").mkdir()
    frame.write_parquet(tmp_path / "j" / "part-00000.parquet")
    read = read_judgments("unused", str(tmp_path / "j"))
    assert judged_queries(read) == [("q1", "red dress", {"p1": 3.0, "p2": 0.0}), ("q2", "mug", {"p3": 1.0})]
    with pytest.raises(SearchError, match="no search judgments"):
        read_judgments("unused", str(tmp_path / "nothing"))
    frame.drop(L.RELEVANCE).write_parquet(tmp_path / "bad.parquet")
    with pytest.raises(SearchError, match="relevance"):
        read_judgments("unused", str(tmp_path / "bad.parquet"))


def test_bad_requests_are_refused_before_any_connection(tmp_path: Path) -> None:
    with pytest.raises(SearchError, match="hybrid, bm25, dense"):
        check_request("fuzzy", 10)
    with pytest.raises(SearchError, match="1..1000"):
        check_request("bm25", 5000)
    env = {"PATH": "/usr/bin:/bin", "SHOPGRAPH_HOME": str(tmp_path)}
    result = subprocess.run(
        [*SHOPGRAPH, "search", "red dress", "--mode", "fuzzy"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "search mode must be one of" in result.stderr and "Traceback" not in result.stderr
    empty = subprocess.run([*SHOPGRAPH, "search", "  "], env=env, capture_output=True, text=True)
    assert empty.returncode == 1
    assert "the search query is empty" in empty.stderr and "Traceback" not in empty.stderr
