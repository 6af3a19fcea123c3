"""The `promote` flow: check a registered recommender version against the champion and move the aliases."""

from __future__ import annotations

from prefect import flow
from pydantic import BaseModel, Field

from shopgraph.adapters.promotion import PromotionOutcome
from tasks.promotion import promote_version, publish_promotion


class PromoteParams(BaseModel):
    """Which version to promote, and whether to override the policy."""

    version: str = Field(description="Model version number, or an alias such as `challenger`")
    force: bool = Field(default=False, description="Promote even when the policy says no (recorded)")
    model: str = Field(default="", description="Registered model; empty: recsys.registered_model")


@flow(name="promote", log_prints=True, flow_run_name="promote-{params.version}")
def promote(params: PromoteParams) -> PromotionOutcome:
    """Compare the version's test metrics with the champion's under the configured policy (primary metric
    margin, guardrails, data validation); on success the old champion becomes `previous` and the version
    `champion`, otherwise it becomes `challenger`. Tags both versions and publishes a decision artifact."""
    outcome = promote_version(params.version, params.force, None, params.model or None)
    publish_promotion(outcome)
    print(f"{outcome.model_name} v{outcome.version}: {outcome.decision.outcome}; {outcome.decision.summary}")
    return outcome
