"""What a viewer's scores are made of.

A company's engineers learn soldiers' feedback only in released batches covering at least k
people (sandbox.feedback). Exact live scores would undo that: read one before and one after a
soldier's engagement (the live feed says when one arrived) and that engagement's outcome falls
out. So engineers read soldiers' evidence (engagements of trials with a unit, as the export
counts them) as of the last batch released for its prototype, and scenario names only from the
simulator's library: a name a soldier typed ("Bravo coy, Vovchansk bridge") becomes `other`.
Trials without a unit (the company's own simulations) stay exact and live.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, func
from sqlmodel import Session, col, select

from sandbox.models import Engagement, FeedbackRelease, Role, Trial, User, Version
from sandbox.scoring import Condition, Tally

OTHER_SCENARIO = "other"


@dataclass(frozen=True)
class ScoreView:
    released_only: bool = False  # soldiers' evidence as of each prototype's last release
    scenarios: frozenset[str] | None = None  # names shown as they are; None: every name

    def shown(self, scenario: str) -> str:
        if self.scenarios is None or scenario in self.scenarios:
            return scenario
        return OTHER_SCENARIO


EXACT = ScoreView()


def view_for(role: str | None, *, scenarios: Iterable[str] | None = None) -> ScoreView:
    """Engineers' view (`scenarios`: the library's names), everyone else's exact one."""
    if role != Role.engineer:
        return EXACT
    return ScoreView(released_only=True,
                     scenarios=None if scenarios is None else frozenset(scenarios))


def view_of(session: Session, by: User | None = None, *,
            scenarios: Iterable[str] | None = None) -> ScoreView:
    """The view of `by`, else of the user the session acts for (recorded on it for the audit
    chain by the hub's authentication): every score a request reads follows its viewer, on
    pages and routes that never name one. Without `scenarios`, names stay as they are."""
    role = by.role if by is not None else getattr(session.info.get("actor"), "role", None)
    return view_for(None if role is None else str(role), scenarios=scenarios)


def unreleased_engagements(version_ids: Any) -> Select[Any]:
    """Soldiers' engagements of these versions (ids or a SELECT of them) that no released
    batch covers yet: those above their prototype's last release mark."""
    marks = select(FeedbackRelease.prototype_id,
                   func.max(FeedbackRelease.engagement_upto).label("upto")) \
        .group_by(col(FeedbackRelease.prototype_id)).subquery()
    engagement = Engagement.__table__  # type: ignore[attr-defined]
    return (select(engagement)
            .join(Trial, col(Trial.id) == engagement.c.trial_id)
            .join(Version, col(Version.id) == col(Trial.version_id))
            .outerjoin(marks, marks.c.prototype_id == col(Version.prototype_id))
            .where(col(Trial.unit_id).is_not(None), col(Version.id).in_(version_ids),
                   engagement.c.id > func.coalesce(marks.c.upto, 0)))


def named(tallies: dict[tuple[int, Condition], Tally],
          view: ScoreView) -> dict[tuple[int, Condition], Tally]:
    """Tallies under the scenario names the view shows; conditions it merges add up."""
    if view.scenarios is None:
        return tallies
    merged: dict[tuple[int, Condition], Tally] = {}
    for (version_id, condition), item in tallies.items():
        key = (version_id, replace(condition, scenario=view.shown(condition.scenario)))
        merged[key] = merged[key] + item if key in merged else item
    return merged
