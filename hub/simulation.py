"""Trials in simulation: a registry version flown through the engagement simulator."""

from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session

from sandbox import service
from sandbox.errors import Invalid
from sandbox.models import Prototype, Trial, TrialCreate, TrialKind, User, Version
from sandbox.timeutil import utcnow
from simulators.engine import simulate
from simulators.scenario import Scenario, load_scenario
from simulators.threats import Defender, ScenarioError, defender_from_parameters

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
                   seed: int, by: User | None,
                   progress: Callable[[int, int], None] | None = None) -> Trial:
    """Simulate `runs` raids and record them as one trial of kind simulation."""
    if not 1 <= runs <= MAX_RUNS:
        raise Invalid(f"runs: between 1 and {MAX_RUNS}")
    prototype = session.get(Prototype, version.prototype_id)
    assert prototype is not None  # foreign key
    engagements = simulate(scenario, defender_for(version, prototype), runs=runs, seed=seed,
                           progress=progress)
    now = utcnow()
    trial_in = TrialCreate(version_id=version.id or 0, kind=TrialKind.simulation,
                           scenario=scenario.name, started_at=now, ended_at=now,
                           notes=f"engagement simulator: {runs} runs, seed {seed}")
    return service.record_trial_with_engagements(session=session, trial_in=trial_in,
                                                 engagements=engagements, by=by)
