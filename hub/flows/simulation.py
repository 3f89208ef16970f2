"""Trials in simulation: a registry version flown through the engagement simulator, beside the
baselines flown through the same scenario."""

import hashlib
from collections.abc import Callable
from dataclasses import asdict
from functools import cache
from pathlib import Path

import pandas as pd
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hub.flows.ingest import store_batch
from hub.flows.sensor_simulation import run_sensor_simulation
from sandbox import service
from sandbox.errors import Invalid
from sandbox.models import (
    Organisation,
    OrgKind,
    Prototype,
    PrototypeKind,
    TelemetrySession,
    Trial,
    TrialCreate,
    TrialKind,
    User,
    Version,
)
from sandbox.service import REFERENCE_ORGANISATION
from sandbox.timeutil import utcnow
from simulators import engine, geometry, scenario, threats
from simulators.engine import simulate
from simulators.scenario import Scenario, load_scenario
from simulators.synthetic import synthetic_tlog
from simulators.threats import BASELINES, Defender, ScenarioError, defender_from_parameters
from telemetry.decode import decode
from telemetry.objects import Storage

MAX_RUNS = 100_000
# Every baseline is flown the same way on a scenario, so one set of its trials serves every
# version simulated there (until the engine or the scenario changes).
BASELINE_RUNS = 500
BASELINE_SEED = 1
BASELINE_LABELS = {"patriot_pac3": "Patriot-class SAM", "gun_35mm": "Gun system (35 mm)",
                   "interceptor_drone": "Interceptor drone (fielded)"}


def baseline_name(key: str) -> str:
    """A baseline's one name, on pages, in the API and in the command line alike."""
    return f"{BASELINE_LABELS.get(key, key)} ({key})"


def defender_for(version: Version, prototype: Prototype) -> Defender:
    """The version's parameters over the baseline it names (`base`), an interceptor drone else."""
    base = str(version.parameters.get("base", "interceptor_drone"))
    try:
        return defender_from_parameters(version.parameters, base=base,
                                        name=f"{prototype.name} {version.version}",
                                        unit_cost_cents=version.unit_cost_cents,
                                        reusable=version.reusable)
    except ScenarioError as error:
        raise Invalid(f"version {version.id} parameters: {error}") from error


def scenario_named(name: str | Path, *, allow_files: bool) -> Scenario:
    if not allow_files and Path(name).suffix:
        raise Invalid("scenario: name a library scenario")
    try:
        return load_scenario(name)
    except ScenarioError as error:
        raise Invalid(str(error)) from error


@cache
def engine_id() -> str:
    """What the engine is, as a short hash of its source: a changed engine re-flies baselines."""
    digest = hashlib.sha256()
    for module in (engine, geometry, scenario, threats):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()[:12]


def scenario_id(chosen: Scenario) -> str:
    return hashlib.sha256(repr(asdict(chosen)).encode()).hexdigest()[:12]


def check_simulable(session: Session, version: Version) -> Prototype:
    """A version may be simulated unless it is a reference baseline (those are flown beside
    every simulation instead); returns its prototype."""
    prototype = session.get(Prototype, version.prototype_id)
    assert prototype is not None  # foreign key
    organisation = session.get(Organisation, prototype.organisation_id)
    if prototype.kind == PrototypeKind.baseline and organisation is not None \
            and organisation.name == REFERENCE_ORGANISATION:
        raise Invalid(f"version: {prototype.name} is a reference baseline, flown beside every "
                      "simulated version on the same scenario; simulate a prototype's version")
    return prototype


def run_simulation(*, session: Session, version: Version, scenario: Scenario, runs: int,
                   seed: int, by: User | None, storage: Storage | None = None,
                   progress: Callable[[int, int], None] | None = None) -> Trial:
    """Simulate `runs` raids and record them as one trial of kind simulation, and make sure
    the baselines have flown the same scenario; with a `storage`, a sample of the version's
    engagements also flies as synthetic MAVLink telemetry."""
    if not 1 <= runs <= MAX_RUNS:
        raise Invalid(f"runs: between 1 and {MAX_RUNS}")
    prototype = check_simulable(session, version)
    if prototype.kind == PrototypeKind.cuas_sensor:  # a sensor is trialled on its detections
        return run_sensor_simulation(session=session, version=version, scenario=scenario,
                                     runs=runs, seed=seed, by=by, storage=storage)
    defender = defender_for(version, prototype)
    engagements = simulate(scenario, defender, runs=runs, seed=seed, progress=progress)
    trial = _record(session, version, scenario, engagements, by=by,
                    notes=f"engagement simulator: {runs} runs, seed {seed}")
    baseline_trials(session=session, scenario=scenario)
    if storage is not None:
        _fly_sample(session, trial, storage, synthetic_tlog(scenario, defender, engagements))
    return trial


