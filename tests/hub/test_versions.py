import pytest

from sandbox.models import Role
from tests.conftest import auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version


def test_version_keeps_money_exact(client, make_user) -> None:
    engineer = make_user(Role.engineer)
    prototype = new_prototype(client, engineer)
    body = new_version(client, engineer, prototype["id"], version="2.1.0-rc.1",
                       unit_cost_eur="3499.99", reusable=True, software_hash="ab12",
                       parameters={"speed_mps": 80}, changelog="faster")
    assert body["unit_cost_eur"] == 3499.99
    assert body["reusable"] is True
    assert body["parameters"] == {"speed_mps": 80}
    assert body["locked"] is False
    assert client.get(f"/api/v1/versions/{body['id']}",
                      headers=auth(engineer)).json() == body


@pytest.mark.parametrize("field, value", [("version", "1.0"), ("unit_cost_eur", -1),
                                          ("unit_cost_eur", "12.345"), ("unit_cost_eur", "abc"),
                                          ("reusable", "perhaps"), ("prototype_id", 3)])
def test_bad_version_input_is_refused_naming_the_field(client, make_user, field, value) -> None:
    engineer = make_user(Role.engineer)
    prototype = new_prototype(client, engineer)
    response = client.post(f"/api/v1/prototypes/{prototype['id']}/versions", headers=auth(engineer),
                           json={"version": "1.0.0", "unit_cost_eur": 100, field: value})
    assert response.status_code == 422
    assert field in response.json()["detail"][0]["loc"]
    assert client.get(f"/api/v1/prototypes/{prototype['id']}/versions",
                      headers=auth(engineer)).json() == []


def test_duplicate_version_number_conflicts(client, make_user) -> None:
    engineer = make_user(Role.engineer)
    prototype = new_prototype(client, engineer)
    new_version(client, engineer, prototype["id"])
    response = client.post(f"/api/v1/prototypes/{prototype['id']}/versions", headers=auth(engineer),
                           json={"version": "1.0.0", "unit_cost_eur": 1})
    assert response.status_code == 409
    assert "exists already" in response.json()["detail"]


def test_untrialled_version_can_be_edited(client, make_user) -> None:
    engineer = make_user(Role.engineer)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    response = client.patch(f"/api/v1/versions/{version['id']}", headers=auth(engineer),
                            json={"unit_cost_eur": "3800.50", "changelog": "cheaper motors"})
    assert response.status_code == 200
    assert response.json()["unit_cost_eur"] == 3800.5
    assert response.json()["changelog"] == "cheaper motors"


def test_trialled_version_is_immutable(client, make_user) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    trial = new_trial(client, soldier, version["id"])
    add_engagements(client, soldier, trial["id"], [engagement()])
    response = client.patch(f"/api/v1/versions/{version['id']}", headers=auth(engineer),
                            json={"unit_cost_eur": 1})
    assert response.status_code == 409
    assert "publish a new version" in response.json()["detail"]
    after = client.get(f"/api/v1/versions/{version['id']}", headers=auth(engineer)).json()
    assert after["unit_cost_eur"] == 4000
    assert after["locked"] is True


def test_engineer_cannot_read_or_edit_other_company_version(client, make_user) -> None:
    mine, theirs = make_user(Role.engineer), make_user(Role.engineer)
    version = new_version(client, theirs, new_prototype(client, theirs)["id"])
    for method in ("get", "patch"):
        response = client.request(method, f"/api/v1/versions/{version['id']}",
                                  headers=auth(mine), json={"changelog": "x"})
        assert response.status_code == 404
        assert response.json() == {"detail": f"version {version['id']} not found"}
    assert client.get(f"/api/v1/versions/{version['id']}/score",
                      headers=auth(mine)).status_code == 404


@pytest.mark.parametrize("role, status", [(Role.soldier, 403), (Role.reviewer, 403),
                                          (Role.admin, 200)])
def test_only_owner_or_admin_edits_a_version(client, make_user, role, status) -> None:
    engineer = make_user(Role.engineer)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    response = client.patch(f"/api/v1/versions/{version['id']}", headers=auth(make_user(role)),
                            json={"changelog": "edited"})
    assert response.status_code == status


def test_unknown_version_is_not_found(client, make_user) -> None:
    response = client.get("/api/v1/versions/424242", headers=auth(make_user(Role.reviewer)))
    assert response.status_code == 404
