"""`make demo`: start the stack, generate a shop, run the flows that exist, and say where to look."""

from __future__ import annotations

import time
from datetime import date, timedelta

from rich.console import Console
from rich.panel import Panel

from shopgraph.settings import Settings

# Sized so the whole demo stays well under ten minutes on two CPU cores.
DEMO_NER_PRODUCTS = 400
DEMO_NER_EPOCHS = 2


def run_demo(settings: Settings, console: Console) -> None:
    """Bring the services up, generate the sample shop, run each flow, and print URLs and a summary."""
    from flows.enrich import EnrichParams, enrich
    from flows.graph import GraphParams, graph
    from flows.ingest import IngestParams, ingest
    from flows.smoke import SmokeParams, smoke
    from flows.train_ner import TrainNerParams, train_ner
    from shopgraph.generate import generate_shop
    from shopgraph.services.stack import services_up

    started = time.monotonic()
    console.rule("1/7 services")
    statuses = services_up(settings, report=lambda line: console.print(f"[dim]{line}[/]"))
    console.rule("2/7 sample shop")
    gen = settings.generator
    summary = generate_shop(
        settings.lake_root,
        products=gen.products,
        users=gen.users,
        days=gen.days,
        start_date=date.fromisoformat(gen.start_date),
        seed=gen.seed,
        dirty=False,
    )
    console.print(summary)
    console.rule("3/7 smoke: every service answers")
    smoke_result = smoke(SmokeParams())
    console.rule("4/7 ingest: landing -> curated, with Great Expectations")
    first = date.fromisoformat(gen.start_date)
    last = first + timedelta(days=gen.days - 1)
    ingested = ingest(IngestParams(start=first.isoformat(), end=last.isoformat()))
    console.rule("5/7 train-ner: weak labels -> fine-tuned NER, registered in MLflow")
    ner_result = train_ner(TrainNerParams(max_products=DEMO_NER_PRODUCTS, epochs=DEMO_NER_EPOCHS))
    console.rule("6/7 enrich: embeddings and entities")
    enriched = enrich(EnrichParams())
    console.rule("7/7 graph: load Neo4j, similar products, export")
    graph_result = graph(GraphParams())
    urls = {s.name: s.urls for s in statuses}
    lines = [
        f"Prefect UI     {settings.prefect.ui_url}  (flow runs, artifacts)",
        f"MLflow UI      {settings.mlflow.resolved_tracking_uri}  (NER runs, model shopgraph-ner)",
        f"Neo4j Browser  {urls.get('neo4j', {}).get('browser', 'n/a')}  "
        f"(user {settings.neo4j.user}, password in {settings.home / 'neo4j' / 'password'})",
        f"Lake           {settings.lake_root}",
        f"Logs           {settings.logs_dir}",
        "",
        f"smoke: {smoke_result.rows} rows in {smoke_result.partition}",
        f"ingest: {len(ingested)} table partitions",
        f"train-ner: version {ner_result.version}, val F1 {ner_result.val_f1:.3f}, {ner_result.reason}",
        f"enrich: {enriched['embeddings'].get('embedded', 0)} embedded, "
        f"{enriched['embeddings'].get('reused', 0)} reused; "
        f"{enriched['entities'].entities} entities, {enriched['entities'].attributes} attributes",
        f"graph: {graph_result.nodes} nodes, {graph_result.relationships} relationships written",
        f"done in {time.monotonic() - started:.0f}s; stop the stack with `make services-down`",
    ]
    console.print(Panel("\n".join(lines), title="shopgraph demo", expand=False))
