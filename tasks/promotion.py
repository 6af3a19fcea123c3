"""Tasks of champion/challenger promotion: decide and move the aliases, and the decision artifact."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from shopgraph.adapters.promotion import PromotionOutcome, promote
from shopgraph.adapters.registry import registry_client
from shopgraph.settings import load_settings
from tasks.retry import IO_RETRIES


def promotion_markdown(outcome: PromotionOutcome) -> str:
    """The decision, the aliases before and after, and one line per reason."""
    verdict = "promoted to champion" if outcome.decision.promote else "not promoted, champion kept"
    forced = " (forced)" if outcome.forced else ""
    lines = [
        f"# {outcome.model_name} version {outcome.version}: {verdict}{forced}",
        "",
        "| alias | before | after |",
        "|---|---|---|",
        f"| champion | {outcome.champion_before or '-'} | {outcome.champion_after or '-'} |",
        f"| previous | | {outcome.previous_after or '-'} |",
        "",
        "## Reasons",
        "",
        *(f"- {reason}" for reason in outcome.decision.reasons),
    ]
    return "\n".join(lines) + "\n"


# Not cached: it reads and moves registry aliases, so a rerun must look at the registry again. A retry after
# a promotion that went through finds the version already champion and changes nothing.
@task(name="promote-model-version", cache_policy=NO_CACHE, **IO_RETRIES)
def promote_version(
    version: str,
    force: bool = False,
    validation_passed: bool | None = None,
    model_name: str | None = None,
) -> PromotionOutcome:
    """Check the version against the champion with the configured policy and move the aliases."""
    settings = load_settings()
    client = registry_client(settings.mlflow.resolved_tracking_uri)
    name = model_name or settings.recsys.registered_model
    return promote(client, name, version, settings.promotion.policy(), force, validation_passed)


@task(name="publish-promotion", cache_policy=NO_CACHE, **IO_RETRIES)
def publish_promotion(outcome: PromotionOutcome) -> str:
    """The `promotion-decision` markdown artifact; returns its markdown."""
    markdown = promotion_markdown(outcome)
    create_markdown_artifact(
        markdown=markdown,
        key="promotion-decision",
        description=f"{outcome.model_name} v{outcome.version}: {outcome.decision.outcome}",
    )
    return markdown
