"""Real data: the RecBole MovieLens-100k files load with their external Freebase knowledge graph."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from graph_inputs import DIMENSION, wipe_graph

from shopgraph.adapters.graph_export import export_graph
from shopgraph.adapters.graph_loader import DayInputs, LoadOptions, graph_counts, load_day
from shopgraph.adapters.graph_schema import apply_schema
from shopgraph.adapters.graph_store import neo4j_driver
from shopgraph.schemas import landing as L
from shopgraph.settings import REPO_ROOT, Settings

pytestmark = [pytest.mark.integration, pytest.mark.realdata, pytest.mark.slow]

DATASETS = Path(os.environ.get("SHOPGRAPH_DATASETS", REPO_ROOT.parent / "shared" / "datasets"))
ML = DATASETS / "ml-100k-kg"
STAMP = datetime(1998, 4, 23, tzinfo=UTC)


def _atomic(name: str) -> pl.DataFrame:
    """A RecBole atomic file with its typed header (`item_id:token`) reduced to plain names."""
    frame = pl.read_csv(ML / name, separator="\t", quote_char=None, infer_schema=False)
    return frame.rename({column: column.split(":")[0] for column in frame.columns})


def _inputs() -> DayInputs:
    items = _atomic("ml-100k.item")
    products = items.select(
        ("ml:" + pl.col("item_id")).alias(L.PRODUCT_ID),
        pl.col("movie_title").alias(L.TITLE),
        ("Movies > " + pl.col("class").str.split(" ").list.first()).alias(L.CATEGORY_PATH),
        pl.concat_list(
            pl.struct(pl.lit("release_year").alias("key"), pl.col("release_year").alias("value")),
        ).alias(L.ATTRIBUTES),
    ).with_columns(
        *(
            pl.lit(None, dtype=pl.String).alias(c)
            for c in (L.DESCRIPTION, L.BRAND, L.COLOUR, L.MATERIAL, L.SIZE, L.STYLE)
        ),
        pl.lit(None, dtype=pl.Float64).alias(L.PRICE),
        pl.lit("USD").alias(L.CURRENCY),
        pl.lit(False).alias(L.IS_DELETED),
        pl.lit(STAMP).alias(L.UPDATED_AT),
    )
    ratings = _atomic("ml-100k.inter")
    users = (
        ratings.select(("ml:" + pl.col("user_id")).alias(L.USER_ID))
        .unique()
        .with_columns(
            pl.lit(STAMP).alias(L.SIGNUP_AT),
            pl.lit("US").alias(L.COUNTRY),
            pl.lit(None, dtype=pl.String).alias(L.AGE_BAND),
            pl.lit("en").alias(L.LANGUAGE),
            pl.lit(False).alias(L.MARKETING_OPT_IN),
            pl.lit(False).alias(L.IS_DELETED),
            pl.lit(STAMP).alias(L.UPDATED_AT),
        )
    )
    events = ratings.select(
        ("ml:" + pl.col("user_id")).alias(L.USER_ID),
        ("ml:" + pl.col("item_id")).alias(L.PRODUCT_ID),
        pl.lit("rating").alias(L.EVENT_TYPE),
        pl.from_epoch(pl.col("timestamp").cast(pl.Float64).cast(pl.Int64), time_unit="s")
        .dt.replace_time_zone("UTC")
        .alias(L.TS),
        pl.col("rating").cast(pl.Float64).cast(pl.Int32).alias(L.RATING),
    )
    kg = _atomic("ml-100k.kg")
    triples = kg.select(
        pl.col("head_id").alias(L.HEAD_ENTITY),
        pl.col("relation_id").alias(L.RELATION),
        pl.col("tail_id").alias(L.TAIL_ENTITY),
    )
    links = _atomic("ml-100k.link").select(("ml:" + pl.col("item_id")).alias(L.PRODUCT_ID), L.ENTITY_ID)
    return DayInputs(
        day=date(1998, 4, 23), products=products, users=users, events=events, triples=triples, links=links
    )


@pytest.mark.skipif(not ML.exists(), reason=f"{ML} not present")
def test_movielens_loads_with_its_external_knowledge_graph(neo4j_settings: Settings, tmp_path: Path) -> None:
    inputs = _inputs()
    assert inputs.triples is not None and inputs.links is not None and inputs.events is not None
    with neo4j_driver(neo4j_settings) as driver:
        wipe_graph(driver)
        apply_schema(driver, "neo4j", DIMENSION)
        load_day(driver, "neo4j", inputs, LoadOptions(batch_size=5000))
        counts = graph_counts(driver, "neo4j")
        triples = inputs.triples.unique()
        entities = pl.concat(
            [
                triples.get_column(L.HEAD_ENTITY),
                triples.get_column(L.TAIL_ENTITY),
                inputs.links.get_column(L.ENTITY_ID),
            ]
        ).n_unique()
        pairs = inputs.events.select(L.USER_ID, L.PRODUCT_ID).unique().height
        assert counts["Product"] == 1682 and counts["User"] == 943
        assert counts["RATED"] == pairs
        assert counts["Entity"] == entities and counts["RELATED"] == triples.height
        assert counts["LINKED_TO"] == inputs.links.unique().height
        relation = driver.execute_query(
            "MATCH (:Entity)-[r:RELATED]->(:Entity) "
            "RETURN r.relation AS relation, count(*) AS n ORDER BY n DESC LIMIT 1"
        ).records[0]
        expected = triples.group_by(L.RELATION).len().sort("len", descending=True).row(0)
        assert (relation["relation"], relation["n"]) == expected
        snapshot = export_graph(driver, "neo4j", str(tmp_path / "lake"))
        assert snapshot.rows["kg_triples"] == triples.height
        assert snapshot.rows["interactions"] == pairs
        wipe_graph(driver)
