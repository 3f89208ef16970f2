"""The score view of a hub user (sandbox.score_view), with the simulator's scenario library:
the only scenario names an engineer sees."""

from sqlmodel import Session

from sandbox.models import User
from sandbox.score_view import ScoreView, view_for, view_of
from simulators.scenario import list_scenarios


def score_view(user: User) -> ScoreView:
    return view_for(str(user.role), scenarios=list_scenarios())


def session_view(session: Session) -> ScoreView:
    """The view of the user the session acts for (flows that are not told who reads)."""
    return view_of(session, scenarios=list_scenarios())
