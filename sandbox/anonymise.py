"""Anonymised feedback for engineers: pure functions over DataFrames. No I/O.

What leaves: pseudonyms (keyed per company, so two companies' exports cannot be joined), free
text with names, contacts, positions and times removed, positions only as metres from a secret
per-trial origin, times as the ISO week of the trial (never a clock time).

Soldiers' feedback is released in batches. A batch is cut when the rows that arrived since the
last one can be generalised so that every combination of quasi-identifiers (unit, unit kind,
region, week: all properties of the trial, the same in every part) is shared by at least k
distinct people (the soldier who logged the trial; the author of a report) and, for
engagements, l outcomes; otherwise they wait. Comparing two exports therefore shows whole
batches, never one report. Generalisation levels never fall from one batch to the next and
every batch is shown at the latest levels: a coarsening of a k-anonymous set is k-anonymous,
so everything an engineer holds, old exports included, stays so.
"""

import hashlib
import hmac
import math
from collections.abc import Callable

import pandas as pd


class AnonymisationError(Exception):
    """The export would not be anonymous; it is refused, never sent."""


def company_key(master_secret: bytes, company_id: int) -> bytes:
    return hmac.new(master_secret, f"company-pseudonym-key:{company_id}".encode(),
                    hashlib.sha256).digest()


def pseudonym(value: str, *, key: bytes, kind: str) -> str:
    digest = hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}-{digest[:12]}"


# --- places and times ----------------------------------------------------------------------

def trial_origin(secret: bytes, trial_id: int, lat: float, lon: float) -> tuple[float, float]:
    """A secret origin 5–15 km from the real site, fixed per trial."""
    digest = hmac.new(secret, f"trial-origin:{trial_id}".encode(), hashlib.sha256).digest()
    bearing = int.from_bytes(digest[:4], "big") / 2**32 * 2 * math.pi
    distance_m = 5_000 + int.from_bytes(digest[4:8], "big") / 2**32 * 10_000
    north, east = distance_m * math.cos(bearing), distance_m * math.sin(bearing)
    return (lat + north / 111_320.0,
            lon + east / (111_320.0 * max(math.cos(math.radians(lat)), 1e-6)))


def iso_week(moments: pd.Series) -> pd.Series:
    calendar = pd.to_datetime(moments, utc=True).dt.isocalendar()
    return calendar["year"].astype(str) + "-W" + calendar["week"].astype(str).str.zfill(2)



# --- k-anonymity and l-diversity -----------------------------------------------------------

QUASI_IDENTIFIERS = ["unit", "unit_kind", "region", "week"]
Levels = dict[str, int]


def _month(week: str) -> str:
    if week in ("*", "none"):
        return week
    year, number = week.split("-W")
    return pd.Timestamp.fromisocalendar(int(year), int(number), 1).strftime("%Y-%m")


def _hide(_value: str) -> str:
    return "*"


def _same(value: str) -> str:
    return value


# Each quasi-identifier coarsens step by step; the last step hides it.
HIERARCHIES: dict[str, list[Callable[[str], str]]] = {
    "week": [_same, _month, _hide], "region": [_same, _hide], "unit": [_same, _hide],
    "unit_kind": [_same, _hide]}
LEVEL_NAMES = {"week": ["week", "month", "hidden"]}
FINEST: Levels = {q: 0 for q in QUASI_IDENTIFIERS}


def level_names(levels: Levels) -> dict[str, str]:
    return {q: LEVEL_NAMES.get(q, ["exact", "hidden"])[step] for q, step in levels.items()}


def generalise(frame: pd.DataFrame, levels: Levels) -> pd.DataFrame:
    """A copy of `frame` with each quasi-identifier coarsened to its level."""
    out = frame.copy()
    for q, step in levels.items():
        if q in out:
            out[q] = out[q].astype(str).map(HIERARCHIES[q][step])
    return out


def failing_classes(frame: pd.DataFrame, *, k: int, l: int,  # noqa: E741
                    sensitive: str | None, person: str = "person") -> pd.Series:
    """Mask of rows whose class has fewer than k distinct people or l distinct `sensitive`."""
    if frame.empty:
        return pd.Series(dtype=bool)
    groups = frame.groupby(QUASI_IDENTIFIERS, dropna=False, sort=False)
    small = groups[person].transform("nunique") < k
    if sensitive is None or l <= 1:
        return small
    return small | (groups[sensitive].transform("nunique") < l)


def plan_levels(pending: pd.DataFrame, *, floor: Levels, k: int, l: int,  # noqa: E741
                sensitive: str | None, max_suppressed: float = 0.1) -> Levels | None:
    """The finest levels, no finer than `floor`, at which `pending` (one row per trial and
    outcome, or per report, with a `rows` count) can be released with at most
    `max_suppressed` of its rows held out; None when even hiding everything leaves fewer than
    k people or l outcomes: then nothing is released yet."""
    if pending.empty:
        return None
    depth = max(len(steps) for steps in HIERARCHIES.values())
    for level in range(depth):
        levels = {q: max(floor.get(q, 0), min(level, len(HIERARCHIES[q]) - 1))
                  for q in QUASI_IDENTIFIERS}
        failing = failing_classes(generalise(pending, levels), k=k, l=l, sensitive=sensitive)
        if pending["rows"][failing].sum() <= max_suppressed * pending["rows"].sum():
            return levels
    return None


def coarsest(*levels: Levels) -> Levels:
    return {q: max(level.get(q, 0) for level in levels) for q in QUASI_IDENTIFIERS}


def check_anonymous(frame: pd.DataFrame, *, k: int, l: int,  # noqa: E741
                    sensitive: str | None, person: str = "person") -> None:
    """The final gate before anything leaves: refuse rather than send."""
    if frame.empty:
        return
    if failing_classes(frame, k=k, l=l, sensitive=sensitive, person=person).any():
        raise AnonymisationError(f"export refused: a combination of {QUASI_IDENTIFIERS} is "
                                 f"shared by fewer than {k} people or {l} outcomes")


def row_order_key(key: bytes) -> tuple[int, int]:
    """(multiplier, modulus) of a keyed permutation of row ids: rows leave in this order, not
    in the order they arrived, so a batch does not tell which of its rows came last."""
    multiplier = int.from_bytes(hmac.new(key, b"row-order", hashlib.sha256).digest()[:4], "big")
    return multiplier % (2**31 - 1) | 1, 2_147_483_629  # a prime below 2**31
