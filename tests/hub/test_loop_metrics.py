from datetime import timedelta

import pytest

from hub.flows.loop import loop_metrics
from sandbox.models import (
    Decision,
    Engagement,
    FeedbackRelease,
    OrgKind,
    Prototype,
    PrototypeKind,
    Role,
    SandboxStatus,
    Trial,
    TrialKind,
    Version,
)
from sandbox.timeutil import utcnow
from tests.conftest import auth

NOW = utcnow().replace(microsecond=0)
DAY = timedelta(days=1)


@pytest.fixture
def world(session, make_org, make_user):
    company, unit = make_org(OrgKind.company), make_org(OrgKind.unit)
    reviewer = make_user(Role.reviewer)

    def add(row):
        session.add(row)
        session.commit()
        session.refresh(row)
        return row

    def prototype(name: str, created, kind=PrototypeKind.interceptor_drone):
        made = add(Prototype(name=name, kind=kind, organisation_id=company.id, created_at=created))
        return made, add(Version(prototype_id=made.id, version="1.0.0", unit_cost_cents=400_000))

    def trial(version, *, created, started, ended=None, soldiers=True, recorded=None):
        made = add(Trial(version_id=version.id, kind=TrialKind.field if soldiers else
                         TrialKind.simulation, scenario="shahed_raid", started_at=started,
                         ended_at=ended, unit_id=unit.id if soldiers else None,
                         created_at=created))
        return add(Engagement(trial_id=made.id, threat_kind="shahed_136", interceptors_used=1,
                              outcome="intercept", threat_cost_cents=3_500_000,
                              created_at=recorded or created))

    def decision(prototype, at, to=SandboxStatus.admitted):
        add(Decision(prototype_id=prototype.id, from_status=SandboxStatus.submitted,
                     to_status=to, rationale="dossier complete and reviewed",
                     decided_by_id=reviewer.id, decided_at=at))

    return {"add": add, "prototype": prototype, "trial": trial, "decision": decision,
            "reviewer": reviewer}


def test_each_figure_is_timed_from_its_own_timestamps(session, world) -> None:
    hornet, version = world["prototype"]("Hornet", NOW - 20 * DAY)
    other, other_version = world["prototype"]("Wasp", NOW - 3 * DAY)
    trial = world["trial"]
    old = trial(version, created=NOW - 40 * DAY, started=NOW - 40 * DAY)  # before the window
    world["add"](FeedbackRelease(prototype_id=hornet.id, engagement_upto=old.id,
                                 engagements=1, released_at=NOW - 39 * DAY))
    ended = trial(version, created=NOW - 10 * DAY, started=NOW - 11 * DAY, ended=NOW - 10 * DAY,
                  recorded=NOW - 10 * DAY + timedelta(seconds=60))
    open_ = trial(version, created=NOW - 5 * DAY, started=NOW - 5 * DAY,
                  recorded=NOW - 5 * DAY + timedelta(seconds=600))
    live = trial(version, created=NOW - DAY, started=NOW - DAY, ended=NOW,  # still running
                 recorded=NOW - DAY + timedelta(seconds=100))
    trial(version, created=NOW - DAY, started=NOW - 2 * DAY, soldiers=False)  # simulation
    trial(other_version, created=NOW - DAY, started=NOW - DAY,  # another prototype's
          recorded=NOW - DAY + timedelta(seconds=30))
    world["add"](FeedbackRelease(prototype_id=hornet.id, engagement_upto=live.id + 2,
                                 engagements=3, released_at=NOW - timedelta(hours=1)))
    world["decision"](hornet, NOW - 19 * DAY)
    world["decision"](hornet, NOW - DAY, SandboxStatus.sim_trialled)  # not the first
    world["decision"](other, NOW - 3 * DAY + timedelta(hours=2))
    world["prototype"]("Moth", NOW - 4 * DAY)  # waiting
    world["prototype"]("Patriot", NOW - 90 * DAY, PrototypeKind.baseline)
    gone, _ = world["prototype"]("Gnat", NOW - 60 * DAY)
    world["decision"](gone, NOW - 50 * DAY)  # first decided before the window

    found = loop_metrics(session=session, now=NOW)
    # trials: 0 s for the one whose outcome came while it ran, Wasp's 30 s, 60 s, 600 s
    assert found.outcome_to_score.count == 4
    assert (found.outcome_to_score.median_s, found.outcome_to_score.p90_s) == pytest.approx(
        (30, 600), abs=0.01)
    feed = sorted((NOW - timedelta(hours=1) - row.created_at).total_seconds()
                  for row in (ended, open_, live))
    assert found.outcome_to_engineer_feed.count == 3  # not the simulation's, not Wasp's
    assert (found.outcome_to_engineer_feed.median_s,
            found.outcome_to_engineer_feed.p90_s) == pytest.approx((feed[1], feed[2]), abs=0.01)
    # Hornet 1 day after submission, Wasp 2 hours: the nearest-rank median of two is the first
    assert found.submission_to_decision.count == 2
    assert (found.submission_to_decision.median_s,
            found.submission_to_decision.p90_s) == pytest.approx((7200, 86400), abs=0.01)
    assert found.waiting == 1 and found.oldest_waiting_s == pytest.approx(4 * 86400, abs=1)


def test_an_empty_window_has_no_figures(session, world) -> None:
    found = loop_metrics(session=session, now=NOW)
    assert found.outcome_to_score.count == 0 and found.outcome_to_score.median_s is None
    assert found.submission_to_decision.p90_s is None
    assert found.waiting == 0 and found.oldest_waiting_s is None


@pytest.mark.parametrize("role", [Role.soldier, Role.engineer])
def test_loop_metrics_are_for_the_task_force(client, make_user, role) -> None:
    response = client.get("/api/v1/loop-metrics", headers=auth(make_user(role)))
    assert response.status_code == 403
    answer = client.get("/api/v1/loop-metrics", headers=auth(make_user(Role.admin))).json()
    assert answer["outcome_to_score"] == {"count": 0, "median_s": None, "p90_s": None}
