"""Score aggregates: kept as engagements are written, read by every score, rebuilt on demand.

`add` runs in the transaction that writes the engagements, once per batch: one upsert per
table whose values add to the stored ones (INSERT … ON CONFLICT DO UPDATE SET n = n + new n),
which PostgreSQL and SQLite both apply atomically per row, so concurrent writers never lose
an increment. Rows go in key order, so two writers lock them in the same order and cannot
deadlock. `rebuild` recomputes everything from the engagements with GROUP BY.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from sandbox.models import Engagement, ScoreAggregate, ScoreTimeBin, Trial, TrialOutcomeCount
from sandbox.scoring import (
    COUNTED,
    OUTCOME_COUNTS,
    TIME_BIN_EDGES_S,
    Condition,
    Tally,
    tally_by_threat_kind,
)

KEY = ("version_id", "trial_kind", "scenario", "threat_kind")
BIN_KEY = (*KEY, "bin")
OUTCOME_KEY = ("trial_id", "outcome")


def add(session: Session, *, trial: Trial, engagements: pd.DataFrame) -> None:
    """Add a batch of the trial's engagements to its aggregates (the caller commits)."""
    tallies = sorted(tally_by_threat_kind(engagements).items())
    where = {"version_id": trial.version_id, "trial_kind": str(trial.kind),
             "scenario": trial.scenario}
    _upsert(session, ScoreAggregate, KEY, [
        {**where, "threat_kind": kind, **{name: getattr(item, name) for name in COUNTED}}
        for kind, item in tallies])
    _upsert(session, ScoreTimeBin, BIN_KEY, [
        {**where, "threat_kind": kind, "bin": index, "intercepts": count}
        for kind, item in tallies for index, count in item.time_bins])
    per_outcome = {outcome: sum(getattr(item, column) for _, item in tallies)
                   for outcome, column in OUTCOME_COUNTS.items()}
    _upsert(session, TrialOutcomeCount, OUTCOME_KEY, [
        {"trial_id": trial.id, "outcome": outcome, "engagements": n}
        for outcome, n in sorted(per_outcome.items()) if n])


def _upsert(session: Session, model: Any, key: tuple[str, ...],
            rows: list[dict[str, Any]]) -> None:
    if rows:
        statement = _adding(session.get_bind().dialect.name, model, key, tuple(rows[0]))
        session.execute(statement, rows)


