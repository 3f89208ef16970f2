"""What a version has been tried on and what its gates still need: its score aggregates, the
simulator's scenario and threat libraries, the readiness gates and (for the task force) its
trials and flight hours. The pure parts are in sandbox.coverage."""

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from hub.flows.flights import VersionFlights, version_flights
from hub.flows.score_view import session_view
from sandbox import decisions, service
from sandbox.coverage import (
    TRIAL_KINDS,
    CoverageRow,
    Need,
    coverage_rows,
    gate_needs,
    threat_kinds_missing,
)
from sandbox.decisions import Readiness
from sandbox.models import Prototype, Trial, Version
from sandbox.readiness import Evidence
from sandbox.scoring import Score
from simulators.scenario import list_scenarios, load_scenario
from simulators.threats import THREATS
from telemetry.objects import Storage


@dataclass(frozen=True)
class TaskForceFigures:
    """What only the task force sees: trials name units and places, sessions their times."""

    trials: dict[str, int]  # by trial kind
    flights: VersionFlights
    flight_hours: dict[str, float]  # by trial kind


@dataclass(frozen=True)
class Coverage:
    prototype: Prototype
    version: Version
    versions: list[Version]
    by_trial_kind: dict[str, Score]
    rows: list[CoverageRow]
    threat_kinds_missing: list[str]
    evidence: Evidence
    readiness: Readiness
    needs: dict[str, list[Need]]  # by gate step
    task_force: TaskForceFigures | None
    trial_kinds: tuple[str, ...] = TRIAL_KINDS


def library() -> list[tuple[str, str]]:
    """(scenario, threat kind) of every scenario the built-in simulator flies."""
    return [(name, load_scenario(name).threat.kind) for name in list_scenarios()]


def version_coverage(*, session: Session, storage: Storage, version: Version,
                     task_force: bool) -> Coverage:
    """The version's coverage; trial counts and flight hours only if `task_force`."""
    prototype = session.get(Prototype, version.prototype_id)
    assert prototype is not None
    # engineers: soldiers' evidence as released, scenario names of the library only
    scores = service.version_score(session=session, version=version,
                                   view=session_view(session))
    readiness = decisions.readiness(session=session, version=version)
    return Coverage(
        prototype=prototype, version=version,
        versions=list(service.list_versions(session=session, prototype=prototype)),
        by_trial_kind=scores.by_trial_kind,
        rows=coverage_rows(scores.by_scenario, library()),
        threat_kinds_missing=threat_kinds_missing(scores.by_scenario, THREATS),
        evidence=decisions.evidence(session=session, version=version),
        readiness=readiness,
        needs={gate.step: gate_needs(gate, scores.by_trial_kind) for gate in readiness.gates},
        task_force=_task_force(session, storage, version) if task_force else None)


def _task_force(session: Session, storage: Storage, version: Version) -> TaskForceFigures:
    counts = session.exec(select(Trial.kind, func.count()).where(
        Trial.version_id == version.id).group_by(col(Trial.kind))).all()
    flights = version_flights(session=session, storage=storage, version=version)
    kinds = dict(session.exec(select(Trial.id, Trial.kind).where(col(Trial.id).in_(
        {flight.trial_id for flight in flights.by_session}))).all())
    hours = dict.fromkeys(TRIAL_KINDS, 0.0)
    for flight in flights.by_session:
        hours[str(kinds[flight.trial_id])] += (flight.duration_s or 0.0) / 3600
    return TaskForceFigures(trials={str(kind): int(n) for kind, n in counts},
                            flights=flights, flight_hours=hours)
