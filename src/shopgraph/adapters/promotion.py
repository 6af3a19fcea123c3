"""Champion/challenger/previous aliases of a registered model: decide, promote, roll back, with audit tags.

Aliases: `champion` serves; `challenger` is the latest evaluated candidate that was not promoted; `previous`
is the champion a promotion replaced. A rollback points `champion` back at `previous`, deletes `previous`
(so a second rollback fails instead of flipping back and forth) and tags the rolled-back version; it can be
promoted again with `shopgraph promote VERSION`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from shopgraph.adapters.registry import alias_version
from shopgraph.domain.promotion import PromotionDecision, PromotionPolicy, decide_promotion
from shopgraph.errors import ShopgraphError

CHAMPION, CHALLENGER, PREVIOUS = "champion", "challenger", "previous"
VALIDATION_TAG = "validation_passed"  # "true"/"false" on the version or its run, set by the training flow
TAG_PREFIX = "promotion."
_MAX_TAG = 5000


class PromotionError(ShopgraphError):
    """A promotion or rollback that cannot be carried out (unknown model or version, no previous)."""


@dataclass(frozen=True)
class PromotionOutcome:
    """What a decision did to the aliases."""

    model_name: str
    version: str
    decision: PromotionDecision
    champion_before: str | None
    champion_after: str | None
    previous_after: str | None
    forced: bool = False


@dataclass(frozen=True)
class RollbackOutcome:
    model_name: str
    rolled_back: str | None
    champion: str


def _version(client: MlflowClient, model_name: str, version: str) -> ModelVersion:
    """The version by number, or by alias (`challenger`) when it is not a number."""
    if not str(version).isdigit():
        found = alias_version(client, model_name, str(version))
        if found is not None:
            return found
    try:
        return client.get_model_version(model_name, str(version))
    except MlflowException as exc:
        try:
            client.get_registered_model(model_name)
        except MlflowException:
            raise PromotionError(f"no registered model {model_name!r} in the MLflow registry") from exc
        known = sorted(
            (str(mv.version) for mv in client.search_model_versions(f"name='{model_name}'")), key=int
        )
        raise PromotionError(
            f"{model_name} has no version {version!r} (versions: {', '.join(known) or 'none'})"
        ) from exc


def version_metrics(client: MlflowClient, version: ModelVersion) -> dict[str, float]:
    """The finite metrics of the run that produced the version (empty when it has no run)."""
    if not version.run_id:
        return {}
    metrics = client.get_run(version.run_id).data.metrics
    return {name: float(value) for name, value in metrics.items() if math.isfinite(float(value))}


def recorded_validation(client: MlflowClient, version: ModelVersion) -> bool | None:
    """The `validation_passed` tag of the version, else of its run; None when neither records it."""
    value = (version.tags or {}).get(VALIDATION_TAG)
    if value is None and version.run_id:
        value = client.get_run(version.run_id).data.tags.get(VALIDATION_TAG)
    return None if value is None else value.strip().lower() in {"true", "1", "yes", "passed"}


def evaluate(
    client: MlflowClient,
    model_name: str,
    version: str,
    policy: PromotionPolicy,
    validation_passed: bool | None = None,
) -> PromotionDecision:
    """The policy's decision for the version against the current champion's run metrics. Without an
    explicit validation result the version's recorded one is used (unrecorded counts as passed, and the
    reasons say so)."""
    challenger = _version(client, model_name, version)
    champion = alias_version(client, model_name, CHAMPION)
    if champion is not None and str(champion.version) == str(challenger.version):
        return PromotionDecision(promote=False, reasons=[f"version {version} is already the champion"])
    note = []
    if validation_passed is None:
        validation_passed = recorded_validation(client, challenger)
        if validation_passed is None:
            validation_passed = True
            note = [f"no {VALIDATION_TAG} tag on version {version} or its run: counted as passed"]
    decision = decide_promotion(
        version_metrics(client, champion) if champion is not None else None,
        version_metrics(client, challenger),
        policy,
        validation_passed,
    )
    return decision.model_copy(update={"reasons": note + decision.reasons})


def _tag(client: MlflowClient, model_name: str, version: str, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        client.set_model_version_tag(model_name, version, TAG_PREFIX + key, value[:_MAX_TAG])


def apply_decision(
    client: MlflowClient,
    model_name: str,
    challenger_version: str,
    decision: PromotionDecision,
    forced: bool = False,
) -> PromotionOutcome:
    """Move the aliases as decided and tag the challenger and the champion with the decision and reasons.

    Promote: the old champion becomes `previous`, the challenger `champion` (and loses `challenger`).
    Keep: the challenger gets the `challenger` alias; `champion` and `previous` do not move.
    """
    challenger = str(_version(client, model_name, challenger_version).version)
    champion = alias_version(client, model_name, CHAMPION)
    before = str(champion.version) if champion is not None else None
    tags = {
        "decision": decision.outcome,
        "reasons": decision.summary,
        "challenger_version": challenger,
        "champion_version": before or "",
        "decided_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "forced": str(forced).lower(),
    }
    previous = alias_version(client, model_name, PREVIOUS)
    previous_after = str(previous.version) if previous is not None else None
    if decision.promote and before != challenger:
        if before is not None:
            # `previous` first, so that `champion` always names a servable version.
            client.set_registered_model_alias(model_name, PREVIOUS, before)
            previous_after = before
        client.set_registered_model_alias(model_name, CHAMPION, challenger)
        current = alias_version(client, model_name, CHALLENGER)
        if current is not None and str(current.version) == challenger:
            client.delete_registered_model_alias(model_name, CHALLENGER)
    elif not decision.promote and before != challenger:
        client.set_registered_model_alias(model_name, CHALLENGER, challenger)
    _tag(client, model_name, challenger, {**tags, "role": "challenger"})
    if before is not None and before != challenger:
        _tag(client, model_name, before, {**tags, "role": "champion"})
    after = challenger if decision.promote else before
    return PromotionOutcome(model_name, challenger, decision, before, after, previous_after, forced)


def promote(
    client: MlflowClient,
    model_name: str,
    version: str,
    policy: PromotionPolicy,
    force: bool = False,
    validation_passed: bool | None = None,
) -> PromotionOutcome:
    """Evaluate the version against the champion with the policy and apply the decision. With force the
    version is promoted whatever the policy says; the policy's reasons are still recorded."""
    decision = evaluate(client, model_name, version, policy, validation_passed)
    if force and not decision.promote:
        decision = PromotionDecision(
            promote=True, reasons=["forced by operator; the policy said: " + decision.summary]
        )
    return apply_decision(client, model_name, version, decision, forced=force)


