"""`shopgraph embed`: bring the product and query embeddings in the lake up to date, with a progress bar."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import TaskID

from shopgraph.commands.common import console, out, progress_bar


def register(app: typer.Typer) -> None:
    """Add the `embed` command."""

    @app.command("embed")
    def embed(
        lake: Annotated[str | None, typer.Option(help="Lake root; default from settings.")] = None,
        model: Annotated[
            str | None,
            typer.Option(help="Bundled encoder, hub id or local folder; default from settings."),
        ] = None,
        batch_size: Annotated[
            int | None, typer.Option(min=1, help="Texts per batch (halves on out-of-memory).")
        ] = None,
        queries: Annotated[bool, typer.Option(help="Also embed the distinct curated search queries.")] = True,
    ) -> None:
        """Embed new and changed curated products (and search queries); reuse stored vectors; drop
        tombstoned products and queries no longer there."""
        from shopgraph.adapters.encoder import EncoderSpec
        from shopgraph.embedding import update_product_embeddings, update_query_embeddings
        from shopgraph.settings import load_settings

        settings = load_settings()
        embedding = settings.embedding
        spec = EncoderSpec(
            model=model or embedding.model, device=embedding.device, max_length=embedding.max_length
        )
        root = lake or settings.lake_root
        updates = [("products", update_product_embeddings)]
        if queries:
            updates.append(("queries", update_query_embeddings))
        for kind, update in updates:
            with progress_bar() as progress:
                task_id = progress.add_task(f"embedding {kind}", total=None)

                def report_progress(done: int, total: int, task_id: TaskID = task_id) -> None:
                    progress.update(task_id, completed=done, total=total)

                report = update(
                    root, spec, batch_size=batch_size or embedding.batch_size, progress=report_progress
                )
            stats = report.stats
            if stats.halvings:
                console.print(f"out of memory: batch size halved {stats.halvings}x to {stats.batch_size}")
            out.print(
                f"{report.products} {kind} with {report.model_version}: {report.embedded} embedded "
                f"({report.new} new, {report.changed} changed), {report.reused} reused, "
                f"{report.dropped} dropped"
            )
            if stats.texts:
                out.print(
                    f"{stats.texts_per_s:.1f} texts/s, {stats.tokens_per_s:.0f} real tokens/s, "
                    f"{stats.fill_share:.1%} of padded slots real tokens"
                )
            out.print(f"{report.path}{'' if report.written else ' (unchanged)'}")
