"""Batch recommendation with the champion: top-K per known user, to the lake and to the graph."""

from __future__ import annotations

import tempfile
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import mlflow
import polars as pl

from shopgraph.adapters.explanations import EXPLANATION_SCHEMA, explain_recommendations
from shopgraph.adapters.graph_store import neo4j_driver
from shopgraph.adapters.quality_store import failing_guardrail
from shopgraph.adapters.recommendations_store import graph_counts, write_graph, write_lake
from shopgraph.adapters.registry import alias_version, download_model, model_uri, registry_client
from shopgraph.errors import ShopgraphError
from shopgraph.recsys.pyfunc import RecommenderModel
from shopgraph.recsys.scorer import FactorScorer
from shopgraph.settings import Settings

CHAMPION = "champion"


class NoChampionError(ShopgraphError):
    """There is no champion recommender to recommend with."""


@dataclass(frozen=True)
class BatchResult:
    """What one batch wrote: the model version used, rows and users, and where."""

    model_version: str
    users: int
    rows: int
    lake_path: str
    graph_edges: int
    guardrail_blocked: int  # products the quality guardrail kept out of every list


def load_scorer(settings: Settings, alias: str = CHAMPION) -> tuple[FactorScorer, str]:
    """The scorer of models:/<registered_model>@<alias> loaded through MLflow's pyfunc, and its version."""
    uri = settings.mlflow.resolved_tracking_uri
    name = settings.recsys.registered_model
    version = alias_version(registry_client(uri), name, alias)
    if version is None:
        raise NoChampionError(
            f"{name}@{alias}: no such model version at {uri}; run `shopgraph train` and promote"
        )
    with tempfile.TemporaryDirectory(prefix="shopgraph-champion-") as work:
        # Explicit URIs, no global MLflow state: the download resolves the alias against `uri` only.
        local = download_model(model_uri(name, alias), uri, Path(work))
        model = mlflow.pyfunc.load_model(str(local))
        python_model = model.unwrap_python_model()
        if not isinstance(python_model, RecommenderModel):
            raise NoChampionError(f"{name}@{alias}: version {version.version} is not a shopgraph recommender")
        return python_model.scorer, str(version.version)


def recommend_batch(
    settings: Settings, day: date, k: int | None = None, to_graph: bool = True
) -> BatchResult:
    """Top-k (default recsys.top_k) unseen products per user the champion knows; replaces the last set.

    With the graph, products failing the review-quality guardrail (recsys.min_quality_score,
    recsys.max_issue_share) are left out of every list.
    """
    scorer, version = load_scorer(settings)
    k = k or settings.recsys.top_k
    database = settings.neo4j.database
    blocked: list[str] = []
    edges = 0
    explanations = pl.DataFrame(schema=EXPLANATION_SCHEMA)
    with neo4j_driver(settings) if to_graph else nullcontext() as driver:
        if driver is not None:
            recsys = settings.recsys
            blocked = failing_guardrail(driver, database, recsys.min_quality_score, recsys.max_issue_share)
        frame = scorer.recommend([str(user) for user in scorer.user_ids.tolist()], k, exclude=blocked)
        frame = frame.with_columns(pl.lit(version).alias("model_version"), pl.lit(day).alias("dt"))
        if driver is not None:
            write_graph(driver, database, frame, version, f"{day.isoformat()}:{version}", 500)
            explanations = explain_recommendations(
                driver, database, frame["user_id"].unique().sort().to_list()
            )
            edges = graph_counts(driver, database)["edges"]
    frame = frame.join(explanations, on=["user_id", "product_id"], how="left").with_columns(
        pl.col("explanations").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    )
    path = write_lake(settings.lake_root, frame, day)
    return BatchResult(version, frame["user_id"].n_unique(), frame.height, path, edges, len(blocked))
