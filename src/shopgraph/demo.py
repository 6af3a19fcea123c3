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
DEMO_RECSYS_EPOCHS = 15
STEPS = 9


def run_demo(settings: Settings, console: Console) -> None:
    """Bring the services up, generate the sample shop, run each flow, and print URLs and a summary."""
    from flows.enrich import EnrichParams, enrich
    from flows.graph import GraphParams, graph
    from flows.ingest import IngestParams, ingest
    from flows.promote import PromoteParams, promote
    from flows.quality import QualityParams, quality
    from flows.smoke import SmokeParams, smoke
    from flows.train import TrainParams, train
    from flows.train_ner import TrainNerParams, train_ner
    from shopgraph.generate import generate_shop
    from shopgraph.recsys.batch import recommend_batch
    from shopgraph.services.stack import services_up

    started = time.monotonic()
    console.rule(f"1/{STEPS} services")
    statuses = services_up(settings, report=lambda line: console.print(f"[dim]{line}[/]"))
    console.rule(f"2/{STEPS} sample shop")
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
    console.rule(f"3/{STEPS} smoke: every service answers")
    smoke_result = smoke(SmokeParams())
    console.rule(f"4/{STEPS} ingest: landing -> curated, with Great Expectations")
    first = date.fromisoformat(gen.start_date)
    last = first + timedelta(days=gen.days - 1)
    ingested = ingest(IngestParams(start=first.isoformat(), end=last.isoformat()))
    console.rule(f"5/{STEPS} train-ner: weak labels -> fine-tuned NER, registered in MLflow")
    ner_result = train_ner(TrainNerParams(max_products=DEMO_NER_PRODUCTS, epochs=DEMO_NER_EPOCHS))
    console.rule(f"6/{STEPS} enrich: embeddings and entities")
    enriched = enrich(EnrichParams())
    console.rule(f"7/{STEPS} graph: load Neo4j, similar products, review quality, export")
    graph_result = graph(GraphParams())
    quality_report = quality(QualityParams())
    console.rule(f"8/{STEPS} train: baselines and the KG-text graph model, side by side in MLflow")
    trained = train(TrainParams(model="all", epochs=DEMO_RECSYS_EPOCHS))
    console.rule(f"9/{STEPS} promote the challenger, recommend for every user with the champion")
    promoted = promote(PromoteParams(version=trained.version or "challenger"))
    batch = recommend_batch(settings, last)
    examples = demo_examples(settings, console) + demo_searches(settings, console)
    urls = {s.name: s.urls for s in statuses}
    lines = [
        f"Prefect UI     {settings.prefect.ui_url}  (flow runs, artifacts)",
        f"MLflow UI      {settings.mlflow.resolved_tracking_uri}  (NER and recommender runs, models)",
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
        f"quality: {quality_report['products']} products scored, "
        f"{quality_report['products_with_issue']} with a complaint issue",
        *[
            f"train {row['model']}: test recall@20 {row['recall@20']}, ndcg@20 {row['ndcg@20']}, "
            f"coverage {row['coverage@20']}"
            for row in trained.table
        ],
        f"promote: version {promoted.version} {promoted.decision.outcome}; "
        f"champion {promoted.champion_after}",
        f"recommend: {batch.rows} recommendations for {batch.users} users by version {batch.model_version}, "
        f"{batch.graph_edges} RECOMMENDED edges, {batch.guardrail_blocked} products held back by the "
        "quality guardrail",
        *examples,
        f"done in {time.monotonic() - started:.0f}s; stop the stack with `make services-down`",
    ]
    console.print(Panel("\n".join(lines), title="shopgraph demo", expand=False))


def demo_examples(settings: Settings, console: Console, users: int = 2, k: int = 3) -> list[str]:
    """A few users' top recommendations with the graph paths that explain them, printed and summarised."""
    from shopgraph.adapters.explanations import user_recommendations
    from shopgraph.adapters.graph_store import neo4j_driver
    from shopgraph.adapters.recommendations_store import read_current

    current = read_current(settings.lake_root)
    if current is None:
        return []
    lines = []
    with neo4j_driver(settings) as driver:
        for user in current["user_id"].unique().sort().head(users).to_list():
            rows = user_recommendations(driver, settings.neo4j.database, user, k)
            console.print(f"[bold]recommendations for {user}[/]")
            for row in rows:
                reasons = "; ".join(row["explanations"])  # type: ignore[arg-type]
                console.print(
                    f"  {row['rank']}. {row['title']} ({row['product_id']}): {reasons or 'similar shoppers'}"
                )
            lines.append(f"example: `shopgraph recommend {user}` shows {len(rows)} explained recommendations")
    return lines


DEMO_QUERIES = ("red cotton t-shirt", "waterproof hiking boots", "leather bag")


def demo_searches(settings: Settings, console: Console, k: int = 3) -> list[str]:
    """A few hybrid searches with the reasons each result matched, printed and summarised."""
    from shopgraph.search import open_search

    lines = []
    with open_search(settings) as engine:
        for query in DEMO_QUERIES:
            response = engine.search(query, k, "hybrid")
            console.print(f"[bold]search {query!r}[/] (entities from {response.entity_source})")
            for result in response.results:
                console.print(
                    f"  {result.rank}. {result.title} ({result.product_id}): {'; '.join(result.reasons)}"
                )
            lines.append(f'example: `shopgraph search "{query}"` -> {len(response.results)} results')
    return lines
