"""Enrich-flow tasks that keep product and query embeddings current: embed new and changed texts only."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from shopgraph.adapters.encoder import EncoderSpec
from shopgraph.embedding import EmbeddingReport, update_product_embeddings, update_query_embeddings
from shopgraph.settings import load_settings
from tasks.limits import GPU
from tasks.retry import io_retries

# Retries cover lake IO; a device out-of-memory is handled inside by halving the batch size.
EMBED_RETRIES: dict[str, Any] = io_retries(2, 5.0)


def embedding_markdown(report: EmbeddingReport) -> str:
    """The run's counts and throughput as a markdown table."""
    stats = report.stats
    rows = [
        ("model version", f"`{report.model_version}`"),
        (f"live {report.kind}", report.products),
        ("embedded (new + changed)", f"{report.embedded} ({report.new} + {report.changed})"),
        ("reused", report.reused),
        ("dropped (tombstoned)", report.dropped),
        ("distinct texts embedded", stats.texts),
        ("texts/s", f"{stats.texts_per_s:.1f}"),
        ("real tokens/s", f"{stats.tokens_per_s:.0f}"),
        ("padded slots holding real tokens", f"{stats.fill_share:.1%}"),
        ("final batch size (halvings)", f"{stats.batch_size} ({stats.halvings})"),
        ("seconds", f"{report.seconds:.1f}"),
        ("output", f"`{report.path}`" + ("" if report.written else " (unchanged, not rewritten)")),
    ]
    lines = ["| | |", "| --- | --- |", *(f"| {name} | {value} |" for name, value in rows)]
    title = {"products": "Product", "queries": "Query"}.get(report.kind, report.kind)
    return "\n".join([f"# {title} embeddings", "", *lines])


@task(name="embed-products", tags=[GPU], **EMBED_RETRIES)
def embed_products(
    lake_root: str | None = None, model: str | None = None, batch_size: int | None = None
) -> dict[str, Any]:
    """Embed the curated products whose text or model changed; returns counts and the output path."""
    logger = get_run_logger()
    settings = load_settings()
    embedding = settings.embedding
    spec = EncoderSpec(
        model=model or embedding.model, device=embedding.device, max_length=embedding.max_length
    )
    report = update_product_embeddings(
        lake_root or settings.lake_root, spec, batch_size=batch_size or embedding.batch_size
    )
    logger.info(
        "embedded %d, reused %d, dropped %d products with %s (%.1f texts/s)",
        report.embedded,
        report.reused,
        report.dropped,
        report.model_version,
        report.stats.texts_per_s,
    )
    create_markdown_artifact(
        embedding_markdown(report),
        key="product-embeddings",
        description=f"{report.embedded} embedded, {report.reused} reused, {report.dropped} dropped",
    )
    return report.to_json()


@task(name="embed-queries", tags=[GPU], **EMBED_RETRIES)
def embed_queries(
    lake_root: str | None = None, model: str | None = None, batch_size: int | None = None
) -> dict[str, Any]:
    """Embed the distinct curated search queries not embedded yet (same code and model as products)."""
    settings = load_settings()
    embedding = settings.embedding
    spec = EncoderSpec(
        model=model or embedding.model, device=embedding.device, max_length=embedding.max_length
    )
    report = update_query_embeddings(
        lake_root or settings.lake_root, spec, batch_size=batch_size or embedding.batch_size
    )
    get_run_logger().info(
        "embedded %d, reused %d, dropped %d queries with %s",
        report.embedded,
        report.reused,
        report.dropped,
        report.model_version,
    )
    create_markdown_artifact(
        embedding_markdown(report),
        key="query-embeddings",
        description=f"{report.embedded} embedded, {report.reused} reused, {report.dropped} dropped",
    )
    return report.to_json()
