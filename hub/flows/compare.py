"""Two versions of one prototype side by side: parameters, firmware hash, changelog, and every
score by condition with intervals and differences (the pure work is in sandbox.compare)."""

from dataclasses import dataclass

from sqlmodel import Session

from hub.flows.score_view import session_view
from sandbox import service
from sandbox.compare import ConditionComparison, ParameterChange, compare_scores, parameter_diff
from sandbox.errors import Invalid, NotFound
from sandbox.models import Prototype, Version


@dataclass(frozen=True)
class VersionComparison:
    prototype: Prototype
    versions: list[Version]  # every version of the prototype, oldest first (for the choice)
    a: Version
    b: Version
    parameters: list[ParameterChange]
    conditions: list[ConditionComparison]

    @property
    def hash_changed(self) -> bool:
        return self.a.software_hash != self.b.software_hash


def chosen_id(value: str, name: str) -> int | None:
    """A version id from a query string ('' for the default), or Invalid naming the field."""
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 2**31 - 1:
        raise Invalid(f"{name}: a version id (a whole number), such as ?{name}=12")
    return int(value)


def compare_versions(*, session: Session, prototype: Prototype, a_id: int | None,
                     b_id: int | None) -> VersionComparison:
    """Compare versions a and b of the prototype (default: the last two); a version of another
    prototype is not found. The caller has already checked the prototype is the viewer's."""
    versions = list(service.list_versions(session=session, prototype=prototype))
    if not versions:
        raise NotFound(f"prototype {prototype.id} has no versions to compare yet")
    by_id = {version.id: version for version in versions}
    for name, wanted in (("a", a_id), ("b", b_id)):
        if wanted is not None and wanted not in by_id:
            raise NotFound(f"{name}: version {wanted} is not a version of {prototype.name}")
    b = by_id[b_id] if b_id is not None else versions[-1]
    a = by_id[a_id] if a_id is not None else (versions[-2] if len(versions) > 1 else b)
    view = session_view(session)  # engineers: soldiers' evidence as released, library names
    scores = {version.id: service.version_score(session=session, version=version, view=view)
              for version in {a.id: a, b.id: b}.values()}
    return VersionComparison(
        prototype=prototype, versions=versions, a=a, b=b,
        parameters=parameter_diff(a.parameters or {}, b.parameters or {}),
        conditions=compare_scores(scores[a.id].by_scenario, scores[b.id].by_scenario))
