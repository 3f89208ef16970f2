import pytest

from sandbox.models import OrgKind, Role
from tests.conftest import PASSWORD, auth


def test_admin_creates_organisations_and_users(client, make_user) -> None:
    admin = make_user(Role.admin)
    org = client.post("/api/v1/organisations", headers=auth(admin),
                      json={"name": "Unit Charlie", "kind": "unit", "region": "South"})
    assert org.status_code == 201
    assert org.json()["kind"] == "unit"
    user = client.post("/api/v1/users", headers=auth(admin), json={
        "name": "charlie-1", "role": "soldier", "organisation_id": org.json()["id"],
        "password": "long enough secret"})
    assert user.status_code == 201
    assert "password" not in user.json() and "password_hash" not in user.json()
    token = client.post("/api/v1/auth/token",
                        data={"username": "charlie-1", "password": "long enough secret"})
    assert token.status_code == 200
    names = [u["name"] for u in client.get("/api/v1/users", headers=auth(admin)).json()]
    assert "charlie-1" in names


@pytest.mark.parametrize("role", [Role.soldier, Role.engineer, Role.reviewer])
def test_only_admins_manage_accounts(client, make_user, role) -> None:
    user = make_user(role)
    assert client.post("/api/v1/organisations", headers=auth(user),
                       json={"name": "Rogue Org", "kind": "company"}).status_code == 403
    assert client.post("/api/v1/users", headers=auth(user), json={
        "name": "rogue", "role": "admin", "password": "x" * 12}).status_code == 403
    assert client.get("/api/v1/users", headers=auth(user)).status_code == 403


def test_duplicate_organisation_name_conflicts(client, make_user) -> None:
    admin = make_user(Role.admin)
    body = {"name": "Skyfence", "kind": "company"}
    assert client.post("/api/v1/organisations", headers=auth(admin), json=body).status_code == 201
    again = client.post("/api/v1/organisations", headers=auth(admin), json=body)
    assert again.status_code == 409


def test_engineer_must_sit_in_a_company(client, make_user, make_org) -> None:
    unit = make_org(OrgKind.unit)
    response = client.post("/api/v1/users", headers=auth(make_user(Role.admin)), json={
        "name": "eng", "role": "engineer", "organisation_id": unit.id, "password": PASSWORD})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "organisation_id"]


@pytest.mark.parametrize("change", [{"password": "short"}, {"role": "general"},
                                    {"name": "a b"}, {"is_active": True}])
def test_bad_user_input_is_refused(client, make_user, change) -> None:
    admin = make_user(Role.admin)
    body = {"name": "valid-name", "role": "admin", "password": PASSWORD, **change}
    assert client.post("/api/v1/users", headers=auth(admin), json=body).status_code == 422
    assert [u["name"] for u in client.get("/api/v1/users", headers=auth(admin)).json()] == [
        admin.name]


def test_others_see_only_their_own_organisation(client, make_user, make_org) -> None:
    make_org(OrgKind.company)
    soldier = make_user(Role.soldier)
    seen = client.get("/api/v1/organisations", headers=auth(soldier)).json()
    assert [o["id"] for o in seen] == [soldier.organisation_id]
    everything = client.get("/api/v1/organisations", headers=auth(make_user(Role.reviewer)))
    assert len(everything.json()) == 3
