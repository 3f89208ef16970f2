"""A prototype's feedback as its company's engineers receive it: release batches (I/O here; the
anonymising rules are pure, in sandbox.anonymise) and the parts, streamed in chunks.

Rows of trials without a unit (the built-in simulator's, run for the company or the task
force) concern no soldier and leave as they come. Every other engagement and every report
waits for its batch (see sandbox.anonymise).
"""

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import BigInteger, ColumnElement, cast, func, literal
from sqlmodel import Session, col, select

from sandbox.anonymise import (
    FINEST,
    QUASI_IDENTIFIERS,
    AnonymisationError,
    Levels,
    check_anonymous,
    coarsest,
    company_key,
    failing_classes,
    generalise,
    iso_week,
    level_names,
    plan_levels,
    pseudonym,
    row_order_key,
)
from sandbox.models import (
    Engagement,
    FeedbackRelease,
    Organisation,
    Prototype,
    Report,
    Trial,
    User,
    Version,
)
from sandbox.models.registry import REPORT_RATINGS
from sandbox.scrub import scrub_text

ENGAGEMENT_COLUMNS = ["trial", "trial_kind", "version", *QUASI_IDENTIFIERS, "threat_kind",
                      "outcome", "interceptors_used", "time_to_intercept_s", "release"]
REPORT_COLUMNS = ["version", "soldier", *QUASI_IDENTIFIERS, *REPORT_RATINGS, "text", "release"]
CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class Batch:
    number: int
    engagements: tuple[int, int]  # ids in (after, upto]
    reports: tuple[int, int]
    levels: Levels
    withheld_trials: frozenset[int]  # suppressed: their class failed k or l in this batch
    withheld_reports: frozenset[int]


@dataclass(frozen=True)
class HeldBack:
    """Soldier feedback that arrived since the last batch and waits for the next one."""

    engagements: int
    reports: int
    people: int
    needed_people: int


@dataclass(frozen=True)
class FeedbackPlan:
    """Everything needed to write a prototype's anonymised feedback: plain data."""

    prototype_id: int
    key: bytes
    levels: Levels
    batches: list[Batch]
    held_back: HeldBack
    roster: tuple[str, ...]
    keep: tuple[str, ...]

    def note(self) -> dict[str, Any]:
        return {"batches": len(self.batches), "generalised": level_names(self.levels),
                "withheld_engagement_trials": sum(len(b.withheld_trials) for b in self.batches),
                "withheld_reports": sum(len(b.withheld_reports) for b in self.batches),
                "held_back": vars(self.held_back)}


# --- what waits for a batch ----------------------------------------------------------------

def _personal(prototype_id: int) -> list[ColumnElement[bool]]:
    return [col(Version.prototype_id) == prototype_id, col(Trial.unit_id).is_not(None)]


def _trial_columns() -> tuple[Any, ...]:
    return (Trial.id, Organisation.name, Organisation.kind, Organisation.region,
            Trial.started_at, func.coalesce(Trial.created_by_id, -col(Trial.id)))


