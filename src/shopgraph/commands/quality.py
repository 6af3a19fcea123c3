"""`shopgraph quality`: review-mined product quality scores and complaint issues into the graph."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from shopgraph.commands.common import cli_settings, out


def register(app: typer.Typer) -> None:
    """Add the `quality` command."""

    @app.command("quality")
    def quality(
        write: Annotated[
            bool, typer.Option("--write/--dry-run", help="Write to Neo4j, or only report.")
        ] = True,
    ) -> None:
        """Score products from their reviews (Bayesian average towards the category mean), find complaint
        themes in review sentences, write Product.quality_score and HAS_ISSUE edges; evaluate on the
        generator's hidden defective products when the lake has them."""
        from shopgraph.quality import run_quality

        report = run_quality(cli_settings(), write=write)
        out.print_json(json.dumps(report))
