"""Readiness gates for C-UAS sensors and EW systems, on sensor and jammer evidence."""

import pytest

from sandbox.detection import pool
from sandbox.models import SandboxStatus as S
from sandbox.readiness import (
    Evidence,
    evaluate_gate,
    gate_for,
    load_gates,
    technology_readiness_level,
)
from sandbox.sensors import SensorEvidence


def evidence(**sensors: SensorEvidence) -> Evidence:
    return Evidence(engagements={}, pk_low={}, cost_exchange_ratio=None, open_safety_findings=0,
                    reports=3, sensors=sensors)


def sensor(epochs: int, detected: int, false_alarms: int, hours: float,
           bins: list[list[float]] | None = None) -> SensorEvidence:
    return SensorEvidence(detection=pool(epochs, detected, false_alarms, hours * 3600),
                          bins=bins or [])


def test_a_sensor_that_detects_within_2_km_passes_the_field_gate() -> None:
    gate = gate_for(load_gates(), "cuas_sensor", "ready")
    near = [[0, 500, 400, 398], [500, 1000, 600, 590], [1000, 1500, 500, 480],
            [1500, 2000, 500, 470], [2000, 2500, 500, 100]]
    result = evaluate_gate(evidence(field=sensor(2500, 2038, 3, 2500 / 3600, near)), gate)
    reasons = {c.name: c.reason for c in result.criteria}
    assert result.passed, reasons
    assert reasons["max_field_false_alarms_per_hour"] == (
        "field false alarms per hour: 4.32 meets ≤ 5")
    # within 2 km: 1,938 of 2,000 epochs; the far bin does not count
    within = next(c for c in result.criteria if c.name == "min_field_pd_low_within_2000_m")
    assert within.actual == pytest.approx(0.9612, abs=1e-3)


def test_a_sensor_gate_fails_on_each_missing_figure() -> None:
    gate = gate_for(load_gates(), "cuas_sensor", "sim_trialled")
    result = evaluate_gate(evidence(simulation=sensor(500, 300, 40, 0.5)), gate)
    failing = {c.name: c.reason for c in result.criteria if not c.passed}
    assert set(failing) == {"min_simulation_detection_epochs", "min_simulation_pd_low",
                            "max_simulation_false_alarms_per_hour"}
    assert failing["max_simulation_false_alarms_per_hour"] == (
        "simulation false alarms per hour: 80 fails ≤ 10")
    assert not evaluate_gate(evidence(), gate).passed  # no sensor data at all


def test_jammer_gates_read_activations_share_time_and_range() -> None:
    gate = gate_for(load_gates(), "ew_system", "field_trial_authorised")
    good = SensorEvidence(ew_activations=12, effective_activations=11,
                          median_time_to_effect_s=2.5, effect_range_m=1800)
    assert evaluate_gate(evidence(simulator=good), gate).passed
    slow = SensorEvidence(ew_activations=12, effective_activations=6,
                          median_time_to_effect_s=9.0, effect_range_m=400)
    failing = {c.name for c in evaluate_gate(evidence(simulator=slow), gate).criteria
               if not c.passed}
    assert failing == {"min_simulator_effective_share", "max_simulator_time_to_effect_s",
                       "min_simulator_effect_range_m"}


def test_sensor_evidence_counts_towards_the_technology_readiness_level() -> None:
    assert technology_readiness_level(evidence(), S.admitted) == 3
    assert technology_readiness_level(evidence(simulation=sensor(600, 500, 0, 1)),
                                      S.sim_trialled) == 4
    assert technology_readiness_level(evidence(field=sensor(600, 580, 0, 1)),
                                      S.field_trial_authorised) == 7
    jammer = SensorEvidence(ew_activations=3, effective_activations=3)
    assert technology_readiness_level(evidence(field=jammer), S.field_trial_authorised) == 6
