import hashlib
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.anonymise import (
    FINEST,
    AnonymisationError,
    check_anonymous,
    company_key,
    failing_classes,
    generalise,
    plan_levels,
    pseudonym,
    trial_origin,
)
from telemetry.redact import redact_telemetry

MASTER = b"m" * 32


def pending(people: list[str], *, regions: list[str] | None = None,
            outcomes: tuple[str, ...] = ("intercept", "miss")) -> pd.DataFrame:
    """One row per trial and outcome, as sandbox.feedback summarises what waits."""
    rows = []
    for i, person in enumerate(people):
        for outcome in outcomes:
            rows.append({"unit": "unit-a", "unit_kind": "unit",
                         "region": (regions or ["East"])[i % len(regions or ["East"])],
                         "week": "2026-W45", "person": person, "outcome": outcome, "rows": 3})
    return pd.DataFrame(rows)


def test_k_counts_people_not_rows() -> None:
    assert plan_levels(pending(["ivan"] * 5), floor=FINEST, k=5, l=2,
                       sensitive="outcome") is None
    assert plan_levels(pending([f"p{i}" for i in range(5)]), floor=FINEST, k=5, l=2,
                       sensitive="outcome") == FINEST


def test_l_counts_outcomes() -> None:
    people = [f"p{i}" for i in range(6)]
    assert plan_levels(pending(people, outcomes=("intercept",)), floor=FINEST, k=5, l=2,
                       sensitive="outcome") is None


def test_a_rare_region_generalises_rather_than_leaks() -> None:
    people = [f"p{i}" for i in range(6)]
    levels = plan_levels(pending(people, regions=["East"] * 5 + ["West"]), floor=FINEST,
                         k=5, l=2, sensitive="outcome", max_suppressed=0.0)
    assert levels is not None and levels["region"] == 1
    shown = generalise(pending(people, regions=["East"] * 5 + ["West"]), levels)
    assert set(shown["region"]) == {"*"}
    assert not failing_classes(shown, k=5, l=2, sensitive="outcome").any()


def test_levels_never_fall_below_the_last_batch() -> None:
    floor = {**FINEST, "week": 1}
    levels = plan_levels(pending([f"p{i}" for i in range(5)]), floor=floor, k=5, l=2,
                         sensitive="outcome")
    assert levels == floor
    assert generalise(pending(["p"]), levels)["week"].tolist() == ["2026-11", "2026-11"]


@given(people=st.lists(st.sampled_from([f"p{i}" for i in range(12)]), min_size=1,
                       max_size=40),
       regions=st.lists(st.sampled_from(["East", "West", "North"]), min_size=1, max_size=3),
       k=st.integers(2, 6))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_what_a_plan_releases_is_k_anonymous_in_people(people, regions, k) -> None:
    frame = pending(people, regions=regions)
    levels = plan_levels(frame, floor=FINEST, k=k, l=2, sensitive="outcome")
    if levels is None:
        assert frame["person"].nunique() < k or len(set(people)) < k
        return
    shown = generalise(frame, levels)
    kept = shown[~failing_classes(shown, k=k, l=2, sensitive="outcome")]
    check_anonymous(kept, k=k, l=2, sensitive="outcome")
    assert kept["rows"].sum() >= 0.9 * frame["rows"].sum()


def test_an_export_that_is_not_anonymous_is_refused() -> None:
    frame = pending(["a", "b"])
    with pytest.raises(AnonymisationError, match="fewer than 5 people"):
        check_anonymous(frame, k=5, l=1, sensitive=None)


def test_pseudonyms_resist_a_dictionary_attack_with_the_full_roster() -> None:
    roster = [f"soldier{i}" for i in range(200)]
    key = company_key(MASTER, 7)
    exported = {pseudonym(name, key=key, kind="soldier") for name in roster[:50]}
    guesses = set()
    for name in roster:
        guesses.add(f"soldier-{hashlib.sha256(name.encode()).hexdigest()[:12]}")
        guesses.add(f"soldier-{hashlib.sha256(f'soldier:{name}'.encode()).hexdigest()[:12]}")
        guesses.add(pseudonym(name, key=company_key(b"guessed master" * 3, 7), kind="soldier"))
        guesses.add(pseudonym(name, key=company_key(MASTER, 8), kind="soldier"))
    assert exported.isdisjoint(guesses)


def test_the_mean_of_an_exported_track_is_nowhere_near_the_site() -> None:
    site = (48.5, 35.0)
    t = np.arange(200)
    frames = {"GLOBAL_POSITION_INT": pd.DataFrame({
        "time_boot_ms": t * 100, "lat": np.round((site[0] + 0.001 * np.sin(t / 10)) * 1e7),
        "lon": np.round((site[1] + 0.001 * np.cos(t / 10)) * 1e7), "alt": 100_000,
        "relative_alt": 50_000, "vx": 0, "vy": 0, "vz": 0, "hdg": 0}),
        "HOME_POSITION": pd.DataFrame({"latitude": [int(site[0] * 1e7)]})}
    origin = trial_origin(b"s" * 32, 42, *site)
    out = redact_telemetry(frames, origin=(*origin, 0.0))
    assert set(out) == {"GLOBAL_POSITION_INT"}
    track = out["GLOBAL_POSITION_INT"]
    assert "lat" not in track and "lon" not in track
    assert math.hypot(track["east_m"].mean(), track["north_m"].mean()) > 1_000
    assert trial_origin(b"s" * 32, 42, *site) == origin
    assert trial_origin(b"s" * 32, 43, *site) != origin