@lru_cache(maxsize=16)
def _adding(dialect: str, model: Any, key: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    """INSERT … ON CONFLICT DO UPDATE adding the new values to the stored ones, built once:
    run as executemany, it compiles once too (multi-row VALUES would compile per size)."""
    table = model.__table__
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    return statement.on_conflict_do_update(index_elements=list(key), set_={
        name: table.c[name] + statement.excluded[name] for name in columns if name not in key})


# --- reading -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """Which conditions to read; None reads all."""

    version_ids: Any = None  # a sequence of ids or a SELECT of them
    scenario: str | None = None
    threat_kind: str | None = None
    trial_kind: str | None = None

    def conditions(self, model: Any) -> list[ColumnElement[bool]]:
        found = [] if self.version_ids is None else [col(model.version_id).in_(self.version_ids)]
        for name in ("scenario", "threat_kind", "trial_kind"):
            if getattr(self, name) is not None:
                found.append(getattr(model, name) == getattr(self, name))
        return found


Tallies = dict[tuple[int, Condition], Tally]


def read(session: Session, scope: Scope = Scope(), *, less: Any = None) -> Tallies:
    """The tallies of every condition in scope, keyed by (version id, condition).

    `less`, a SELECT of engagement rows, is taken out of the tallies in the same statement
    (hence from the same snapshot: an engagement committed meanwhile is never subtracted
    from totals that do not hold it); a condition left with no engagement is absent."""
    bins = _bins(scope, less)
    # each condition's histogram comes as one "bin:count,…" text: thousands of bin rows
    # would cost more to turn into Python objects than the whole rest of a board
    histograms = select(*(bins.c[name] for name in KEY), func.aggregate_strings(
        cast(bins.c.bin, String) + ":" + cast(bins.c.intercepts, String), ",")
        .label("histogram")).group_by(*(bins.c[name] for name in KEY)).subquery()
    counts = _counts(scope, less)
    query = select(*(counts.c[name] for name in (*KEY, *COUNTED)), histograms.c.histogram) \
        .select_from(counts.outerjoin(histograms, and_(
            *(counts.c[name] == histograms.c[name] for name in KEY))))
    found: Tallies = {}
    for row in session.connection().execute(query).all():
        version_id, trial_kind, scenario, threat_kind = row[:len(KEY)]
        found[(version_id, Condition(str(trial_kind), scenario, threat_kind))] = Tally(
            **dict(zip(COUNTED, (int(n) for n in row[len(KEY):-1]), strict=True)),
            time_bins=_histogram(row[-1]))
    return found


def _counts(scope: Scope, less: Any) -> Any:
    kept = select(*(getattr(ScoreAggregate, name) for name in (*KEY, *COUNTED))) \
        .where(*scope.conditions(ScoreAggregate))
    if less is None:
        return kept.subquery()
    taken = recount(less.subquery(), Trial.__table__)["score_aggregate"]  # type: ignore[attr-defined]
    return _net(kept, taken, KEY, COUNTED, "engagements")


def _bins(scope: Scope, less: Any) -> Any:
    kept = select(*(getattr(ScoreTimeBin, name) for name in (*BIN_KEY, "intercepts"))) \
        .where(*scope.conditions(ScoreTimeBin))
    if less is None:
        return kept.subquery()
    taken = recount(less.subquery(), Trial.__table__)["score_time_bin"]  # type: ignore[attr-defined]
    return _net(kept, taken, BIN_KEY, ("intercepts",), "intercepts")


def _net(kept: Any, taken: Any, key: tuple[str, ...], counted: tuple[str, ...],
         present: str) -> Any:
    """Kept rows less the recounted ones, by key (both in key-then-counts column order)."""
    taken = taken.subquery()
    rows = union_all(kept, select(*list(taken.c)[:len(key)],
                                  *(-value for value in list(taken.c)[len(key):]))).subquery()
    # sums of BIGINT are NUMERIC on PostgreSQL: cast back, the tallies count in integers
    return select(*(rows.c[name] for name in key),
                  *(cast(func.sum(rows.c[name]), BigInteger).label(name) for name in counted)) \
        .group_by(*(rows.c[name] for name in key)).having(func.sum(rows.c[present]) > 0) \
        .subquery()


@lru_cache(maxsize=1_024)  # a condition's histogram text recurs until its next engagement
def _histogram(text: str | None) -> tuple[tuple[int, int], ...]:
    if not text:
        return ()
    pairs = np.array(text.replace(":", ",").split(","), dtype=np.int64).reshape(-1, 2)
    return tuple(map(tuple, pairs[np.argsort(pairs[:, 0])].tolist()))


def trial_outcomes(session: Session, trial_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Engagements by outcome of each trial."""
    found: dict[int, dict[str, int]] = {}
    for trial_id, outcome, n in session.execute(
            select(TrialOutcomeCount.trial_id, TrialOutcomeCount.outcome,
                   TrialOutcomeCount.engagements)
            .where(col(TrialOutcomeCount.trial_id).in_(list(trial_ids)))):
        found.setdefault(trial_id, {})[str(outcome)] = n
    return found


# --- rebuilding ----------------------------------------------------------------------------

Rows = dict[str, set[tuple[Any, ...]]]  # table -> rows


def time_bin_sql(seconds: Any, low: int = 0, high: int = len(TIME_BIN_EDGES_S)) -> Any:
    """The bin of `seconds` in SQL, as `scoring.time_bin` finds it: a binary search over the
    same edges (bound as exact doubles), eight comparisons deep."""
    if high - low == 1:
        return literal(low)
    middle = (low + high) // 2
    return case((seconds < TIME_BIN_EDGES_S[middle], time_bin_sql(seconds, low, middle)),
                else_=time_bin_sql(seconds, middle, high))


def recount(engagement: Any, trial: Any) -> dict[str, Any]:
    """Per aggregate table, the SELECT recomputing its rows (in `TABLES` column order) from
    the engagements, grouped in the database. Takes the two tables (a migration passes its
    own lightweight ones)."""
    e, t = engagement.c, trial.c
    condition = (t.version_id, t.kind, t.scenario, e.threat_kind)
    joined = select().select_from(engagement.join(trial, t.id == e.trial_id))
    counts = [func.count(), *(func.sum(case((e.outcome == outcome, 1), else_=0))
                              for outcome in OUTCOME_COUNTS),
              func.sum(e.interceptors_used), func.sum(func.coalesce(e.operating_cost_cents, 0)),
              func.sum(e.threat_cost_cents)]
    # binned in a subquery: a GROUP BY on the CASE itself would bind its edges twice, and
    # PostgreSQL would not see the two as the same expression
    binned = joined.add_columns(*condition, time_bin_sql(e.time_to_intercept_s).label("bin")) \
        .where(e.outcome == "intercept", e.time_to_intercept_s.is_not(None)).subquery()
    return {"score_aggregate": joined.add_columns(*condition, *counts).group_by(*condition),
            "score_time_bin": select(*binned.c, func.count()).group_by(*binned.c),
            "trial_outcome_count": select(e.trial_id, e.outcome, func.count())
            .group_by(e.trial_id, e.outcome)}


def rebuilt(session: Session) -> Rows:
    """Every aggregate row recomputed from the engagements."""
    queries = recount(Engagement.__table__, Trial.__table__)  # type: ignore[attr-defined]
    return {name: _rows(session, query) for name, query in queries.items()}


TABLES = {"score_aggregate": (ScoreAggregate, (*KEY, *COUNTED)),
          "score_time_bin": (ScoreTimeBin, (*BIN_KEY, "intercepts")),
          "trial_outcome_count": (TrialOutcomeCount, (*OUTCOME_KEY, "engagements"))}


def maintained(session: Session) -> Rows:
    """Every aggregate row as kept."""
    return {name: _rows(session, select(*(getattr(model, c) for c in columns)))
            for name, (model, columns) in TABLES.items()}


def _rows(session: Session, query: Any) -> set[tuple[Any, ...]]:
    # PostgreSQL sums come back as Decimal and enums as str: compare plain ints and strings
    return {tuple(int(v) if not isinstance(v, str) else str(v) for v in row)
            for row in session.execute(query)}


@dataclass(frozen=True)
class Rebuild:
    conditions: int
    changed_rows: int  # rows that differed from the kept ones (missing, extra or unequal)


def rebuild(session: Session) -> Rebuild:
    """Replace every aggregate row by its recomputation, in one transaction (the caller
    commits); no engagement can be written meanwhile."""
    _hold_writers(session)
    fresh, kept = rebuilt(session), maintained(session)
    changed = sum(len(fresh[name] ^ kept[name]) for name in fresh)
    for name, (model, columns) in TABLES.items():
        session.execute(delete(model))
        rows = [dict(zip(columns, row, strict=True)) for row in sorted(fresh[name])]
        for start in range(0, len(rows), 1000):
            session.execute(model.__table__.insert(), rows[start:start + 1000])
    return Rebuild(conditions=len(fresh["score_aggregate"]), changed_rows=changed)


def _hold_writers(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # writers wait until this transaction ends; readers go on
        session.execute(text("LOCK TABLE engagement IN SHARE MODE"))
    else:  # the write lock first, so that what is read next is the latest
        session.execute(delete(TrialOutcomeCount).where(literal(False)))
