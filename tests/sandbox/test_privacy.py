from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from sandbox.anonymise import iso_week
from sandbox.privacy import (
    MAX_ENGAGEMENTS_PER_PERSON,
    RATINGS,
    bounded,
    local_polygon,
    noisy_counts,
    private_aggregates,
    week_of,
)


def engagements(people: int, per_person: int, pk: float) -> pd.DataFrame:
    rows = []
    for person in range(people):
        hits = round(per_person * pk)
        rows += [{"person": person, "version": "1.0.0", "period": "2026-W45",
                  "outcome": "intercept", "rows": hits},
                 {"person": person, "version": "1.0.0", "period": "2026-W45",
                  "outcome": "miss", "rows": per_person - hits}]
    return pd.DataFrame(rows)


NO_REPORTS = pd.DataFrame(columns=["person", "version", "period", *RATINGS])


def test_noise_is_scaled_by_opendp_and_centred() -> None:
    draws = np.array([noisy_counts([1000], sensitivity=10, epsilon=1.0)[0]
                      for _ in range(400)])
    assert abs(draws.mean() - 1000) < 3  # scale 10: standard error about 0.7
    assert 8 < np.abs(draws - 1000).mean() < 12  # mean absolute deviation = scale


def test_each_soldier_counts_at_most_the_bound() -> None:
    frame = pd.DataFrame({"person": [1, 1, 2], "rows": [40, 40, 5],
                          "version": "1", "period": "p", "outcome": "miss"})
    assert bounded(frame, MAX_ENGAGEMENTS_PER_PERSON)["rows"].tolist() == [40, 10, 5]


def test_aggregates_answer_every_cell_and_stay_near_the_truth_with_many_soldiers() -> None:
    cells = private_aggregates(engagements(200, 40, 0.75), NO_REPORTS,
                               versions=["1.0.0", "1.1.0"], periods=["2026-W44", "2026-W45"],
                               epsilon=1.0)
    assert [(c["version"], c["period"]) for c in cells] == [
        ("1.0.0", "2026-W44"), ("1.0.0", "2026-W45"), ("1.1.0", "2026-W44"),
        ("1.1.0", "2026-W45")]
    busy = cells[1]
    assert busy["pk"] == pytest.approx(0.75, abs=0.08)  # noise sd about 0.014
    assert busy["engagements"] == pytest.approx(8000, rel=0.15)  # noise sd about 200
    assert all(c["engagements"] >= 0 and (c["pk"] is None or 0 <= c["pk"] <= 1) for c in cells)


def test_a_rating_is_averaged_over_the_reports_that_give_it() -> None:
    """Half the soldiers rate wind 2, the others leave it blank and rate only build quality:
    the blanks count neither as 0 nor as a report for wind."""
    rows = [{"person": p, "version": "1.0.0", "period": "2026-W45", **dict.fromkeys(RATINGS),
             **({"wind_behaviour": 2} if p % 2 else {"build_quality": 5})} for p in range(20_000)]
    cell = private_aggregates(engagements(1, 1, 1.0), pd.DataFrame(rows), versions=["1.0.0"],
                              periods=["2026-W45"], epsilon=20.0)[0]
    assert cell["wind_behaviour"] == pytest.approx(2.0, abs=0.05)  # noise sd about 0.01
    assert cell["build_quality"] == pytest.approx(5.0, abs=0.05)  # noise sd about 0.01
    assert cell["reports"] == pytest.approx(20_000, rel=0.01)  # noise scale 21.5
    assert set(RATINGS) <= set(cell)


def test_one_soldier_does_not_show_through() -> None:
    """With one soldier in a cell the answer is mostly noise: the guarantee, seen."""
    alone = [private_aggregates(engagements(1, 10, 1.0), NO_REPORTS, versions=["1.0.0"],
                                periods=["2026-W45"], epsilon=0.5)[0]["intercepts"]
             for _ in range(200)]
    assert np.std(alone) > 50


def test_a_geofence_keeps_its_shape_and_loses_its_place() -> None:
    local = local_polygon([(50.0, 30.0), (50.001, 30.0), (50.001, 30.0014)])
    assert len(local) == 3 and all(abs(v) < 120 for point in local for v in point)
    assert local_polygon([(10.0, 10.0), (10.001, 10.0), (10.001, 10.0014)]) != local


@pytest.mark.parametrize("moment", [
    datetime(2026, 12, 31, 23, 59), datetime(2027, 1, 1, 0, 30), datetime(2020, 12, 31, 12),
    datetime(2021, 1, 3, 23, 59, 59), datetime(2026, 6, 15, 8),
    datetime(2027, 1, 4, 0, 30, tzinfo=timezone(timedelta(hours=3))),  # Sunday 21:30 UTC
    datetime(2026, 12, 27, 23, 30, tzinfo=timezone(timedelta(hours=-2)))])  # Monday in UTC
def test_week_of_one_moment_matches_the_exports_weeks(moment: datetime) -> None:
    assert week_of(moment) == iso_week(pd.Series([moment])).iloc[0]
    assert week_of(None) is None
