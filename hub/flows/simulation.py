"""Trials in simulation: a registry version flown through the engagement simulator."""

from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session

from hub.flows.ingest import store_batch
from hub.flows.sensor_simulation import run_sensor_simulation
from sandbox import service
from sandbox.errors import Invalid
from sandbox.models import (
    Prototype,
    PrototypeKind,
    TelemetrySession,
    Trial,
    TrialCreate,
    TrialKind,
    User,
    Version,
)
from sandbox.timeutil import utcnow
from simulators.engine import simulate
from simulators.scenario import Scenario, load_scenario
from simulators.synthetic import synthetic_tlog
from simulators.threats import Defender, ScenarioError, defender_from_parameters
from telemetry.decode import decode

MAX_RUNS = 100_000


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


def run_simulation(*, session: Session, version: Version, scenario: Scenario, runs: int,
                   seed: int, by: User | None, data_dir: Path | None = None,
                   progress: Callable[[int, int], None] | None = None) -> Trial:
    """Simulate `runs` raids and record them as one trial of kind simulation; with a
    `data_dir`, a sample of its engagements also flies as synthetic MAVLink telemetry."""
    if not 1 <= runs <= MAX_RUNS:
        raise Invalid(f"runs: between 1 and {MAX_RUNS}")
    prototype = session.get(Prototype, version.prototype_id)
    assert prototype is not None  # foreign key
    if prototype.kind == PrototypeKind.cuas_sensor:  # a sensor is trialled on its detections
        return run_sensor_simulation(session=session, version=version, scenario=scenario,
                                     runs=runs, seed=seed, by=by, data_dir=data_dir)
    defender = defender_for(version, prototype)
    engagements = simulate(scenario, defender, runs=runs, seed=seed, progress=progress)
    now = utcnow()
    trial_in = TrialCreate(version_id=version.id or 0, kind=TrialKind.simulation,
                           scenario=scenario.name, started_at=now, ended_at=now,
                           notes=f"engagement simulator: {runs} runs, seed {seed}")
    trial = service.record_trial_with_engagements(session=session, trial_in=trial_in,
                                                  engagements=engagements, by=by)
    if data_dir is not None:
        _fly_sample(session, trial, data_dir, synthetic_tlog(scenario, defender, engagements))
    return trial


def _fly_sample(session: Session, trial: Trial, data_dir: Path, tlog: bytes) -> None:
    """The telemetry pipeline, exercised without hardware."""
    decoded = decode(tlog, tlog=True)
    if not decoded.frames:
        return
    row = TelemetrySession(trial_id=trial.id or 0, source="simulation")
    session.add(row)
    session.commit()
    store_batch(engine=session.get_bind(), data_dir=data_dir,  # type: ignore[arg-type]
                session_id=row.id or 0, frames=decoded.frames, batch=1, stats=decoded.stats)
