"""The champion/challenger promotion rule: primary margin, guardrails, validation, missing metrics."""

from __future__ import annotations

import math

import pytest

from shopgraph.domain.promotion import PromotionPolicy, decide_promotion

POLICY = PromotionPolicy(
    primary_metric="ndcg",
    min_delta=0.01,
    guardrails={"coverage": 0.05, "cold_recall": 0.0},
)
CHAMPION = {"ndcg": 0.30, "coverage": 0.50, "cold_recall": 0.10}


def test_no_champion_promotes_when_validation_passed() -> None:
    decision = decide_promotion(None, {"ndcg": 0.1}, POLICY, validation_passed=True)
    assert decision.promote and decision.outcome == "promoted"
    assert any("no champion yet" in reason for reason in decision.reasons)


def test_no_champion_but_validation_failed_keeps() -> None:
    decision = decide_promotion(None, {"ndcg": 0.9}, POLICY, validation_passed=False)
    assert not decision.promote and "data validation failed" in decision.reasons


def test_validation_not_required_ignores_failure() -> None:
    policy = POLICY.model_copy(update={"require_validation_passed": False})
    assert decide_promotion(CHAMPION, {**CHAMPION, "ndcg": 0.4}, policy, validation_passed=False).promote


@pytest.mark.parametrize(
    ("ndcg", "promote"),
    [(0.32, True), (0.31, True), (0.305, False), (0.30, False), (0.2, False)],
)
def test_primary_needs_absolute_margin(ndcg: float, promote: bool) -> None:
    decision = decide_promotion(CHAMPION, {**CHAMPION, "ndcg": ndcg}, POLICY)
    assert decision.promote is promote
    primary = next(reason for reason in decision.reasons if reason.startswith("ndcg:"))
    assert ("improves on" in primary) is promote


def test_relative_margin_uses_the_larger_margin() -> None:
    policy = POLICY.model_copy(update={"min_delta": 0.0, "min_relative": 0.1})  # 10% of 0.30 = 0.03
    assert not decide_promotion(CHAMPION, {**CHAMPION, "ndcg": 0.32}, policy).promote
    assert decide_promotion(CHAMPION, {**CHAMPION, "ndcg": 0.331}, policy).promote


def test_zero_margin_still_needs_a_gain() -> None:
    policy = POLICY.model_copy(update={"min_delta": 0.0})
    assert not decide_promotion(CHAMPION, dict(CHAMPION), policy).promote


def test_strict_margin_rejects_a_gain_equal_to_the_margin() -> None:
    policy = PromotionPolicy(primary_metric="f1", min_delta=0.25, strict_margin=True, guardrails={})
    assert not decide_promotion({"f1": 0.5}, {"f1": 0.75}, policy).promote
    assert decide_promotion({"f1": 0.5}, {"f1": 0.76}, policy).promote


def test_guardrail_drop_beyond_tolerance_blocks() -> None:
    challenger = {"ndcg": 0.40, "coverage": 0.44, "cold_recall": 0.10}
    decision = decide_promotion(CHAMPION, challenger, POLICY)
    assert not decision.promote
    assert any(r.startswith("guardrail coverage broken") for r in decision.reasons)
    assert any(r.startswith("guardrail cold_recall holds") for r in decision.reasons)


def test_guardrail_drop_within_tolerance_promotes() -> None:
    challenger = {"ndcg": 0.40, "coverage": 0.46, "cold_recall": 0.12}
    decision = decide_promotion(CHAMPION, challenger, POLICY)
    assert decision.promote
    assert len(decision.reasons) == 4  # validation, primary, two guardrails


def test_zero_tolerance_guardrail_blocks_any_drop() -> None:
    challenger = {"ndcg": 0.40, "coverage": 0.50, "cold_recall": 0.099}
    assert not decide_promotion(CHAMPION, challenger, POLICY).promote


def test_missing_challenger_guardrail_blocks_missing_champion_guardrail_does_not() -> None:
    assert not decide_promotion(CHAMPION, {"ndcg": 0.40, "coverage": 0.5}, POLICY).promote
    decision = decide_promotion({"ndcg": 0.30}, {"ndcg": 0.40}, POLICY)
    assert decision.promote and any("not checked" in r for r in decision.reasons)


@pytest.mark.parametrize("value", [None, math.nan, math.inf])
def test_missing_or_non_finite_primary_never_promotes(value: float | None) -> None:
    challenger = {"coverage": 0.5} if value is None else {"ndcg": value, "coverage": 0.5}
    assert not decide_promotion(None, challenger, POLICY).promote
    assert not decide_promotion(CHAMPION, challenger, POLICY).promote


def test_champion_without_primary_is_replaced() -> None:
    decision = decide_promotion({"coverage": 0.5}, {"ndcg": 0.2}, POLICY)
    assert decision.promote and "champion has no ndcg" in decision.summary


def test_policy_rejects_unknown_keys_and_negative_margins() -> None:
    with pytest.raises(ValueError):
        PromotionPolicy.model_validate({"primary": "x"})
    with pytest.raises(ValueError):
        PromotionPolicy(min_delta=-0.1)
