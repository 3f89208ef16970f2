"""The detection score on scenarios whose answer is worked out by hand in the comments."""

import numpy as np
import pandas as pd
import pytest

from sandbox.detection import feedback_figures, pool, score_detections

T0 = 1_767_225_600.0  # a whole UTC second


def approach() -> pd.DataFrame:
    """One target flying straight at the sensor along the east axis at 50 m/s, 2 Hz, from
    6,000 m (t = 0) to 975 m (t = 100.5). Ranges at each whole second k: 6000 - 50 k, so
    epochs within 5,000 m are k = 20 … 100: 81 epochs."""
    t = np.arange(0, 101, 0.5)
    return pd.DataFrame({"target": 7, "t_s": T0 + t, "east_m": 6000 - 50 * t,
                         "north_m": 0.0, "up_m": 0.0})


def detections() -> pd.DataFrame:
    """Seen at k + 0.25 for k = 41 … 100 except a fade at 60–63 (56 detections): even k 5 m
    off (3, 4, 0), odd k 13 m off (5, 12, 0); labelled uav when k is even, Drone when k is odd
    and divisible by 5 (45 55 65 75 85 95), bird else. Then five that no target explains:
    60 m off the target at 70.6 (outside the 50 m gate), clutter at 25.5, 50.5 and 90.5 (in
    epoch seconds: false alarms), clutter at 10.5 (target beyond range: not counted), and one
    at -5 on the target's extended path (truth is never extrapolated: not counted)."""
    rows = []
    for k in [k for k in range(41, 101) if not 60 <= k <= 63]:
        t = k + 0.25
        de, dn = (3, 4) if k % 2 == 0 else (5, 12)
        label = "uav" if k % 2 == 0 else ("Drone" if k % 5 == 0 else "bird")
        rows.append((T0 + t, 6000 - 50 * t + de, dn, 0.0, label))
    rows.append((T0 + 70.6, 6000 - 50 * 70.6, 60.0, 0.0, "uav"))
    rows += [(T0 + t, -2000.0, 300.0, 50.0, "bird") for t in (25.5, 50.5, 90.5, 10.5)]
    rows.append((T0 - 5, 6250.0, 0.0, 0.0, "uav"))
    return pd.DataFrame(rows, columns=["t_s", "east_m", "north_m", "up_m", "classification"])


def test_known_scenario_gives_the_hand_computed_figures() -> None:
    score = score_detections(approach(), detections(), evaluated_range_m=5000, gate_m=50)
    assert (score.epochs, score.detected, score.detections, score.associated) == (81, 56, 62, 56)
    assert score.pd == pytest.approx(56 / 81)
    # Wilson, n = 81, p = 56/81, z = 1.959964: centre 0.682694, half-width 0.098674
    assert score.pd_low == pytest.approx(0.584020, abs=1e-5)
    assert score.pd_high == pytest.approx(0.781368, abs=1e-5)
    # first associated detection at k = 41.25: truth 6000 - 50 * 41.25 = 3937.5 m away,
    # 21.25 s after the first epoch (k = 20)
    assert score.first_detection_range_m == pytest.approx(3937.5)
    assert score.time_to_first_detection_s == pytest.approx(21.25)
    # 28 errors of 5 m and 28 of 13 m: the median falls between them, p90 on 13
    assert score.position_error_p50_m == pytest.approx(9.0)
    assert score.position_error_p90_m == pytest.approx(13.0)
    assert (score.false_alarms, score.evaluated_s) == (4, 81)
    assert score.false_alarms_per_hour == pytest.approx(4 * 3600 / 81)
    # 28 uav + 6 Drone right among 56 labelled associated detections
    assert score.classification_accuracy == pytest.approx(34 / 56)


def test_pd_by_range_bins_of_500_m() -> None:
    bins = score_detections(approach(), detections()).pd_by_range
    table = [(b.range_m_from, b.range_m_to, b.epochs, b.detected) for b in bins]
    assert table == [(0, 500, 0, 0), (500, 1000, 0, 0), (1000, 1500, 10, 10),
                     (1500, 2000, 10, 10), (2000, 2500, 10, 10), (2500, 3000, 10, 7),
                     (3000, 3500, 10, 9), (3500, 4000, 10, 10), (4000, 4500, 10, 0),
                     (4500, 5000, 11, 0)]
    assert bins[0].pd is None and bins[5].pd == pytest.approx(0.7)
    assert bins[5].pd_low < 0.7 < bins[5].pd_high


def test_a_detection_goes_to_the_nearest_target_within_the_gate() -> None:
    truth = pd.concat([approach(), approach().assign(target=8, north_m=30.0)])
    seen = pd.DataFrame({"t_s": [T0 + 50.0], "east_m": [3500.0], "north_m": [25.0],
                         "up_m": [0.0], "classification": [None]})
    score = score_detections(truth, seen)
    # the second target, 30 m off the axis, enters 5,000 m one second later: 81 + 80 epochs
    assert (score.epochs, score.detected, score.associated) == (161, 1, 1)
    assert score.position_errors_m == [pytest.approx(5.0)]
    assert score.classification_accuracy is None


def test_nothing_to_score_gives_nulls_not_errors() -> None:
    empty = pd.DataFrame(columns=["t_s", "east_m", "north_m", "up_m", "classification"])
    score = score_detections(approach().iloc[:0], empty)
    assert (score.epochs, score.pd, score.false_alarms_per_hour) == (0, None, None)
    assert score.first_detection_range_m is None


def test_pooled_trials_and_engineer_figures() -> None:
    totals = pool(epochs=81 + 19, detected=56 + 19, false_alarms=4, evaluated_s=3600)
    assert (totals.pd, totals.false_alarms_per_hour) == (0.75, 4.0)
    figures = feedback_figures(score_detections(approach(), detections()))
    assert figures["first_detection_range_m"] == 3940.0
    assert figures["time_to_first_detection_s"] == 21.0
    assert "t_s" not in str(figures) and figures["position_errors_m"][:2] == [5.0, 5.0]
