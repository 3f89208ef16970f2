from datetime import UTC, datetime, timedelta

import pytest

from sandbox.models import SandboxStatus as S
from sandbox.readiness import (
    Evidence,
    InvalidTransition,
    check_transition,
    effective_status,
    evaluate_gate,
    gate_for,
    load_gates,
    technology_readiness_level,
)


def evidence(**overrides) -> Evidence:
    values = {"engagements": {"simulation": 600}, "pk_low": {"simulation": 0.7},
              "cost_exchange_ratio": 0.2, "open_safety_findings": 0, "reports": 0}
    return Evidence(**{**values, **overrides})


def test_interceptor_field_trial_gate_passes_with_reasons() -> None:
    gate = gate_for(load_gates(), "interceptor_drone", "field_trial_authorised")
    result = evaluate_gate(evidence(), gate, step="field_trial_authorised")
    assert result.passed
    reasons = {c.name: c.reason for c in result.criteria}
    assert reasons["min_simulation_engagements"] == "simulation engagements: 600 meets ≥ 500"
    assert reasons["max_cost_exchange_ratio"] == "cost exchange ratio: 0.2 meets ≤ 0.5"


def test_each_missing_piece_of_evidence_fails_its_criterion() -> None:
    gate = gate_for(load_gates(), "interceptor_drone", "field_trial_authorised")
    result = evaluate_gate(evidence(engagements={"simulation": 100},
                                    cost_exchange_ratio=None, open_safety_findings=1), gate)
    failing = {c.name: c for c in result.criteria if not c.passed}
    assert set(failing) == {"min_simulation_engagements", "max_cost_exchange_ratio",
                            "max_open_safety_findings"}
    assert failing["max_cost_exchange_ratio"].reason == (
        "cost exchange ratio: no evidence yet (needs 0.5)")
    assert not result.passed


def test_kinds_without_their_own_gate_use_the_default() -> None:
    gates = load_gates()
    assert gate_for(gates, "recon_drone", "ready") == gates["default"]["ready"]


@pytest.mark.parametrize("current, target", [(S.submitted, S.admitted),
                                             (S.admitted, S.sim_trialled),
                                             (S.field_trial_authorised, S.ready),
                                             (S.ready, S.suspended)])
def test_allowed_transitions(current, target) -> None:
    check_transition(current, target)


@pytest.mark.parametrize("current, target", [(S.submitted, S.ready), (S.rejected, S.admitted),
                                             (S.admitted, S.field_trial_authorised)])
def test_other_transitions_are_refused_listing_the_allowed(current, target) -> None:
    with pytest.raises(InvalidTransition, match="allowed"):
        check_transition(current, target)


def test_expired_authorisation_lapses_by_itself() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    past, future = now - timedelta(days=1), now + timedelta(days=1)
    assert effective_status(S.field_trial_authorised, past, now) == S.sim_trialled
    assert effective_status(S.field_trial_authorised, future, now) == S.field_trial_authorised
    assert effective_status(S.admitted, past, now) == S.admitted


def test_trl_follows_the_evidence() -> None:
    assert technology_readiness_level(evidence(engagements={}), S.submitted) == 3
    assert technology_readiness_level(evidence(), S.admitted) == 4
    assert technology_readiness_level(evidence(engagements={"field": 60},
                                               pk_low={"field": 0.6}), S.sim_trialled) == 7
    assert technology_readiness_level(evidence(), S.ready) == 9
