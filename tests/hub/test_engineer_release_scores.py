"""Engineers read soldiers' evidence as of the last released feedback batch, never newer:
one soldier's engagement, read before and after it lands (the live feed says when), must not
show its outcome. Reviewers read it at once; the company's own simulations stay live."""

import pytest

from sandbox.models import OrgKind, Role
from sandbox.score_view import EXACT, OTHER_SCENARIO, view_for
from tests.conftest import PASSWORD, auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version

TYPED = "Bravo coy at Vovchansk bridge"  # a scenario a soldier typed: names a unit and a place


@pytest.fixture
def company(client, make_user):
    engineer = make_user(Role.engineer)
    prototype = new_prototype(client, engineer)
    return engineer, prototype, new_version(client, engineer, prototype["id"])


@pytest.fixture
def squad(make_user, make_org):
    unit = make_org(OrgKind.unit, name="Unit Kestrel Nine", region="Kharkiv")
    return [make_user(Role.soldier, unit, name=f"soldier.{i}") for i in range(10)]


def fly(client, soldier, version_id: int, *, scenario: str = "shahed_raid",
        outcomes: tuple[str, ...] = ("intercept", "miss"), report: bool = True) -> None:
    trial = new_trial(client, soldier, version_id, scenario=scenario,
                      started_at="2026-11-02T08:00:00Z")
    add_engagements(client, soldier, trial["id"], [
        engagement(outcome=o, time_to_intercept_s=30.0 if o == "intercept" else None)
        for o in outcomes])
    if report:
        response = client.post(f"/api/v1/trials/{trial['id']}/reports", headers=auth(soldier),
                               json={"effectiveness": 4, "text": "held its line"})
        assert response.status_code == 201, response.text


def release(client, engineer, prototype) -> int:
    """Read the feedback, which cuts a batch if one is due; the batches released so far."""
    response = client.get(f"/api/v1/prototypes/{prototype['id']}/feedback",
                          headers=auth(engineer))
    assert response.status_code == 200, response.text
    return response.json()["release"]["batches"]


def simulate(client, reviewer, version_id: int, intercepts: int, misses: int) -> None:
    """A simulation the task force ran for the company: no unit, no soldier."""
    trial = new_trial(client, reviewer, version_id, kind="simulation")
    add_engagements(client, reviewer, trial["id"], [engagement()] * intercepts
                    + [engagement(outcome="miss", time_to_intercept_s=None)] * misses)


def reads(client, user, prototype, version) -> dict[str, object]:
    """Everything `user` reads of the prototype's scores, through every route and page."""
    api = {"score": f"/api/v1/versions/{version['id']}/score", "board": "/api/v1/scores",
           "readiness": f"/api/v1/versions/{version['id']}/readiness"}
    found: dict[str, object] = {}
    for name, path in api.items():
        response = client.get(path, headers=auth(user))
        assert response.status_code == 200, response.text
        found[name] = response.json()
    for path in (f"/prototypes/{prototype['id']}/compare",
                 f"/versions/{version['id']}/coverage"):
        response = client.get(path)  # the page session logged in by `page_session`
        assert response.status_code == 200, response.text
        found[path] = response.text
    return found


