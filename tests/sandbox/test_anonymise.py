import hashlib
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.anonymise import (
    AnonymisationError,
    anonymise_feedback,
    check_anonymous,
    company_key,
    enforce_k_anonymity,
    pseudonym,
    trial_origin,
)
from telemetry.redact import redact_telemetry

MASTER = b"m" * 32
NAMES = st.from_regex(r"[A-Z][a-z]{3,9}( [A-Z][a-z]{3,9})?", fullmatch=True)
UNITS = st.from_regex(r"(Unit|Brigade|Battalion) [A-Z][a-z]{3,8}", fullmatch=True)
COORDS = st.builds(lambda a, b: f"{a:.4f}, {b:.4f}", st.floats(44, 52), st.floats(22, 40))
MGRS = st.from_regex(r"3[5-7]U [A-Z]{2} \d{5} \d{5}", fullmatch=True)
EMAILS = st.from_regex(r"[a-z]{3,8}@[a-z]{3,8}\.(ua|be|org)", fullmatch=True)
PHONES = st.from_regex(r"\+380 \d{2} \d{3} \d{4}", fullmatch=True)


def engagement_rows(units: list[str], soldiers: list[str], n: int) -> pd.DataFrame:
    start = datetime(2026, 11, 2, tzinfo=UTC)
    return pd.DataFrame({
        "trial_id": [i % 4 for i in range(n)], "trial_kind": "field", "version": "1.0.0",
        "unit_name": [units[i % len(units)] for i in range(n)], "unit_kind": "unit",
        "region": ["East" if i % 2 else "North" for i in range(n)],
        "started_at": [start + timedelta(days=i % 10) for i in range(n)],
        "threat_kind": "shahed_136",
        "outcome": ["intercept" if i % 3 else "miss" for i in range(n)],
        "interceptors_used": 1, "time_to_intercept_s": 30.0})


def report_rows(units: list[str], soldiers: list[str], texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "trial_id": list(range(len(texts))), "version": "1.0.0",
        "author_name": [soldiers[i % len(soldiers)] for i in range(len(texts))],
        "unit_name": [units[i % len(units)] for i in range(len(texts))], "region": "East",
        "created_at": [datetime(2026, 11, 3, tzinfo=UTC)] * len(texts),
        "effectiveness": 4, "ease_of_use": 3, "reliability": 5, "text": texts})


@given(soldiers=st.lists(NAMES, min_size=1, max_size=4, unique=True),
       units=st.lists(UNITS, min_size=1, max_size=3, unique=True),
       place=st.one_of(COORDS, MGRS), email=EMAILS, phone=PHONES,
       n=st.integers(0, 60))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_nothing_identifying_leaves_and_k_anonymity_holds(soldiers, units, place, email, phone,
                                                          n) -> None:
    texts = [f"{soldiers[0]} of {units[0]} saw it at {place}; call {phone} or {email}.",
             f"Callsign {soldiers[-1].split()[0]} lost link near {place}"]
    export = anonymise_feedback(engagement_rows(units, soldiers, n),
                                report_rows(units, soldiers, texts),
                                key=company_key(MASTER, 1), roster=soldiers + units)
    everything = " ".join(export.engagements.astype(str).to_numpy().ravel().tolist()
                          + export.reports.astype(str).to_numpy().ravel().tolist())
    for secret in [*soldiers, *units, place, email, phone]:
        assert secret.lower() not in everything.lower()
    free_text = " ".join(export.reports["text"]).split()
    for token in (t for name in soldiers + units for t in name.split() if len(t) >= 3):
        assert not any(word.strip(".,;()").lower() == token.lower() for word in free_text)
    check_anonymous(export.engagements, quasi_identifiers=["unit", "unit_kind", "region", "week"],
                    k=5, l=2, sensitive="outcome")
    counts = export.engagements.groupby(["unit", "unit_kind", "region", "week"]).size()
    assert (counts >= 5).all()


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


def test_two_companies_exports_share_no_pseudonym() -> None:
    units, soldiers = ["Unit Alpha", "Unit Bravo"], ["Ivan Petrenko"]
    rows = engagement_rows(units, soldiers, 40)
    first = anonymise_feedback(rows, report_rows(units, soldiers, []),
                               key=company_key(MASTER, 1), roster=units)
    second = anonymise_feedback(rows, report_rows(units, soldiers, []),
                                key=company_key(MASTER, 2), roster=units)
    values = {column: set(first.engagements[column]) for column in ("trial", "unit")}
    for column, seen in values.items():
        assert seen.isdisjoint(set(second.engagements[column]) - {"*"}), column
    again = anonymise_feedback(rows, report_rows(units, soldiers, []),
                               key=company_key(MASTER, 1), roster=units)
    assert first.engagements["trial"].tolist() == again.engagements["trial"].tolist()


def test_small_groups_are_generalised_then_suppressed() -> None:
    frame = pd.DataFrame({"unit": ["a"] * 6 + ["b"], "region": ["East"] * 6 + ["West"],
                          "week": ["2026-W45"] * 7, "unit_kind": "unit",
                          "outcome": ["intercept", "miss"] * 3 + ["miss"]})
    kept, note = enforce_k_anonymity(frame, quasi_identifiers=["unit", "unit_kind", "region",
                                                                "week"],
                                     sensitive="outcome", k=5, l=2, max_suppressed=0.2)
    assert (len(kept), note.suppressed_rows, note.rows) == (6, 1, 7)
    assert note.generalised["week"] == "week"


def test_an_export_that_is_not_anonymous_is_refused() -> None:
    frame = pd.DataFrame({"unit": ["a", "b"], "week": ["w", "w"], "outcome": ["miss"] * 2})
    with pytest.raises(AnonymisationError, match="fewer than 5"):
        check_anonymous(frame, quasi_identifiers=["unit", "week"], k=5, l=1, sensitive=None)


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
