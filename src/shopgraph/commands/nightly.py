"""`shopgraph nightly --date D`: the scheduled run for one day, started by hand."""

from __future__ import annotations

from typing import Annotated

import typer

from shopgraph.commands.common import cli_settings, out, parse_date


def register(app: typer.Typer) -> None:
    """Add the `nightly` command."""

    @app.command("nightly")
    def nightly(
        day: Annotated[
            str, typer.Option("--date", help="Partition day YYYY-MM-DD; default: yesterday.")
        ] = "",
        force: Annotated[bool, typer.Option(help="Reprocess even when inputs did not change.")] = False,
        retrain: Annotated[
            bool, typer.Option(help="Train a challenger and apply the promotion policy.")
        ] = True,
        recommend: Annotated[bool, typer.Option(help="Write the champion's recommendations.")] = True,
    ) -> None:
        """Ingest, enrich, graph, quality, train a challenger, promote by policy, batch-recommend."""
        from flows.nightly import NightlyParams
        from flows.nightly import nightly as nightly_flow

        cli_settings()
        params = NightlyParams(
            date=parse_date(day, "--date") if day else None, force=force, retrain=retrain, recommend=recommend
        )
        result = nightly_flow(params)
        out.print(f"nightly {result.date}: data {'skipped (done)' if result.data.skipped else 'processed'}")
        if result.promotion:
            decision = "promoted" if result.promotion["promoted"] else "kept"
            out.print(f"challenger {decision}; champion is version {result.promotion['champion']}")
            for reason in result.promotion["reasons"]:
                out.print(f"  - {reason}")
        if result.recommendations:
            recs = result.recommendations
            out.print(f"{recs['rows']} recommendations for {recs['users']} users -> {recs['lake_path']}")
