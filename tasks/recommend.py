"""Tasks of the nightly model steps: challenger, champion on the same split, promotion, batch recommend."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.context import TaskRunContext

from shopgraph.adapters.graph_export import latest_snapshot
from shopgraph.recsys.batch import recommend_batch
from shopgraph.recsys.champion import champion_metrics, decide_and_apply
from shopgraph.recsys.stage import SHOP_DATASET, experiment_name, lake_dataset, training_key
from shopgraph.recsys.train import metric_name, train_models
from shopgraph.settings import load_settings
from tasks.limits import GPU, NEO4J_WRITER
from tasks.retry import io_retries


def challenger_cache_key(_: TaskRunContext, __: dict[str, Any]) -> str:
    """The content of what the challenger is trained on (snapshot digest, vectors, settings, store)."""
    settings = load_settings()
    return "train-challenger-" + training_key(settings, [settings.recsys.main_model])


# A re-run or resumed nightly on unchanged inputs reuses the registered challenger instead of training it
# again: the result is persisted under a key made from the content of the inputs, not their names.
@task(
    name="train-challenger",
    tags=[GPU],
    cache_key_fn=challenger_cache_key,
    persist_result=True,
    cache_expiration=timedelta(days=30),
    **io_retries(1, 30.0),
)
def train_challenger(flow_run_id: str = "") -> dict[str, Any]:
    """Fit the main model on the latest graph export; it is registered with the alias `challenger`."""
    settings = load_settings()
    snapshot = latest_snapshot(settings.lake_root)
    data, digest = lake_dataset(settings, snapshot)
    tags = {"snapshot_digest": digest, "role": "nightly-challenger"}
    if flow_run_id:
        tags["prefect_flow_run_id"] = flow_run_id
    report = train_models(
        data,
        [settings.recsys.main_model],
        settings.recsys,
        tracking_uri=settings.mlflow.resolved_tracking_uri,
        experiment=experiment_name(settings, SHOP_DATASET),
        tags=tags,
        progress=print,
    )
    outcome = report.outcomes[settings.recsys.main_model]
    metrics = {metric_name(key): value for key, value in outcome.metrics.items()}
    return {"snapshot": snapshot, "version": outcome.version, "metrics": metrics, "run_link": outcome.link}


@task(name="evaluate-champion", **io_retries(2, 5.0))
def evaluate_champion(snapshot: str) -> dict[str, Any] | None:
    """The champion's test metrics on the very split the challenger was evaluated on (same snapshot)."""
    settings = load_settings()
    data, _ = lake_dataset(settings, snapshot)
    found = champion_metrics(settings, data)
    return None if found is None else {"version": found[0], "metrics": found[1]}


@task(name="promote-challenger", **io_retries(2, 5.0))
def promote_challenger(
    challenger: dict[str, Any], champion: dict[str, Any] | None, validation_passed: bool
) -> dict[str, Any]:
    """Apply the promotion policy; aliases move and both versions are tagged with the decision."""
    settings = load_settings()
    outcome = decide_and_apply(
        settings,
        challenger["version"],
        challenger["metrics"],
        champion["metrics"] if champion else None,
        validation_passed,
    )
    primary = settings.promotion.primary_metric
    lines = [
        f"### {outcome.decision.outcome}: challenger version {outcome.version}",
        f"champion before: {outcome.champion_before or 'none'}, after: {outcome.champion_after}, "
        f"previous: {outcome.previous_after or 'none'}",
        f"{primary}: challenger {challenger['metrics'].get(primary, float('nan')):.4f}, champion "
        + (f"{champion['metrics'].get(primary, float('nan')):.4f}" if champion else "none"),
        "",
        *[f"- {reason}" for reason in outcome.decision.reasons],
    ]
    create_markdown_artifact("\n".join(lines), key="recommender-promotion")
    return {
        "promoted": outcome.decision.promote,
        "reasons": outcome.decision.reasons,
        "champion": outcome.champion_after,
        "previous": outcome.previous_after,
    }


@task(name="batch-recommend", tags=[NEO4J_WRITER], **io_retries(3, 5.0))
def batch_recommend(day: date) -> dict[str, Any]:
    """Top-K per user with the champion, replacing the previous set in the lake and in Neo4j."""
    result = recommend_batch(load_settings(), day)
    return {
        "model_version": result.model_version,
        "users": result.users,
        "rows": result.rows,
        "lake_path": result.lake_path,
        "graph_edges": result.graph_edges,
        "guardrail_blocked": result.guardrail_blocked,
    }


@task(name="publish-nightly-summary", **io_retries(2, 2.0))
def publish_nightly_summary(result: dict[str, Any]) -> None:
    """A markdown artifact: what the night ingested, trained, decided and recommended."""
    data = result["data"]
    lines = [f"## nightly {result['date']}", ""]
    lines.append(
        f"- data: {'unchanged, skipped' if data['skipped'] else ', '.join(data['ingested']) or 'none'}"
    )
    graph = data.get("graph") or {}
    if graph:
        lines.append(f"- graph: {graph['nodes']} nodes, {graph['relationships']} relationships written")
    challenger = result.get("challenger")
    if challenger:
        ndcg = challenger["metrics"].get("test.ndcg_at_20", float("nan"))
        lines.append(f"- challenger: version {challenger['version']}, test NDCG@20 {ndcg:.4f}")
    champion = result.get("champion")
    if champion:
        ndcg = champion["metrics"].get("test.ndcg_at_20", float("nan"))
        lines.append(f"- champion before: version {champion['version']}, same split NDCG@20 {ndcg:.4f}")
    promotion = result.get("promotion")
    if promotion:
        lines.append(
            f"- promotion: {'promoted' if promotion['promoted'] else 'kept'}; "
            f"champion {promotion['champion']}"
        )
    recs = result.get("recommendations")
    if recs:
        lines.append(
            f"- recommendations: {recs['rows']} for {recs['users']} users "
            f"by version {recs['model_version']}, "
            f"{recs['graph_edges']} RECOMMENDED edges, "
            f"{recs.get('guardrail_blocked', 0)} products held back by the quality guardrail"
        )
    create_markdown_artifact("\n".join(lines), key="nightly-summary")
