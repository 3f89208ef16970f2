"""The demo data set: companies, units, prototypes with versions, trials and engagements.

Baseline figures come from the source documents in US dollars and are used here as EUR
equivalents: a Patriot interceptor costs over $3M and is fired at drones costing about $35k
(about 85 to 1); interceptor drones cost $3k–5k and down over 70% of threats over Kyiv.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
from sqlmodel import Session, select

from sandbox import accounts, service
from sandbox.models import (
    EngagementCreate,
    OrganisationCreate,
    OrgKind,
    Outcome,
    PrototypeCreate,
    PrototypeKind,
    Role,
    TrialCreate,
    TrialKind,
    User,
    UserCreate,
    VersionCreate,
)

DEMO_MARKER = "Task Force Drones"
SHAHED_COST_EUR = Decimal(35_000)


@dataclass(frozen=True)
class DemoVersion:
    company: str
    prototype: str
    kind: PrototypeKind
    version: str
    unit_cost_eur: int
    reusable: bool
    pk: float
    operating_cost_eur: int = 0


VERSIONS = (
    DemoVersion("Reference baselines", "Patriot-class SAM", PrototypeKind.baseline, "1.0.0",
                3_000_000, False, 0.9),
    DemoVersion("Reference baselines", "Gun system (35 mm)", PrototypeKind.baseline, "1.0.0",
                1_200, True, 0.45, operating_cost_eur=2_000),
    DemoVersion("Reference baselines", "Interceptor drone (fielded)", PrototypeKind.baseline,
                "1.0.0", 4_000, False, 0.72),
    DemoVersion("Skyfence Dynamics", "Hornet interceptor", PrototypeKind.interceptor_drone,
                "1.0.0", 5_000, False, 0.6),
    DemoVersion("Skyfence Dynamics", "Hornet interceptor", PrototypeKind.interceptor_drone,
                "1.1.0", 4_500, False, 0.78),
    DemoVersion("Kestrel Robotics", "Falcon reusable interceptor", PrototypeKind.interceptor_drone,
                "2.0.0", 12_000, True, 0.66, operating_cost_eur=150),
)

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


def load(*, session: Session) -> list[tuple[str, str, str]]:
    """Load the data set once (a second call finds it and adds nothing); return the log-ins."""
    if session.exec(select(User).where(User.name == "reviewer")).first() is None:
        _load(session)
    return [(name, str(role), password) for name, role, _org, password in ACCOUNTS]


def reviewer(session: Session) -> User:
    user = session.exec(select(User).where(User.name == "reviewer")).first()
    assert user is not None, "demo data not loaded"
    return user


def _load(session: Session) -> None:
    orgs = {name: accounts.create_organisation(session=session, organisation_in=OrganisationCreate(
        name=name, kind=kind, region=region)) for name, kind, region in ORGANISATIONS}
    users = {name: accounts.create_user(session=session, user_in=UserCreate(
        name=name, role=role, password=password,
        organisation_id=orgs[org].id if org else None))
        for name, role, org, password in ACCOUNTS}
    rng = np.random.default_rng(2026)
    prototypes = {}
    start = datetime(2026, 10, 5, 8, tzinfo=UTC)
    for index, spec in enumerate(VERSIONS):
        owner = User(role=Role.engineer, organisation_id=orgs[spec.company].id, name="loader",
                     password_hash="")
        if spec.prototype not in prototypes:
            prototypes[spec.prototype] = service.create_prototype(
                session=session, by=owner, prototype_in=PrototypeCreate(
                    name=spec.prototype, kind=spec.kind))
        version = service.create_version(
            session=session, prototype=prototypes[spec.prototype], by=owner,
            version_in=VersionCreate(version=spec.version, reusable=spec.reusable,
                                     unit_cost_eur=Decimal(spec.unit_cost_eur)))
        for trial_index, (kind, soldier) in enumerate(
                ((TrialKind.simulation, None), (TrialKind.simulator, "soldier-alpha"),
                 (TrialKind.field, "soldier-bravo"))):
            by = users[soldier] if soldier else users["reviewer"]
            trial = service.create_trial(session=session, by=by, trial_in=TrialCreate(
                version_id=version.id or 0, kind=kind, scenario="shahed_raid",
                simulator="VBS4" if kind == TrialKind.simulator else None,
                started_at=start + timedelta(days=index * 3 + trial_index),
                lat=50.45 + rng.normal(0, 0.2) if kind == TrialKind.field else None,
                lon=30.52 + rng.normal(0, 0.2) if kind == TrialKind.field else None))
            service.add_engagements(session=session, trial=trial,
                                    engagements_in=_engagements(spec, rng, 40 if kind ==
                                                                TrialKind.simulation else 12))


def _engagements(spec: DemoVersion, rng: np.random.Generator, n: int) -> list[EngagementCreate]:
    hits = rng.random(n) < spec.pk
    return [EngagementCreate(
        threat_kind="shahed_136", threat_cost_eur=SHAHED_COST_EUR,
        interceptors_used=1, outcome=Outcome.intercept if hit else Outcome.miss,
        time_to_intercept_s=round(float(rng.uniform(20, 90)), 1) if hit else None,
        operating_cost_eur=Decimal(spec.operating_cost_eur) if spec.operating_cost_eur else None)
        for hit in hits]
