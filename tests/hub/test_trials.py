import pytest

from sandbox.models import OrgKind, Role
from tests.conftest import auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version


@pytest.fixture
def version(client, make_user) -> dict:
    engineer = make_user(Role.engineer)
    return new_version(client, engineer, new_prototype(client, engineer)["id"])


def test_soldier_trial_belongs_to_their_unit(client, make_user, version) -> None:
    soldier = make_user(Role.soldier)
    trial = new_trial(client, soldier, version["id"], lat=50.45, lon=30.52, notes="windy")
    assert trial["unit_id"] == soldier.organisation_id
    assert trial["started_at"] == "2026-11-01T08:00:00Z"
    assert trial["notes"] == "windy"
    assert (trial["lat"], trial["lon"]) == (None, None)  # positions leave only to reviewers


def test_reviewer_sees_positions(client, make_user, version) -> None:
    trial = new_trial(client, make_user(Role.soldier), version["id"], lat=50.45, lon=30.52)
    seen = client.get(f"/api/v1/trials/{trial['id']}", headers=auth(make_user(Role.reviewer)))
    assert (seen.json()["lat"], seen.json()["lon"]) == (50.45, 30.52)


def test_client_cannot_choose_the_unit(client, make_user, make_org, version) -> None:
    other_unit = make_org(OrgKind.unit)
    response = client.post("/api/v1/trials", headers=auth(make_user(Role.soldier)), json={
        "version_id": version["id"], "kind": "field", "scenario": "s",
        "started_at": "2026-11-01T08:00:00Z", "unit_id": other_unit.id})
    assert response.status_code == 422


@pytest.mark.parametrize("change, field", [
    ({"kind": "simulator"}, "simulator"),
    ({"ended_at": "2026-10-01T00:00:00Z"}, "ended_at"),
    ({"lat": 50.0}, "lat/lon"),
    ({"lat": 91, "lon": 0}, "lat"),
    ({"kind": "wargame"}, "kind"),
    ({"started_at": "yesterday"}, "started_at"),
])
def test_bad_trial_input_is_refused(client, make_user, version, change, field) -> None:
    soldier = make_user(Role.soldier)
    body = {"version_id": version["id"], "kind": "field", "scenario": "s",
            "started_at": "2026-11-01T08:00:00Z", **change}
    response = client.post("/api/v1/trials", headers=auth(soldier), json=body)
    assert response.status_code == 422
    assert field in str(response.json()["detail"])
    assert client.get("/api/v1/trials", headers=auth(soldier)).json() == []


def test_trial_of_unknown_version_is_refused(client, make_user) -> None:
    response = client.post("/api/v1/trials", headers=auth(make_user(Role.soldier)), json={
        "version_id": 9999, "kind": "field", "scenario": "s", "started_at": "2026-11-01T08:00:00Z"})
    assert response.status_code == 422
    assert response.json()["detail"] == [{"loc": ["body", "version_id"], "type": "invalid",
                                          "msg": "version_id: version 9999 does not exist"}]


def test_simulator_trial_names_its_simulator(client, make_user, version) -> None:
    trial = new_trial(client, make_user(Role.soldier), version["id"], kind="simulator",
                      simulator="VBS4", started_at="2026-11-01T10:00:00+02:00")
    assert trial["simulator"] == "VBS4"
    assert trial["started_at"] == "2026-11-01T08:00:00Z"


@pytest.mark.parametrize("role", [Role.engineer, Role.admin])
def test_only_soldiers_and_reviewers_record_trials(client, make_user, version, role) -> None:
    response = client.post("/api/v1/trials", headers=auth(make_user(role)), json={
        "version_id": version["id"], "kind": "field", "scenario": "s",
        "started_at": "2026-11-01T08:00:00Z"})
    assert response.status_code == 403


def test_soldier_cannot_see_another_units_trial(client, make_user, version) -> None:
    mine, theirs = make_user(Role.soldier), make_user(Role.soldier)
    trial = new_trial(client, theirs, version["id"])
    for path in (f"/api/v1/trials/{trial['id']}", f"/api/v1/trials/{trial['id']}/engagements",
                 f"/api/v1/trials/{trial['id']}/reports"):
        assert client.get(path, headers=auth(mine)).status_code == 404
    refused = client.post(f"/api/v1/trials/{trial['id']}/engagements", headers=auth(mine),
                          json=[engagement()])
    assert refused.status_code == 404
    assert client.get("/api/v1/trials", headers=auth(mine)).json() == []


def test_engineers_get_no_raw_trial_data(client, make_user, version) -> None:
    engineer = make_user(Role.engineer)
    trial = new_trial(client, make_user(Role.soldier), version["id"])
    for path in ("/api/v1/trials", f"/api/v1/trials/{trial['id']}",
                 f"/api/v1/trials/{trial['id']}/engagements",
                 f"/api/v1/trials/{trial['id']}/reports"):
        response = client.get(path, headers=auth(engineer))
        assert response.status_code == 403
        assert "scenario" not in response.text


