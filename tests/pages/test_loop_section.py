from datetime import timedelta

import pytest

from sandbox.models import OrgKind, Role
from sandbox.timeutil import utcnow
from tests.conftest import PASSWORD, auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version
from tests.pages.conftest import log_in, shot

pytestmark = pytest.mark.browser


def test_dashboard_shows_the_loops_speed(live_url, page, client, make_user, make_org) -> None:
    engineer, reviewer = make_user(Role.engineer), make_user(Role.reviewer)
    prototype = new_prototype(client, engineer, name="Hornet")
    version = new_version(client, engineer, prototype["id"])
    new_prototype(client, engineer, name="Wasp")  # waits for a decision
    unit = make_org(OrgKind.unit, region="Kharkiv")
    two_hours_ago = (utcnow() - timedelta(hours=2)).isoformat()
    for _ in range(5):  # five soldiers of one unit: enough for a released batch (k = 5)
        soldier = make_user(Role.soldier, org=unit)
        trial = new_trial(client, soldier, version["id"], started_at=two_hours_ago)
        add_engagements(client, soldier, trial["id"], [engagement(), engagement(
            outcome="miss", time_to_intercept_s=None)])
    decided = client.post(f"/api/v1/prototypes/{prototype['id']}/decisions",
                          headers=auth(reviewer), json={"to_status": "admitted",
                                                        "rationale": "dossier complete"})
    assert decided.status_code == 201, decided.text
    feedback = client.get(f"/api/v1/prototypes/{prototype['id']}/feedback?format=json",
                          headers=auth(engineer))  # the company asks: the batch is cut
    assert feedback.status_code == 200 and len(feedback.json()["engagements"]) == 10

    log_in(page, live_url, reviewer.name, PASSWORD)
    score = page.locator("#loop-score td").all_inner_texts()
    assert score[1].startswith("5 soldiers' trials:")
    assert score[2] == score[3] == "2.0 h"  # each trial's outcomes came 2 hours after its start
    feed = page.locator("#loop-feed td").all_inner_texts()
    assert feed[1].startswith("10 soldiers' engagements:")
    assert feed[2].endswith(" s") and float(feed[3].removesuffix(" s")) < 60
    decision = page.locator("#loop-decision td").all_inner_texts()
    assert decision[1].startswith("1 prototype first decided") and decision[2].endswith(" s")
    assert page.inner_text("#loop-waiting").startswith(
        "1 submitted prototype still waits for a first decision, the oldest for ")
    shot(page, "reviewer-dashboard-loop")
