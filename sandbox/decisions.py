"""Sandbox decisions, safety findings and readiness: the Task Force Drones' record."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from sandbox import access, service
from sandbox.errors import Conflict, Forbidden, Invalid, NotFound
from sandbox.models import (
    Decision,
    DecisionCreate,
    Finding,
    FindingCreate,
    FindingStatus,
    FindingUpdate,
    Prototype,
    Role,
    SandboxStatus,
    User,
    Version,
)
from sandbox.readiness import (
    GATED,
    Evidence,
    GateResult,
    check_transition,
    effective_status,
    evaluate_gate,
    gate_for,
    load_gates,
    technology_readiness_level,
)
from sandbox.sensors import sensor_evidence
from sandbox.timeutil import utcnow


def current_status(*, session: Session, prototype: Prototype) -> SandboxStatus:
    """The status now, with an expired authorisation lapsed."""
    last = session.exec(select(Decision).where(Decision.prototype_id == prototype.id)
                        .order_by(col(Decision.id).desc())).first()
    expires = last.expires_at if last is not None else None
    return effective_status(SandboxStatus(prototype.sandbox_status), expires, utcnow())


def open_findings(*, session: Session, prototype_id: int) -> int:
    return int(session.exec(select(func.count()).select_from(Finding).where(
        Finding.prototype_id == prototype_id, Finding.status == FindingStatus.open)).one())


def evidence(*, session: Session, version: Version) -> Evidence:
    # both as the session's viewer may see them: engineers, as released (sandbox.score_view)
    reports = service.report_count(session=session, version=version)
    return Evidence.of(service.version_score(session=session, version=version),
                       open_safety_findings=open_findings(session=session,
                                                          prototype_id=version.prototype_id),
                       reports=reports,
                       sensors=sensor_evidence(session=session, version_id=version.id or 0))


@dataclass(frozen=True)
class Readiness:
    version_id: int
    status: SandboxStatus
    trl: int
    gates: list[GateResult]


def readiness(*, session: Session, version: Version) -> Readiness:
    prototype = session.get(Prototype, version.prototype_id)
    assert prototype is not None
    found = evidence(session=session, version=version)
    gates = load_gates()
    status = current_status(session=session, prototype=prototype)
    return Readiness(version_id=version.id or 0, status=status,
                     trl=technology_readiness_level(found, status),
                     gates=[evaluate_gate(found, gate_for(gates, prototype.kind, step), step=step)
                            for step in GATED])


def latest_version(*, session: Session, prototype: Prototype) -> Version | None:
    return session.exec(select(Version).where(Version.prototype_id == prototype.id)
                        .order_by(col(Version.id).desc())).first()


def decide(*, session: Session, prototype: Prototype, decision_in: DecisionCreate,
           by: User) -> Decision:
    """A reviewer's decision: only allowed transitions; gated steps need their evidence."""
    current = current_status(session=session, prototype=prototype)
    check_transition(current, decision_in.to_status)
    version = latest_version(session=session, prototype=prototype)
    if decision_in.to_status in GATED:
        if version is None:
            raise Invalid("to_status: the prototype has no version to judge")
        gate = readiness(session=session, version=version).gates[
            GATED.index(decision_in.to_status)]
        if not gate.passed and not decision_in.override_gate:
            failing = "; ".join(c.reason for c in gate.criteria if not c.passed)
            raise Conflict(f"the {decision_in.to_status} gate is not met ({failing}); "
                           "set override_gate and say why in the rationale to decide anyway")
    decision = Decision(prototype_id=prototype.id or 0, version_id=version.id if version else None,
                        from_status=current, to_status=decision_in.to_status,
                        rationale=decision_in.rationale,
                        conditions=decision_in.conditions.model_dump(),
                        expires_at=decision_in.expires_at,
                        priority_licence=decision_in.priority_licence,
                        gate_overridden=decision_in.override_gate, decided_by_id=by.id or 0)
    prototype.sandbox_status = decision_in.to_status
    session.add(decision)
    session.add(prototype)
    session.commit()
    session.refresh(decision)
    return decision


def list_decisions(*, session: Session, prototype: Prototype) -> Sequence[Decision]:
    return session.exec(select(Decision).where(Decision.prototype_id == prototype.id)
                        .order_by(col(Decision.id))).all()


def decision_queue(*, session: Session) -> list[Prototype]:
    """Prototypes waiting on the task force, oldest first."""
    waiting = (SandboxStatus.submitted, SandboxStatus.admitted, SandboxStatus.sim_trialled,
               SandboxStatus.field_trial_authorised)
    return list(session.exec(select(Prototype).where(col(Prototype.sandbox_status).in_(waiting))
                             .order_by(col(Prototype.created_at), col(Prototype.id))).all())


def raise_finding(*, session: Session, finding_in: FindingCreate, by: User) -> Finding:
    prototype = session.get(Prototype, finding_in.prototype_id)
    if prototype is None or not access.can_see_prototype(by, prototype):
        raise Invalid(f"prototype_id: prototype {finding_in.prototype_id} does not exist")
    if finding_in.version_id is not None:
        version = session.get(Version, finding_in.version_id)
        if version is None or version.prototype_id != prototype.id:
            raise Invalid(f"version_id: not a version of prototype {prototype.id}")
    finding = Finding.model_validate(finding_in, update={"raised_by_id": by.id})
    session.add(finding)
    session.commit()
    session.refresh(finding)
    return finding


def list_findings(*, session: Session, by: User,
                  prototype_id: int | None = None) -> Sequence[Finding]:
    query = select(Finding).order_by(col(Finding.id))
    if by.role == Role.engineer:
        query = query.join(Prototype, col(Prototype.id) == col(Finding.prototype_id)).where(
            Prototype.organisation_id == by.organisation_id)
    elif by.role == Role.soldier:
        query = query.where(Finding.raised_by_id == by.id)
    if prototype_id is not None:
        query = query.where(Finding.prototype_id == prototype_id)
    return session.exec(query).all()


def close_finding(*, session: Session, finding_id: int, update: FindingUpdate,
                  by: User) -> Finding:
    finding = session.get(Finding, finding_id)
    if finding is None:
        raise NotFound(f"finding {finding_id} not found")
    if by.role != Role.reviewer:
        raise Forbidden("only reviewers change a finding's status")
    finding.status, finding.resolution = update.status, update.resolution
    finding.closed_at = utcnow() if update.status == FindingStatus.closed else None
    session.add(finding)
    session.commit()
    session.refresh(finding)
    return finding
