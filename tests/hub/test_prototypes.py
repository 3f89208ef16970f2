import pytest

from sandbox.models import OrgKind, Role
from tests.conftest import auth
from tests.factories import new_prototype, new_version


def test_engineer_registers_a_prototype_owned_by_their_company(client, make_user) -> None:
    engineer = make_user(Role.engineer)
    body = new_prototype(client, engineer, name="Hornet", export_control="EU dual-use 9A012")
    assert body["organisation_id"] == engineer.organisation_id
    assert body["sandbox_status"] == "submitted"
    assert body["export_control"] == "EU dual-use 9A012"
    read = client.get(f"/api/v1/prototypes/{body['id']}", headers=auth(engineer))
    assert read.json() == body


@pytest.mark.parametrize("field, value", [("organisation_id", 999), ("sandbox_status", "ready"),
                                          ("id", 5), ("score", 1.0)])
def test_client_cannot_set_server_owned_fields(client, make_user, field, value) -> None:
    engineer = make_user(Role.engineer)
    response = client.post("/api/v1/prototypes", headers=auth(engineer),
                           json={"name": "Hornet", "kind": "interceptor_drone", field: value})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert client.get("/api/v1/prototypes", headers=auth(engineer)).json() == []


@pytest.mark.parametrize("role", [Role.soldier, Role.reviewer, Role.admin])
def test_only_engineers_register_prototypes(client, make_user, role) -> None:
    response = client.post("/api/v1/prototypes", headers=auth(make_user(role)),
                           json={"name": "Hornet", "kind": "interceptor_drone"})
    assert response.status_code == 403


def test_unknown_kind_is_refused_naming_the_field(client, make_user) -> None:
    response = client.post("/api/v1/prototypes", headers=auth(make_user(Role.engineer)),
                           json={"name": "Hornet", "kind": "death_ray"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "kind"]


def test_engineer_cannot_see_other_company_prototype(client, make_user) -> None:
    mine, theirs = make_user(Role.engineer), make_user(Role.engineer)
    prototype = new_prototype(client, theirs)
    for method, path in [("get", f"/api/v1/prototypes/{prototype['id']}"),
                         ("get", f"/api/v1/prototypes/{prototype['id']}/versions")]:
        response = client.request(method, path, headers=auth(mine))
        assert response.status_code == 404
        assert response.json() == {"detail": f"prototype {prototype['id']} not found"}
    assert client.get("/api/v1/prototypes", headers=auth(mine)).json() == []


def test_engineer_cannot_change_other_company_prototype(client, make_user) -> None:
    mine, theirs = make_user(Role.engineer), make_user(Role.engineer)
    prototype = new_prototype(client, theirs, name="Original")
    response = client.patch(f"/api/v1/prototypes/{prototype['id']}", headers=auth(mine),
                            json={"name": "Stolen"})
    assert response.status_code == 404
    versions = client.post(f"/api/v1/prototypes/{prototype['id']}/versions", headers=auth(mine),
                           json={"version": "9.9.9", "unit_cost_eur": 1})
    assert versions.status_code == 404
    assert client.get(f"/api/v1/prototypes/{prototype['id']}",
                      headers=auth(theirs)).json()["name"] == "Original"


def test_owner_edits_prototype_but_not_its_owner(client, make_user) -> None:
    engineer = make_user(Role.engineer)
    prototype = new_prototype(client, engineer)
    response = client.patch(f"/api/v1/prototypes/{prototype['id']}", headers=auth(engineer),
                            json={"description": "now with a thermal seeker"})
    assert response.status_code == 200
    assert response.json()["description"] == "now with a thermal seeker"
    refused = client.patch(f"/api/v1/prototypes/{prototype['id']}", headers=auth(engineer),
                           json={"organisation_id": 1})
    assert refused.status_code == 422


@pytest.mark.parametrize("role", [Role.soldier, Role.reviewer])
def test_soldiers_and_reviewers_read_but_do_not_edit(client, make_user, role) -> None:
    prototype = new_prototype(client, make_user(Role.engineer))
    user = make_user(role)
    assert client.get(f"/api/v1/prototypes/{prototype['id']}",
                      headers=auth(user)).status_code == 200
    response = client.patch(f"/api/v1/prototypes/{prototype['id']}", headers=auth(user),
                            json={"name": "Renamed"})
    assert response.status_code == 403


def test_listing_is_paginated_and_filtered(client, make_user, make_org) -> None:
    company = make_org(OrgKind.company)
    engineer = make_user(Role.engineer, company)
    for index in range(5):
        new_prototype(client, engineer, name=f"Proto {index}",
                      kind="interceptor_drone" if index % 2 else "cuas_sensor")
    reviewer = make_user(Role.reviewer)
    page = client.get("/api/v1/prototypes?limit=2&offset=1", headers=auth(reviewer)).json()
    assert [p["name"] for p in page] == ["Proto 1", "Proto 2"]
    sensors = client.get("/api/v1/prototypes?kind=cuas_sensor", headers=auth(reviewer)).json()
    assert [p["name"] for p in sensors] == ["Proto 0", "Proto 2", "Proto 4"]
    assert client.get("/api/v1/prototypes?limit=0", headers=auth(reviewer)).status_code == 422
    other = client.get(f"/api/v1/prototypes?organisation_id={company.id + 1000}",
                       headers=auth(reviewer)).json()
    assert other == []


def test_versions_of_a_prototype_are_listed(client, make_user) -> None:
    engineer = make_user(Role.engineer)
    prototype = new_prototype(client, engineer)
    new_version(client, engineer, prototype["id"], version="1.0.0")
    new_version(client, engineer, prototype["id"], version="1.1.0")
    listed = client.get(f"/api/v1/prototypes/{prototype['id']}/versions", headers=auth(engineer))
    assert [v["version"] for v in listed.json()] == ["1.0.0", "1.1.0"]
