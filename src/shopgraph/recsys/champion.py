"""Champion vs challenger on the same split, then the promotion policy's decision applied to the aliases."""

from __future__ import annotations

from collections.abc import Mapping

from shopgraph.adapters.promotion import PromotionOutcome, apply_decision
from shopgraph.adapters.registry import registry_client
from shopgraph.domain.promotion import decide_promotion
from shopgraph.domain.recsys.data import RecDataset
from shopgraph.recsys.batch import NoChampionError, load_scorer
from shopgraph.recsys.compare import evaluate_scorer
from shopgraph.recsys.train import metric_name
from shopgraph.settings import Settings


def champion_metrics(settings: Settings, data: RecDataset) -> tuple[str, dict[str, float]] | None:
    """(version, MLflow-named test metrics) of the current champion scored on data's test split; None
    when there is no champion yet."""
    try:
        scorer, version = load_scorer(settings)
    except NoChampionError:
        return None
    return version, {metric_name(key): value for key, value in evaluate_scorer(scorer, data).items()}


def decide_and_apply(
    settings: Settings,
    challenger_version: str,
    challenger: Mapping[str, float],
    champion: Mapping[str, float] | None,
    validation_passed: bool,
) -> PromotionOutcome:
    """Decide with settings.promotion's policy on metrics from one split and move the aliases."""
    decision = decide_promotion(champion, challenger, settings.promotion.policy(), validation_passed)
    client = registry_client(settings.mlflow.resolved_tracking_uri)
    return apply_decision(client, settings.recsys.registered_model, challenger_version, decision)
