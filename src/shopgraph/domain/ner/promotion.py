"""When a newly trained NER model replaces the champion."""

from __future__ import annotations

from typing import NamedTuple

from shopgraph.domain import promotion as general
from shopgraph.domain.promotion import KEPT, PROMOTED

__all__ = ["KEPT", "PROMOTED", "PromotionDecision", "decide_promotion"]


class PromotionDecision(NamedTuple):
    """Whether the challenger becomes champion, and why in one line."""

    promote: bool
    reason: str

    @property
    def outcome(self) -> str:
        return PROMOTED if self.promote else KEPT


def decide_promotion(
    challenger_f1: float, champion_f1: float | None, min_improvement: float = 0.0
) -> PromotionDecision:
    """Promote when there is no champion, or the challenger beats its F1 on the same validation set by more
    than min_improvement (a tie keeps the champion)."""
    if champion_f1 is None:
        return PromotionDecision(True, f"no champion yet; challenger F1 {challenger_f1:.4f}")
    policy = general.PromotionPolicy(
        primary_metric="f1",
        min_delta=min_improvement,
        strict_margin=True,
        guardrails={},
        require_validation_passed=False,
    )
    if general.decide_promotion({"f1": champion_f1}, {"f1": challenger_f1}, policy).promote:
        return PromotionDecision(
            True, f"challenger F1 {challenger_f1:.4f} beats champion F1 {champion_f1:.4f}"
        )
    return PromotionDecision(
        False,
        f"challenger F1 {challenger_f1:.4f} does not beat champion F1 {champion_f1:.4f}"
        f" by more than {min_improvement:g}",
    )