def rollback(client: MlflowClient, model_name: str) -> RollbackOutcome:
    """Point `champion` back at `previous`; the rolled-back version is tagged and `previous` deleted."""
    previous = alias_version(client, model_name, PREVIOUS)
    if previous is None:
        try:
            client.get_registered_model(model_name)
        except MlflowException as exc:
            raise PromotionError(f"no registered model {model_name!r} in the MLflow registry") from exc
        raise PromotionError(
            f"{model_name} has no `previous` version to roll back to (no promotion replaced a champion "
            "since the last rollback); use `shopgraph promote VERSION --force` to pick one"
        )
    champion = alias_version(client, model_name, CHAMPION)
    rolled_back = str(champion.version) if champion is not None else None
    client.set_registered_model_alias(model_name, CHAMPION, str(previous.version))
    client.delete_registered_model_alias(model_name, PREVIOUS)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    _tag(client, model_name, str(previous.version), {"restored_at": now, "restored_from": rolled_back or ""})
    if rolled_back is not None and rolled_back != str(previous.version):
        _tag(
            client,
            model_name,
            rolled_back,
            {"rolled_back_at": now, "rolled_back_to": str(previous.version), "decision": "rolled_back"},
        )
    return RollbackOutcome(model_name, rolled_back, str(previous.version))
