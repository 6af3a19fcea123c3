"""`shopgraph search` and `shopgraph evaluate-search`: hybrid product search and its evaluation."""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer
from rich.table import Table

from shopgraph.commands.common import cli_settings, console, out, progress_bar

ModeOption = Annotated[str, typer.Option("--mode", help="hybrid (default), bm25 or dense.")]
EntitiesOption = Annotated[
    str | None,
    typer.Option(
        "--entities", help="Query entities: auto (NER champion, else vocabulary), ner, vocabulary, none."
    ),
]


def _quiet_neo4j_notices() -> None:
    # A graph without quality scores or attributes yet makes Neo4j warn about unknown keys on every query.
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)


def register(app: typer.Typer) -> None:
    """Add the `search` and `evaluate-search` commands."""

    @app.command("search")
    def search(
        query: Annotated[str, typer.Argument(help="What to look for, e.g. 'navy linen dress'.")],
        k: Annotated[int, typer.Option("--k", help="Number of results (1-1000).")] = 10,
        mode: ModeOption = "hybrid",
        entities: EntitiesOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the response as JSON.")] = False,
    ) -> None:
        """Search products: vector + fulltext candidates fused, boosted by query entities and quality."""
        from shopgraph.domain.search.query import clean_query
        from shopgraph.search import check_request, open_search

        check_request(mode, k)
        settings = cli_settings()
        clean_query(query, settings.search.max_query_chars)  # a bad query fails before any connection
        _quiet_neo4j_notices()
        with open_search(settings, entities) as engine:
            response = engine.search(query, k, mode)
        if as_json:
            out.print_json(json.dumps(response.to_json()))
            return
        for note in response.notes:
            console.print(f"note: {note}", soft_wrap=True)
        found = ", ".join(f"{e.type}={e.value}" for e in response.entities) or "none"
        console.print(f"query entities ({response.entity_source}): {found}", soft_wrap=True)
        if not response.results:
            out.print(f"no products found for {response.query!r}")
            return
        table = Table("#", "product", "title", "brand", "score", "why")
        for result in response.results:
            table.add_row(
                str(result.rank),
                result.product_id,
                result.title or "",
                result.brand or "",
                f"{result.score:.4f}",
                "; ".join(result.reasons),
            )
        out.print(table)

    @app.command("evaluate-search")
    def evaluate_search_command(
        judgments: Annotated[
            str | None,
            typer.Option(
                help="Parquet file or folder of search judgments; default: the lake's curated ones."
            ),
        ] = None,
        pool: Annotated[
            str,
            typer.Option(help="catalog: search every product; judged: rank each query's judged products."),
        ] = "catalog",
        entities: EntitiesOption = None,
        log_mlflow: Annotated[
            bool, typer.Option("--mlflow/--no-mlflow", help="Log one run per mode.")
        ] = True,
    ) -> None:
        """NDCG@10, MRR and Recall@100 of bm25, dense and hybrid on search judgments, logged to MLflow."""
        from shopgraph.search import evaluate_search, log_evaluation, open_search, read_judgments

        settings = cli_settings()
        frame = read_judgments(settings.lake_root, judgments)
        _quiet_neo4j_notices()
        with open_search(settings, entities) as engine, progress_bar() as progress:
            task_id = progress.add_task("evaluating queries", total=None)
            evaluation = evaluate_search(
                engine,
                frame,
                pool=pool,
                progress=lambda done, total: progress.update(task_id, completed=done, total=total),
            )
            source = engine.entity_source
        table = Table("mode", "NDCG@10", "MRR", "Recall@100", "queries")
        for mode, means in evaluation.means.items():
            table.add_row(
                mode,
                f"{means['ndcg']:.4f}",
                f"{means['mrr']:.4f}",
                f"{means['recall']:.4f}",
                f"{means['queries']:.0f}",
            )
        out.print(table)
        if evaluation.skipped:
            console.print(
                f"{len(evaluation.skipped)} queries skipped: {next(iter(evaluation.skipped.values()))}"
            )
        if log_mlflow:
            s = settings.search
            runs = log_evaluation(
                evaluation,
                settings.mlflow.resolved_tracking_uri,
                f"{settings.mlflow.experiment_prefix}-{s.experiment}",
                {
                    "candidates": s.candidates,
                    "rrf_k": s.rrf_k,
                    "bm25_weight": s.bm25_weight,
                    "dense_weight": s.dense_weight,
                    "entity_boost": s.entity_boost,
                    "quality_boost": s.quality_boost,
                    "entities": source,
                    "embedding_model": settings.embedding.model,
                    "judgments": judgments or "curated",
                },
            )
            out.print(
                f"MLflow runs: {', '.join(f'{mode} {run}' for mode, run in runs.items())}", soft_wrap=True
            )
