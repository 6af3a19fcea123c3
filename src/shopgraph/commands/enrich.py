"""The `shopgraph enrich` command: the enrich flow (embeddings, then entities with the champion NER model)."""

from __future__ import annotations

from typing import Annotated

import typer

from shopgraph.commands.common import cli_settings, out


def register(app: typer.Typer) -> None:
    """Add the `enrich` command."""

    @app.command("enrich")
    def enrich(
        lake: Annotated[str | None, typer.Option(help="Lake root; default from settings.")] = None,
        model: Annotated[str | None, typer.Option(help="Embedding model; default from settings.")] = None,
        ner_model: Annotated[
            str | None, typer.Option(help="NER model URI or folder; default: the champion in MLflow.")
        ] = None,
        queries: Annotated[bool, typer.Option(help="Also tag the search queries.")] = True,
    ) -> None:
        """Run the enrich flow: embed new and changed products, then extract and merge entities."""
        from flows.enrich import EnrichParams
        from flows.enrich import enrich as enrich_flow

        cli_settings()
        result = enrich_flow(
            EnrichParams(lake_root=lake, model=model, ner_model=ner_model, with_queries=queries)
        )
        out.print(result)
