"""Who may see and change what: the one place that decides object-level access.

Foreign objects are reported as not found, so that their existence does not leak.
"""

from sqlalchemy import ColumnElement, false, true
from sqlmodel import col

from sandbox.errors import Forbidden, NotFound
from sandbox.models import Prototype, Role, Trial, User

EVERYTHING = (Role.reviewer, Role.admin)


def prototype_filter(user: User) -> ColumnElement[bool]:
    """SQL condition selecting the prototypes `user` may see."""
    if user.role == Role.engineer:
        return col(Prototype.organisation_id) == user.organisation_id
    return true()  # soldiers pick versions to trial; reviewers and admins see all


def can_see_prototype(user: User, prototype: Prototype) -> bool:
    return user.role != Role.engineer or prototype.organisation_id == user.organisation_id


def check_prototype_owner(user: User, prototype: Prototype) -> None:
    """Only the owning company's engineers (and admins) change a prototype or its versions."""
    if not can_see_prototype(user, prototype):
        raise NotFound(f"prototype {prototype.id} not found")
    if user.role == Role.admin:
        return
    if user.role != Role.engineer:
        raise Forbidden("only the owning company's engineers may change a prototype")


def trial_filter(user: User) -> ColumnElement[bool]:
    """SQL condition selecting the raw trials `user` may see."""
    if user.role in EVERYTHING:
        return true()
    if user.role == Role.soldier:
        return col(Trial.unit_id) == user.organisation_id
    return false()


def check_raw_trial_access(user: User) -> None:
    """Raw trial data names units and places: engineers get the anonymised feedback instead."""
    if user.role == Role.engineer:
        raise Forbidden("engineers receive trial data only through the anonymised feedback "
                        "of their own prototypes")


def can_see_trial(user: User, trial: Trial) -> bool:
    if user.role in EVERYTHING:
        return True
    return user.role == Role.soldier and trial.unit_id == user.organisation_id


def sees_positions(user: User) -> bool:
    """Raw lat/lon leave the hub only to reviewers (and admins)."""
    return user.role in EVERYTHING