def _with_qis(frame: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """Raw trial facts (unit name, kind, region, start) as the quasi-identifiers that leave."""
    frame["unit"] = _pseudonyms(frame["unit_name"], key, "unit")
    frame["unit_kind"] = frame["unit_kind"].fillna("none").astype(str)
    frame["region"] = frame["region"].fillna("unknown").astype(str)
    frame["week"] = iso_week(frame["started_at"]) if len(frame) else pd.Series(dtype=str)
    return frame


def engagement_summary(session: Session, prototype_id: int, key: bytes,
                       after: int, upto: int | None = None) -> pd.DataFrame:
    """Soldiers' engagements with ids in (after, upto], one row per trial and outcome."""
    where = [*_personal(prototype_id), col(Engagement.id) > after]
    if upto is not None:
        where.append(col(Engagement.id) <= upto)
    trial = _trial_columns()
    rows = session.exec(
        select(*trial, Engagement.outcome, func.count(), func.max(Engagement.id))
        .join(Trial, col(Trial.id) == col(Engagement.trial_id))
        .join(Version, col(Version.id) == col(Trial.version_id))
        .outerjoin(Organisation, col(Organisation.id) == col(Trial.unit_id))
        .where(*where).group_by(*trial, Engagement.outcome)).all()
    frame = pd.DataFrame(rows, columns=["trial_id", "unit_name", "unit_kind", "region",
                                        "started_at", "person", "outcome", "rows", "max_id"])
    return _with_qis(frame, key)


def report_summary(session: Session, prototype_id: int, key: bytes,
                   after: int, upto: int | None = None) -> pd.DataFrame:
    """Reports with ids in (after, upto], one row each."""
    where = [col(Version.prototype_id) == prototype_id, col(Report.id) > after]
    if upto is not None:
        where.append(col(Report.id) <= upto)
    rows = session.exec(
        select(Report.id, Organisation.name, Organisation.kind, Organisation.region,
               Trial.started_at, Report.author_id)
        .join(Trial, col(Trial.id) == col(Report.trial_id))
        .join(Version, col(Version.id) == col(Trial.version_id))
        .outerjoin(Organisation, col(Organisation.id) == col(Trial.unit_id))
        .where(*where)).all()
    frame = pd.DataFrame(rows, columns=["report_id", "unit_name", "unit_kind", "region",
                                        "started_at", "person"])
    frame["rows"] = 1
    return _with_qis(frame, key)


def _pseudonyms(values: pd.Series, key: bytes, kind: str) -> pd.Series:
    """One keyed hash per distinct value, not per row."""
    known = {v: pseudonym(str(v), key=key, kind=kind) if isinstance(v, str) and v else "none"
             for v in values.unique()}
    return values.map(known).fillna("none")


# --- cutting batches -----------------------------------------------------------------------

def releases(session: Session, prototype_id: int) -> list[FeedbackRelease]:
    return list(session.exec(select(FeedbackRelease).where(
        FeedbackRelease.prototype_id == prototype_id).order_by(col(FeedbackRelease.id))).all())


def cut_batch(*, session: Session, prototype: Prototype, key: bytes, k: int,
              l: int) -> FeedbackRelease | None:  # noqa: E741
    """Release what waits, if it can be released at k and l; commits when it does."""
    session.exec(select(Prototype).where(Prototype.id == prototype.id).with_for_update())
    done = releases(session, prototype.id or 0)
    last = done[-1] if done else FeedbackRelease(prototype_id=prototype.id or 0)
    floor = dict(last.levels or FINEST)
    engagements = engagement_summary(session, prototype.id or 0, key, last.engagement_upto)
    reports = report_summary(session, prototype.id or 0, key, last.report_upto)
    planned = {"engagements": plan_levels(engagements, floor=floor, k=k, l=l,
                                          sensitive="outcome"),
               "reports": plan_levels(reports, floor=floor, k=k, l=1, sensitive=None)}
    if not any(planned.values()):
        session.commit()  # ends the transaction, and with it the lock on the prototype
        return None
    levels = coarsest(floor, *[found for found in planned.values() if found])
    release = FeedbackRelease(
        prototype_id=prototype.id or 0, levels=levels,
        engagement_upto=(int(engagements["max_id"].max()) if planned["engagements"]
                         else last.engagement_upto),
        report_upto=int(reports["report_id"].max()) if planned["reports"] else last.report_upto,
        engagements=int(engagements["rows"].sum()) if planned["engagements"] else 0,
        reports=len(reports) if planned["reports"] else 0)
    session.add(release)
    session.commit()
    session.refresh(release)
    return release


def _batch(session: Session, prototype_id: int, key: bytes, number: int,
           bounds: tuple[FeedbackRelease, FeedbackRelease], k: int, l: int) -> Batch:  # noqa: E741
    before, release = bounds
    levels = dict(release.levels)
    engagements = engagement_summary(session, prototype_id, key, before.engagement_upto,
                                     release.engagement_upto)
    reports = report_summary(session, prototype_id, key, before.report_upto,
                             release.report_upto)
    failing_e = failing_classes(generalise(engagements, levels), k=k, l=l, sensitive="outcome")
    failing_r = failing_classes(generalise(reports, levels), k=k, l=1, sensitive=None)
    try:  # the final gate: what is released must pass, at this batch's levels
        check_anonymous(generalise(engagements[~failing_e], levels), k=k, l=l,
                        sensitive="outcome")
        check_anonymous(generalise(reports[~failing_r], levels), k=k, l=1, sensitive=None)
    except AnonymisationError as error:
        raise AnonymisationError(f"batch {number}: {error}") from error
    return Batch(number=number,
                 engagements=(before.engagement_upto, release.engagement_upto),
                 reports=(before.report_upto, release.report_upto), levels=levels,
                 withheld_trials=frozenset(int(t) for t in engagements["trial_id"][failing_e]),
                 withheld_reports=frozenset(int(r) for r in reports["report_id"][failing_r]))


def held_back(session: Session, prototype_id: int, key: bytes, last: FeedbackRelease,
              k: int) -> HeldBack:
    engagements = engagement_summary(session, prototype_id, key, last.engagement_upto)
    reports = report_summary(session, prototype_id, key, last.report_upto)
    people = set(engagements["person"]) | set(reports["person"])
    return HeldBack(engagements=int(engagements["rows"].sum()), reports=len(reports),
                    people=len(people), needed_people=k)


def released_trials(session: Session, prototype_id: int, *,
                    withheld_trials: frozenset[int] = frozenset(),
                    withheld_reports: frozenset[int] = frozenset()) -> set[int]:
    """Soldiers' trials (with a unit) whose feedback a released batch carries: one of their
    engagements or reports is at or below the prototype's last marks and not withheld. A
    sensor or jammer trial's figures leave with it; one that yields neither waits."""
    done = releases(session, prototype_id)
    if not done:
        return set()
    engaged = select(Engagement.trial_id).where(
        col(Engagement.id) <= done[-1].engagement_upto,
        col(Engagement.trial_id).not_in(sorted(withheld_trials)))
    reported = select(Report.trial_id).where(col(Report.id) <= done[-1].report_upto,
                                             col(Report.id).not_in(sorted(withheld_reports)))
    return set(session.exec(
        select(Trial.id).join(Version, col(Version.id) == col(Trial.version_id))
        .where(*_personal(prototype_id),
               col(Trial.id).in_(engaged) | col(Trial.id).in_(reported))).all()) - set(
        withheld_trials)


def release_status(*, session: Session, prototype: Prototype, master_secret: bytes,
                   k: int = 5, l: int = 2) -> tuple[int, HeldBack]:  # noqa: E741
    """Batches released so far (cutting one if due) and what waits for the next."""
    key = company_key(master_secret, prototype.organisation_id)
    cut_batch(session=session, prototype=prototype, key=key, k=k, l=l)
    done = releases(session, prototype.id or 0)
    last = done[-1] if done else FeedbackRelease(prototype_id=prototype.id or 0)
    return len(done), held_back(session, prototype.id or 0, key, last, k)


def feedback_plan(*, session: Session, prototype: Prototype, master_secret: bytes,
                  k: int = 5, l: int = 2) -> FeedbackPlan:  # noqa: E741
    """Cut a batch if one is due, then describe every batch released so far."""
    key = company_key(master_secret, prototype.organisation_id)
    cut_batch(session=session, prototype=prototype, key=key, k=k, l=l)
    done = releases(session, prototype.id or 0)
    start = FeedbackRelease(prototype_id=prototype.id or 0)
    bounds = list(zip([start, *done], done, strict=False))
    batches = [_batch(session, prototype.id or 0, key, n, pair, k, l)
               for n, pair in enumerate(bounds, 1)]
    levels = dict(done[-1].levels) if done else dict(FINEST)
    plan = FeedbackPlan(prototype_id=prototype.id or 0, key=key, levels=levels,
                        batches=batches,
                        held_back=held_back(session, prototype.id or 0, key,
                                            done[-1] if done else start, k),
                        roster=tuple(roster(session)),
                        keep=tuple(keep_words(session, prototype.organisation_id)))
    return plan


def roster(session: Session) -> list[str]:
    """Every name a free text could mention: users and organisations."""
    return ([name for name in session.exec(select(User.name)).all()]
            + [name for name in session.exec(select(Organisation.name)).all()])


def keep_words(session: Session, organisation_id: int) -> list[str]:
    """Capitalised words that are no one's name: the company's own prototype names."""
    names = session.exec(select(Prototype.name).where(
        Prototype.organisation_id == organisation_id)).all()
    return [word for name in names for word in name.split()]


# --- the parts, in chunks ------------------------------------------------------------------

def keyed_order(column: Any, order: tuple[int, int]) -> Any:
    """(id * multiplier) mod prime, in 64 bits (32 overflow on PostgreSQL)."""
    multiplier, modulus = order
    return (cast(column, BigInteger) * literal(multiplier, BigInteger)) % literal(
        modulus, BigInteger)


def trial_facts(session: Session, plan: FeedbackPlan) -> pd.DataFrame:
    """Per trial of the prototype, what its engagement rows show, generalised once: the
    history's rows then only carry a trial id (no join, no date conversion per row)."""
    rows = session.exec(
        select(Trial.id, Trial.kind, Version.version, Organisation.name, Organisation.kind,
               Organisation.region, Trial.started_at, Trial.unit_id)
        .join(Version, col(Version.id) == col(Trial.version_id))
        .outerjoin(Organisation, col(Organisation.id) == col(Trial.unit_id))
        .where(col(Version.prototype_id) == plan.prototype_id)).all()
    facts = _with_qis(pd.DataFrame(rows, columns=[
        "trial_id", "trial_kind", "version", "unit_name", "unit_kind", "region", "started_at",
        "unit_id"]), plan.key)
    personal = facts["unit_id"].notna()
    facts.loc[personal, QUASI_IDENTIFIERS] = generalise(
        facts.loc[personal, QUASI_IDENTIFIERS], plan.levels)
    facts.loc[~personal, ["unit", "unit_kind", "region"]] = "none"  # no soldier, no unit
    facts["trial"] = _pseudonyms(facts["trial_id"].astype(str), plan.key, "trial")
    facts["trial_kind"] = facts["trial_kind"].astype(str)
    return facts.set_index("trial_id")[["trial", "trial_kind", "version", *QUASI_IDENTIFIERS]]


def _engagement_query(trials: Any, where: Sequence[ColumnElement[bool]],
                      order: tuple[int, int]) -> Any:
    return (select(Engagement.trial_id, Engagement.threat_kind, Engagement.outcome,
                   Engagement.interceptors_used, Engagement.time_to_intercept_s)
            .where(col(Engagement.trial_id).in_(trials), *where)
            .order_by(keyed_order(col(Engagement.trial_id), order), col(Engagement.id)))


def _partitions(session: Session, query: Any, columns: list[str],
                chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Plain rows from a server-side cursor (no ORM objects), a chunk at a time."""
    result = session.connection().execute(query.execution_options(yield_per=chunk_rows))
    for rows in result.partitions():
        # tuples: pandas probes a Row's attributes, which costs more than the data
        yield pd.DataFrame.from_records([tuple(row) for row in rows], columns=columns)


RAW_ENGAGEMENT = ["trial_id", "threat_kind", "outcome", "interceptors_used",
                  "time_to_intercept_s"]


def engagement_chunks(session: Session, plan: FeedbackPlan,
                      chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """The engagements part, a chunk at a time: memory follows the chunk, not the history."""
    order, facts = row_order_key(plan.key), trial_facts(session, plan)
    trials = select(Trial.id).join(Version, col(Version.id) == col(Trial.version_id)).where(
        col(Version.prototype_id) == plan.prototype_id)
    unattended = _engagement_query(trials.where(col(Trial.unit_id).is_(None)), [], order)
    for raw in _partitions(session, unattended, RAW_ENGAGEMENT, chunk_rows):
        yield _engagement_rows(raw, facts, None)
    personal = trials.where(col(Trial.unit_id).is_not(None))
    for batch in plan.batches:
        after, upto = batch.engagements
        query = _engagement_query(personal, [col(Engagement.id) > after,
                                             col(Engagement.id) <= upto], order)
        for raw in _partitions(session, query, RAW_ENGAGEMENT, chunk_rows):
            kept = raw[~raw["trial_id"].isin(batch.withheld_trials)]
            if len(kept):
                yield _engagement_rows(kept, facts, batch.number)


def _engagement_rows(raw: pd.DataFrame, facts: pd.DataFrame,
                     release: int | None) -> pd.DataFrame:
    out = facts.reindex(raw["trial_id"].to_numpy()).reset_index(drop=True)
    out["threat_kind"] = raw["threat_kind"].astype(str).to_numpy()
    out["outcome"] = raw["outcome"].astype(str).to_numpy()
    out["interceptors_used"] = raw["interceptors_used"].astype("int64").to_numpy()
    out["time_to_intercept_s"] = raw["time_to_intercept_s"].astype(float).to_numpy()
    out["release"] = pd.array([release] * len(out), dtype="Int64")
    return out[ENGAGEMENT_COLUMNS]


def report_chunks(session: Session, plan: FeedbackPlan) -> Iterator[pd.DataFrame]:
    """The reports part, a batch at a time, texts scrubbed."""
    order = row_order_key(plan.key)
    fingerprint = _fingerprint(plan.roster, plan.keep)
    for batch in plan.batches:
        after, upto = batch.reports
        rows = session.exec(
            select(Version.version, Report.author_id, Organisation.name, Organisation.kind,
                   Organisation.region, Trial.started_at,
                   *(getattr(Report, rating) for rating in REPORT_RATINGS), Report.text,
                   Report.id)
            .join(Trial, col(Trial.id) == col(Report.trial_id))
            .join(Version, col(Version.id) == col(Trial.version_id))
            .outerjoin(Organisation, col(Organisation.id) == col(Trial.unit_id))
            .where(col(Version.prototype_id) == plan.prototype_id, col(Report.id) > after,
                   col(Report.id) <= upto,
                   col(Report.id).not_in(sorted(batch.withheld_reports)))
            .order_by(keyed_order(col(Report.id), order))).all()
        if rows:
            yield _report_rows(rows, plan, batch.number, fingerprint)


def _report_rows(rows: Sequence[Any], plan: FeedbackPlan, release: int,
                 fingerprint: str) -> pd.DataFrame:
    raw = pd.DataFrame(list(rows), columns=[
        "version", "author_id", "unit_name", "unit_kind", "region", "started_at",
        *REPORT_RATINGS, "text", "report_id"])
    out = generalise(_with_qis(raw, plan.key), plan.levels)
    for rating in REPORT_RATINGS:  # optional: an empty cell, never NaN or a made-up 0
        out[rating] = pd.array(out[rating], dtype="Int64")
    out["soldier"] = [pseudonym(str(a), key=plan.key, kind="soldier") for a in out["author_id"]]
    out["text"] = [_scrubbed(str(t), fingerprint, plan.roster, plan.keep) for t in out["text"]]
    out["release"] = pd.array([release] * len(out), dtype="Int64")
    return out[REPORT_COLUMNS]


def _fingerprint(names: Iterable[str], keep: Iterable[str]) -> str:
    return hashlib.sha256("\x00".join([*sorted(names), "\x01", *sorted(keep)]).encode()
                          ).hexdigest()


_SCRUBBED: dict[tuple[str, str], str] = {}


def _scrubbed(text: str, fingerprint: str, names: tuple[str, ...], keep: tuple[str, ...]) -> str:
    """Scrubbing costs milliseconds a text: remembered per roster, as texts never change."""
    found = _SCRUBBED.get((text, fingerprint))
    if found is None:
        if len(_SCRUBBED) > 100_000:
            _SCRUBBED.clear()
        found = _SCRUBBED[(text, fingerprint)] = scrub_text(text, roster=names, keep=keep)
    return found


def frame_of(chunks: Iterable[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """A whole part in memory (pages, tests): small parts only."""
    parts = list(chunks)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
