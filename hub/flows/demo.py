"""The demo data set: companies, units, prototypes with versions, and trials whose engagements
all come from the engagement simulator.

Baseline figures come from the source documents in US dollars and are used here as EUR
equivalents: a Patriot interceptor costs over $3M and is fired at drones costing about $35k
(about 85 to 1); interceptor drones cost $3k–5k and down over 70% of threats over Kyiv.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, select

from hub.flows.simulation import baseline_trials, defender_for, run_simulation
from sandbox import accounts, service
from sandbox.models import (
    OrganisationCreate,
    OrgKind,
    Prototype,
    PrototypeCreate,
    PrototypeKind,
    Role,
    TrialCreate,
    TrialKind,
    User,
    UserCreate,
    VersionCreate,
)
from simulators.engine import simulate
from simulators.scenario import load_scenario
from telemetry.objects import Storage

DEMO_MARKER = "Task Force Drones"


@dataclass(frozen=True)
class DemoVersion:
    company: str
    prototype: str
    kind: PrototypeKind
    version: str
    unit_cost_eur: int
    reusable: bool
    parameters: dict[str, object]


# The reference baselines (Patriot-class, gun, fielded interceptor drone) are not here: every
# simulation flies them on its scenario (hub.flows.simulation), and the demo adds the scenario
# of its field trials.
VERSIONS = (
    DemoVersion("Skyfence Dynamics", "Hornet interceptor", PrototypeKind.interceptor_drone,
                "1.0.0", 5_000, False, {"speed_mps": 70, "p_kill": 0.6}),
    DemoVersion("Skyfence Dynamics", "Hornet interceptor", PrototypeKind.interceptor_drone,
                "1.1.0", 4_500, False, {"speed_mps": 85, "p_kill": 0.8}),
    DemoVersion("Kestrel Robotics", "Falcon reusable interceptor", PrototypeKind.interceptor_drone,
                "2.0.0", 12_000, True, {"speed_mps": 90, "p_kill": 0.66,
                                        "operating_cost_cents": 15_000}),
)

# (trial kind, who logs it, scenario, runs): the field and simulator trials are simulated too,
# standing in for what soldiers would log.
TRIALS = ((TrialKind.simulation, None, "shahed_raid", 40),
          (TrialKind.simulator, "soldier-alpha", "shahed_raid", 3),
          (TrialKind.field, "soldier-bravo", "fpv_swarm", 1))

ACCOUNTS = (  # (name, role, organisation, password) — development demo only
    ("admin", Role.admin, None, "demo-admin-pass"),
    ("reviewer", Role.reviewer, DEMO_MARKER, "demo-reviewer-pass"),
    ("skyfence-eng", Role.engineer, "Skyfence Dynamics", "demo-engineer-pass"),
    ("kestrel-eng", Role.engineer, "Kestrel Robotics", "demo-engineer-pass"),
    ("soldier-alpha", Role.soldier, "Unit Alpha", "demo-soldier-pass"),
    ("soldier-bravo", Role.soldier, "Unit Bravo", "demo-soldier-pass"),
)

ORGANISATIONS = (
    (DEMO_MARKER, OrgKind.task_force, None),
    ("Reference baselines", OrgKind.company, None),
    ("Skyfence Dynamics", OrgKind.company, None),
    ("Kestrel Robotics", OrgKind.company, None),
    ("Unit Alpha", OrgKind.unit, "North"),
    ("Unit Bravo", OrgKind.unit, "East"),
)


def load(*, session: Session, storage: Storage | None = None) -> list[tuple[str, str, str]]:
    """Load the data set once (a second call finds it and adds nothing); return the log-ins.
    With `storage`, simulations also fly synthetic telemetry."""
    if session.exec(select(User).where(User.name == "reviewer")).first() is None:
        _load(session, storage)
    return [(name, str(role), password) for name, role, _org, password in ACCOUNTS]


def _load(session: Session, storage: Storage | None) -> None:
    orgs = {name: accounts.create_organisation(session=session, organisation_in=OrganisationCreate(
        name=name, kind=kind, region=region)) for name, kind, region in ORGANISATIONS}
    users = {name: accounts.create_user(session=session, user_in=UserCreate(
        name=name, role=role, password=password,
        organisation_id=orgs[org].id if org else None))
        for name, role, org, password in ACCOUNTS}
    prototypes: dict[str, Prototype] = {}
    start = datetime(2026, 10, 5, 8, tzinfo=UTC)
    for index, spec in enumerate(VERSIONS):
        owner = User(role=Role.engineer, organisation_id=orgs[spec.company].id, name="loader",
                     password_hash="")
        if spec.prototype not in prototypes:
            prototypes[spec.prototype] = service.create_prototype(
                session=session, by=owner, prototype_in=PrototypeCreate(
                    name=spec.prototype, kind=spec.kind))
        prototype = prototypes[spec.prototype]
        version = service.create_version(
            session=session, prototype=prototype, by=owner,
            version_in=VersionCreate(version=spec.version, reusable=spec.reusable,
                                     unit_cost_eur=Decimal(spec.unit_cost_eur),
                                     parameters=spec.parameters))
        defender = defender_for(version, prototype)
        for number, (kind, soldier, scenario_name, runs) in enumerate(TRIALS):
            scenario = load_scenario(scenario_name)
            by = users[soldier] if soldier else users["reviewer"]
            when = start + timedelta(days=index * 3 + number)
            field = kind == TrialKind.field
            if kind == TrialKind.simulation:
                run_simulation(session=session, version=version, scenario=scenario, runs=runs,
                               seed=index * 10 + number, by=by, storage=storage)
                continue
            service.record_trial_with_engagements(
                session=session, by=by, unit_id=by.organisation_id if soldier else None,
                engagements=simulate(scenario, defender, runs=runs, seed=index * 10 + number),
                trial_in=TrialCreate(
                    version_id=version.id or 0, kind=kind, scenario=scenario.name,
                    simulator="VBS4" if kind == TrialKind.simulator else None,
                    started_at=when, ended_at=when + timedelta(hours=2),
                    lat=50.45 + 0.01 * index if field else None,
                    lon=30.52 - 0.01 * index if field else None))
    for name in sorted({scenario_name for _, _, scenario_name, _ in TRIALS}):
        baseline_trials(session=session, scenario=load_scenario(name))