def test_engagements_are_posted_in_bulk_and_listed(client, make_user, version) -> None:
    soldier = make_user(Role.soldier)
    trial = new_trial(client, soldier, version["id"])
    posted = add_engagements(client, soldier, trial["id"], [
        engagement(), engagement(outcome="miss", time_to_intercept_s=None,
                                 operating_cost_eur="12.50")])
    assert [e["outcome"] for e in posted] == ["intercept", "miss"]
    assert posted[1]["operating_cost_eur"] == 12.5
    listed = client.get(f"/api/v1/trials/{trial['id']}/engagements?limit=1&offset=1",
                        headers=auth(make_user(Role.reviewer))).json()
    assert listed == [posted[1]]


@pytest.mark.parametrize("bad", [
    {"outcome": "vaporised"}, {"threat_cost_eur": -5}, {"interceptors_used": -1},
    {"interceptors_used": "two"}, {"time_to_intercept_s": -3}, {"trial_id": 7},
    {"threat_kind": "Shahed 136!"}])
def test_a_bad_engagement_rejects_the_whole_batch(client, make_user, version, bad) -> None:
    soldier = make_user(Role.soldier)
    trial = new_trial(client, soldier, version["id"])
    response = client.post(f"/api/v1/trials/{trial['id']}/engagements", headers=auth(soldier),
                           json=[engagement(), engagement(**bad)])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", 1]
    assert client.get(f"/api/v1/trials/{trial['id']}/engagements",
                      headers=auth(soldier)).json() == []


def test_empty_engagement_list_is_refused(client, make_user, version) -> None:
    soldier = make_user(Role.soldier)
    trial = new_trial(client, soldier, version["id"])
    response = client.post(f"/api/v1/trials/{trial['id']}/engagements", headers=auth(soldier),
                           json=[])
    assert response.status_code == 422


def test_soldier_files_a_report(client, make_user, version) -> None:
    soldier = make_user(Role.soldier)
    trial = new_trial(client, soldier, version["id"])
    response = client.post(f"/api/v1/trials/{trial['id']}/reports", headers=auth(soldier), json={
        "effectiveness": 4, "ease_of_use": 5, "reliability": 3, "text": "seeker lost lock once"})
    assert response.status_code == 201
    assert response.json()["author_id"] == soldier.id
    listed = client.get(f"/api/v1/trials/{trial['id']}/reports",
                        headers=auth(make_user(Role.admin))).json()
    assert [(r["effectiveness"], r["text"]) for r in listed] == [(4, "seeker lost lock once")]


@pytest.mark.parametrize("rating", [0, 6, "good"])
def test_ratings_are_one_to_five(client, make_user, version, rating) -> None:
    soldier = make_user(Role.soldier)
    trial = new_trial(client, soldier, version["id"])
    response = client.post(f"/api/v1/trials/{trial['id']}/reports", headers=auth(soldier), json={
        "effectiveness": rating, "ease_of_use": 3, "reliability": 3})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "effectiveness"]


def test_only_soldiers_file_reports(client, make_user, version) -> None:
    trial = new_trial(client, make_user(Role.soldier), version["id"])
    response = client.post(f"/api/v1/trials/{trial['id']}/reports",
                           headers=auth(make_user(Role.reviewer)),
                           json={"effectiveness": 3, "ease_of_use": 3, "reliability": 3})
    assert response.status_code == 403


def test_trials_are_filtered(client, make_user, make_org) -> None:
    engineer = make_user(Role.engineer)
    soldier = make_user(Role.soldier)
    first = new_prototype(client, engineer, name="Alpha")
    second = new_prototype(client, engineer, name="Bravo")
    v1 = new_version(client, engineer, first["id"])
    v2 = new_version(client, engineer, second["id"])
    t1 = new_trial(client, soldier, v1["id"], kind="field", started_at="2026-10-01T00:00:00Z")
    t2 = new_trial(client, soldier, v2["id"], kind="simulator", simulator="DCS",
                   started_at="2026-11-01T00:00:00Z")
    headers = auth(soldier)

    def ids(query: str) -> list[int]:
        return [t["id"] for t in client.get(f"/api/v1/trials?{query}", headers=headers).json()]

    assert ids(f"version_id={v1['id']}") == [t1["id"]]
    assert ids(f"prototype_id={second['id']}") == [t2["id"]]
    assert ids("kind=simulator") == [t2["id"]]
    assert ids("since=2026-10-15T00:00:00Z") == [t2["id"]]
    assert ids("until=2026-10-15T00:00:00Z") == [t1["id"]]
