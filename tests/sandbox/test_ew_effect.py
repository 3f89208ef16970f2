"""The jammer effect on a stream whose on/off behaviour is known, worked out by hand."""

import numpy as np
import pandas as pd
import pytest

from sandbox.detection import feedback_figures as detection_figures
from sandbox.detection import score_detections
from sandbox.ew_effect import ew_effect, feedback_figures, link_gaps

ACTIVATIONS = pd.DataFrame({"start_s": [100.0, 200.0], "end_s": [160.0, 230.0]})


def stream() -> tuple[pd.DataFrame, ...]:
    """One frame, one GPS report and one RADIO_STATUS a second for 300 s (t = 0 … 299); the
    link drops everything in [110, 120); GPS loses its 3-D fix (4 satellites, eph 9 m) over
    [103, 160); the radio counts 5 receive errors a second from 100 to 159. The target flies
    away from the jammer: 500 m + 10 m/s."""
    t = np.arange(300.0)
    kept = t[(t < 110) | (t >= 120)]
    degraded = (kept >= 103) & (kept < 160)
    frames = pd.DataFrame({"t_s": kept, "sender": 1, "seq": kept.astype(int) % 256})
    radio = pd.DataFrame({"t_s": kept, "rxerrors": 5 * (np.clip(kept, 100, 159) - 100)})
    gps = pd.DataFrame({"t_s": kept, "fix_type": np.where(degraded, 1, 3),
                        "satellites": np.where(degraded, 4, 14),
                        "eph_m": np.where(degraded, 9.0, 1.2)})
    return frames, radio, gps, pd.DataFrame({"t_s": t, "range_m": 500 + 10 * t})


def test_known_on_off_stream() -> None:
    effect = ew_effect(ACTIVATIONS, *stream())
    # on: [100, 160) and [200, 230), 90 s; 80 frames arrived and the 10 of [110, 120) were lost
    assert (effect.on.duration_s, effect.off.duration_s) == (90.0, 209.0)
    assert (effect.on.frames_expected, effect.on.frames_lost) == (90, 10)
    assert effect.on.link_loss_rate == pytest.approx(10 / 90)
    assert (effect.off.frames_lost, effect.off.link_loss_rate) == (0, 0.0)
    # 47 of the 80 GPS reports while on had lost the 3-D fix (103 … 159 less the 10 lost)
    assert effect.on.gps_degraded_share == pytest.approx(47 / 80)
    assert effect.on.satellites_mean == pytest.approx((47 * 4 + 33 * 14) / 80)
    assert (effect.on.eph_median_m, effect.off.eph_median_m) == (9.0, 1.2)
    assert (effect.off.gps_degraded_share, effect.off.satellites_mean) == (0.0, 14.0)
    # 295 receive errors over 1.5 minutes on; none off
    assert effect.on.radio_rx_errors_per_min == pytest.approx(295 / 1.5)
    assert effect.off.radio_rx_errors_per_min == 0.0
    # the first activation took effect after 3 s (GPS at 103 s); the second never did
    assert effect.times_to_effect_s == [3.0, None]
    assert (effect.activations, effect.effective_activations) == (2, 1)
    assert effect.median_time_to_effect_s == 3.0
    # the last effect while on: GPS at 159 s, 500 + 1590 m away
    assert effect.effect_range_m == pytest.approx(2090.0)


def test_sequence_numbers_wrap_and_senders_are_apart() -> None:
    frames = pd.DataFrame({"t_s": [1.0, 2.0, 3.0, 1.5, 2.5],
                           "sender": [1, 1, 1, 2, 2], "seq": [254, 255, 1, 10, 11]})
    gaps = link_gaps(frames)
    assert gaps["lost"].tolist() == [0, 0, 1, 0, 0]
    # frames stamped alike (one scheduler tick) are ordered by their sequence numbers
    tick = pd.DataFrame({"t_s": [1.0, 1.0, 1.0, 2.0], "sender": 1, "seq": [0, 255, 254, 1]})
    assert link_gaps(tick)["lost"].sum() == 0


def test_senders_that_never_step_their_sequence_lose_nothing() -> None:
    # some autopilots (and tlogs) leave every sequence number at 0; a repeat is no loss either
    frames = pd.DataFrame({"t_s": [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0],
                           "sender": [1, 1, 1, 1, 2, 2, 2, 2, 2],
                           "seq": [0, 0, 0, 0, 5, 5, 6, 9, 9]})
    assert link_gaps(frames)["lost"].tolist() == [0, 0, 0, 0, 0, 0, 0, 2, 0]


def test_no_activation_no_effect() -> None:
    effect = ew_effect(ACTIVATIONS.iloc[:0], *stream())
    assert (effect.activations, effect.median_time_to_effect_s, effect.effect_range_m) == (
        0, None, None)
    assert effect.on.link_loss_rate is None and effect.off.frames_lost == 10


def test_engineer_figures_are_coarse_and_carry_no_clock() -> None:
    figures = feedback_figures(ew_effect(ACTIVATIONS, *stream()))
    assert figures["effect_range_m"] == 2090.0 and figures["times_to_effect_s"] == [3.0, None]
    assert figures["on"]["duration_s"] == 90.0
    numbers = [v for side in ("on", "off") for v in figures[side].values()] + [
        v for v in figures.values() if isinstance(v, float)]
    assert max(numbers) < 1e6  # no UNIX time among them


def test_no_clock_time_leaves_in_the_detection_figures_either() -> None:
    t = np.arange(0, 50.0) + 1.7e9
    truth = pd.DataFrame({"target": 1, "t_s": t, "east_m": 900.0, "north_m": 0.0, "up_m": 0.0})
    seen = truth.drop(columns="target").assign(classification="uav")
    figures = detection_figures(score_detections(truth, seen))
    assert figures["time_to_first_detection_s"] == 0.0 and figures["epochs"] == 50
    assert all(not isinstance(v, float) or v < 1e6 for v in figures.values())
