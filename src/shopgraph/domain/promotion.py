"""Champion/challenger promotion: a primary metric that must improve, guardrails that may not fall."""

from __future__ import annotations

import math
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

PROMOTED, KEPT = "promoted", "kept"


class PromotionPolicy(BaseModel):
    """When a challenger replaces the champion. Every metric is higher-is-better.

    The primary metric must improve by more than zero and by at least the larger of `min_delta` (absolute)
    and `min_relative` x |champion value|; with `strict_margin` it must exceed that margin. Each guardrail
    metric may fall by at most its tolerance (absolute).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    primary_metric: str = "test.ndcg_at_20"
    min_delta: float = Field(default=0.0, ge=0)
    min_relative: float = Field(default=0.0, ge=0)
    strict_margin: bool = False
    guardrails: dict[str, float] = Field(
        default_factory=lambda: {
            "test.coverage_at_20": 0.02,
            "test.ild_at_20": 0.02,
            "test.cold_recall_at_20": 0.02,
        }
    )
    require_validation_passed: bool = True


class PromotionDecision(BaseModel):
    """Whether the challenger becomes champion, with one reason per check made."""

    model_config = ConfigDict(frozen=True)

    promote: bool
    reasons: list[str]

    @property
    def outcome(self) -> str:
        return PROMOTED if self.promote else KEPT

    @property
    def summary(self) -> str:
        return "; ".join(self.reasons)


def _finite(metrics: Mapping[str, float], name: str) -> float | None:
    value = metrics.get(name)
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value)


def _primary_check(champion: float, challenger: float, policy: PromotionPolicy) -> tuple[bool, str]:
    name = policy.primary_metric
    margin = max(policy.min_delta, policy.min_relative * abs(champion))
    gain = challenger - champion
    # The epsilon keeps a gain equal to the margin (up to float rounding) on the promoting side.
    passed = gain > margin if policy.strict_margin else gain > 0 and gain >= margin - 1e-12
    verb = "improves on" if passed else "does not improve enough on"
    need = f"more than {margin:.4g}" if policy.strict_margin else f"> 0 and >= {margin:.4g}"
    return passed, (
        f"{name}: challenger {challenger:.4f} {verb} champion {champion:.4f} "
        f"(gain {gain:+.4f}, needed {need})"
    )


def _guardrail_checks(
    champion: Mapping[str, float], challenger: Mapping[str, float], policy: PromotionPolicy
) -> list[tuple[bool, str]]:
    checks: list[tuple[bool, str]] = []
    for name, tolerance in sorted(policy.guardrails.items()):
        old, new = _finite(champion, name), _finite(challenger, name)
        if old is None:
            checks.append((True, f"guardrail {name}: champion has no value, not checked"))
        elif new is None:
            checks.append((False, f"guardrail {name}: challenger has no value (champion {old:.4f})"))
        else:
            drop = old - new
            held = drop <= tolerance + 1e-12
            state = "holds" if held else "broken"
            checks.append(
                (
                    held,
                    f"guardrail {name} {state}: {new:.4f} vs champion {old:.4f} "
                    f"(drop {drop:+.4f}, tolerance {tolerance:g})",
                )
            )
    return checks


def decide_promotion(
    champion: Mapping[str, float] | None,
    challenger: Mapping[str, float],
    policy: PromotionPolicy,
    validation_passed: bool = True,
) -> PromotionDecision:
    """Promote when validation passed (if required) and either there is no champion or the primary metric
    improves by the margin while no guardrail falls beyond its tolerance. Every check adds one reason;
    a missing or non-finite challenger primary metric never promotes."""
    reasons: list[str] = []
    passed = True
    if policy.require_validation_passed:
        reasons.append("data validation passed" if validation_passed else "data validation failed")
        passed = validation_passed
    new = _finite(challenger, policy.primary_metric)
    if new is None:
        reasons.append(f"{policy.primary_metric}: challenger has no finite value")
        return PromotionDecision(promote=False, reasons=reasons)
    old = _finite(champion, policy.primary_metric) if champion is not None else None
    if old is None:
        what = "no champion yet" if champion is None else f"champion has no {policy.primary_metric}"
        reasons.append(f"{what}; challenger {policy.primary_metric} {new:.4f}")
        return PromotionDecision(promote=passed, reasons=reasons)
    assert champion is not None
    checks = [_primary_check(old, new, policy), *_guardrail_checks(champion, challenger, policy)]
    reasons.extend(reason for _, reason in checks)
    return PromotionDecision(promote=passed and all(ok for ok, _ in checks), reasons=reasons)