def _record(session: Session, version: Version, chosen: Scenario, engagements: pd.DataFrame,
            *, by: User | None, notes: str) -> Trial:
    now = utcnow()
    trial_in = TrialCreate(version_id=version.id or 0, kind=TrialKind.simulation,
                           scenario=chosen.name, simulator=f"engine {engine_id()}",
                           started_at=now, ended_at=now, notes=notes)
    return service.record_trial_with_engagements(session=session, trial_in=trial_in,
                                                 engagements=engagements, by=by)


def baseline_trials(*, session: Session, scenario: Scenario) -> list[Trial]:
    """Each baseline's simulation trial on the scenario: the one already flown by this engine
    with the baseline policy, or a new one."""
    versions = baseline_versions(session=session)
    notes = f"baseline reference: {BASELINE_RUNS} runs, seed {BASELINE_SEED}, " \
            f"scenario {scenario_id(scenario)}"
    found = []
    for key, version in versions.items():
        _reference_organisation(session)  # locked until the trial is found or recorded
        trial = session.exec(select(Trial).where(
            Trial.version_id == version.id, Trial.kind == TrialKind.simulation,
            Trial.scenario == scenario.name, Trial.simulator == f"engine {engine_id()}",
            Trial.notes == notes)).first()
        if trial is None:
            engagements = simulate(scenario, BASELINES[key], runs=BASELINE_RUNS,
                                   seed=BASELINE_SEED)
            trial = _record(session, version, scenario, engagements, by=None, notes=notes)
        found.append(trial)
    session.commit()
    return found


def baseline_versions(*, session: Session) -> dict[str, Version]:
    """The reference baselines as registry versions (created on first use), by library key."""
    organisation = _reference_organisation(session)
    prototypes = {prototype.name: prototype for prototype in session.exec(
        select(Prototype).where(Prototype.organisation_id == organisation.id,
                                Prototype.kind == PrototypeKind.baseline)).all()}
    found = {}
    for key, defender in BASELINES.items():
        prototype = prototypes.get(baseline_name(key))
        if prototype is None:
            prototype = Prototype(name=baseline_name(key), kind=PrototypeKind.baseline,
                                  organisation_id=organisation.id or 0,
                                  description=f"reference baseline {key} of the simulator")
            session.add(prototype)
            session.flush()
        version = session.exec(select(Version).where(Version.prototype_id == prototype.id)
                               .order_by(col(Version.id))).first()
        if version is None:
            version = Version(prototype_id=prototype.id or 0, version="1.0.0",
                              unit_cost_cents=defender.unit_cost_cents,
                              reusable=defender.reusable, parameters={"base": key})
            session.add(version)
        found[key] = version
    session.commit()
    return found


def _reference_organisation(session: Session) -> Organisation:
    query = select(Organisation).where(Organisation.name == REFERENCE_ORGANISATION)
    organisation = session.exec(query).first()
    if organisation is None:
        try:
            session.add(Organisation(name=REFERENCE_ORGANISATION, kind=OrgKind.company))
            session.commit()
        except IntegrityError:  # made meanwhile by another simulation
            session.rollback()
    # the row lock makes concurrent simulations create and fly the baselines one at a time
    return session.exec(query.with_for_update()).one()


def _fly_sample(session: Session, trial: Trial, storage: Storage, tlog: bytes) -> None:
    """The telemetry pipeline, exercised without hardware."""
    decoded = decode(tlog, tlog=True)
    if not decoded.frames:
        return
    row = TelemetrySession(trial_id=trial.id or 0, source="simulation")
    session.add(row)
    session.commit()
    store_batch(engine=session.get_bind(), storage=storage,  # type: ignore[arg-type]
                session_id=row.id or 0, frames=decoded.frames, batch=1, stats=decoded.stats)