def page_session(client, user) -> None:
    response = client.post("/login", data={"username": user.name, "password": PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def field(found: dict[str, object]) -> dict[str, object]:
    return found["score"]["by_scenario"]["shahed_raid"]["shahed_136"]["field"]  # type: ignore[index]


def gate_actual(found: dict[str, object], step: str, name: str) -> float | None:
    [gate] = [g for g in found["readiness"]["gates"] if g["step"] == step]  # type: ignore[index]
    [criterion] = [c for c in gate["criteria"] if c["name"] == name]
    return criterion["actual"]


def test_a_soldiers_engagement_after_the_release_changes_nothing_an_engineer_reads(
        client, company, squad, make_user) -> None:
    engineer, prototype, version = company
    reviewer = make_user(Role.reviewer)
    for soldier in squad[:5]:
        fly(client, soldier, version["id"])
    simulate(client, reviewer, version["id"], intercepts=6, misses=2)
    assert release(client, engineer, prototype) == 1
    page_session(client, engineer)
    before = reads(client, engineer, prototype, version)
    assert (field(before)["engagements"], field(before)["intercepts"]) == (10, 5)
    assert gate_actual(before, "ready", "min_reports") == 5

    fly(client, squad[5], version["id"], outcomes=("intercept",) * 3)
    after = reads(client, engineer, prototype, version)
    assert after == before
    reviewer_score = client.get(f"/api/v1/versions/{version['id']}/score",
                                headers=auth(reviewer)).json()
    shahed = reviewer_score["by_scenario"]["shahed_raid"]["shahed_136"]["field"]
    assert (shahed["engagements"], shahed["intercepts"]) == (13, 8)
    assert reviewer_score["overall"]["engagements"] == 13 + 8


def test_the_figures_move_when_the_next_batch_is_released(client, company, squad) -> None:
    engineer, prototype, version = company
    for soldier in squad[:5]:
        fly(client, soldier, version["id"])
    assert release(client, engineer, prototype) == 1
    page_session(client, engineer)
    first = reads(client, engineer, prototype, version)
    for soldier in squad[5:9]:
        fly(client, soldier, version["id"], outcomes=("intercept",) * 3)
    assert reads(client, engineer, prototype, version) == first
    fly(client, squad[9], version["id"])  # the fifth new soldier: the next batch can leave
    assert release(client, engineer, prototype) == 2
    second = reads(client, engineer, prototype, version)
    assert (field(second)["engagements"], field(second)["intercepts"]) == (24, 18)
    assert field(second)["pk"] == pytest.approx(0.75)
    assert gate_actual(second, "ready", "min_reports") == 10
    row = next(r for r in second["board"] if r["version_id"] == version["id"])
    assert (row["trial_kind"], row["score"]["engagements"]) == ("field", 24)
    assert second["/versions/{}/coverage".format(version["id"])] != first[
        "/versions/{}/coverage".format(version["id"])]


def test_the_companys_simulations_stay_live(client, company, squad, make_user) -> None:
    engineer, prototype, version = company
    reviewer = make_user(Role.reviewer)
    fly(client, squad[0], version["id"])  # held back: one soldier is not a batch
    simulate(client, reviewer, version["id"], intercepts=6, misses=2)
    url = f"/api/v1/versions/{version['id']}/score"
    score = client.get(url, headers=auth(engineer)).json()
    assert set(score["by_trial_kind"]) == {"simulation"}
    assert score["by_trial_kind"]["simulation"]["engagements"] == 8
    simulate(client, reviewer, version["id"], intercepts=1, misses=1)
    score = client.get(url, headers=auth(engineer)).json()
    assert (score["overall"]["engagements"], score["overall"]["intercepts"]) == (10, 7)
    board = client.get("/api/v1/scores", headers=auth(engineer),
                       params={"trial_kind": "simulation"}).json()
    assert [r["score"]["engagements"] for r in board if r["version_id"] == version["id"]] == [10]
    assert client.get(url, headers=auth(reviewer)).json()["overall"]["engagements"] == 12


def test_a_scenario_a_soldier_typed_reaches_engineers_as_other(client, company,
                                                               squad, make_user) -> None:
    engineer, prototype, version = company
    for soldier in squad[:5]:
        fly(client, soldier, version["id"], scenario=TYPED)
    assert release(client, engineer, prototype) == 1
    score = client.get(f"/api/v1/versions/{version['id']}/score", headers=auth(engineer))
    assert set(score.json()["by_scenario"]) == {OTHER_SCENARIO}
    assert score.json()["by_scenario"]["other"]["shahed_136"]["field"]["engagements"] == 10
    board = "/api/v1/scores"
    typed = client.get(board, headers=auth(engineer), params={"scenario": TYPED}).json()
    assert typed == []  # asking for the typed name does not confirm that it exists
    other = client.get(board, headers=auth(engineer), params={"scenario": "other"}).json()
    assert [(r["scenario"], r["score"]["engagements"]) for r in other
            if r["version_id"] == version["id"]] == [("other", 10)]
    for response in (score, client.get(board, headers=auth(engineer)),
                     client.get(f"/api/v1/prototypes/{prototype['id']}/feedback",
                                headers=auth(engineer), params={"format": "csv"})):
        assert "Vovchansk" not in response.text
    page_session(client, engineer)
    coverage = client.get(f"/versions/{version['id']}/coverage").text
    compare = client.get(f"/prototypes/{prototype['id']}/compare").text
    own = client.get(f"/prototypes/{prototype['id']}").text + client.get("/engineer").text
    assert "Vovchansk" not in coverage + compare + own
    assert "<td>other <small>(named in trials)</small></td><td>shahed_136</td>" in coverage
    reviewer = make_user(Role.reviewer)
    score = client.get(f"/api/v1/versions/{version['id']}/score", headers=auth(reviewer))
    assert set(score.json()["by_scenario"]) == {TYPED}
    page_session(client, reviewer)
    assert TYPED in client.get(f"/versions/{version['id']}/coverage").text


@pytest.mark.parametrize("role", [Role.soldier, Role.reviewer, Role.admin])
def test_only_engineers_read_as_released(role) -> None:
    assert view_for(str(role), scenarios=["shahed_raid"]) == EXACT
    engineers = view_for(str(Role.engineer), scenarios=["shahed_raid"])
    assert engineers.released_only
    assert (engineers.shown("shahed_raid"), engineers.shown(TYPED)) == ("shahed_raid", "other")
