"""The score view of a hub user (sandbox.score_view), with the simulator's scenario library:
the only scenario names an engineer sees."""

from sandbox.models import User
from sandbox.score_view import ScoreView, view_for
from simulators.scenario import list_scenarios


def score_view(user: User) -> ScoreView:
    return view_for(str(user.role), scenarios=list_scenarios())
