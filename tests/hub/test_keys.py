from datetime import timedelta

import pytest
from sqlmodel import select

from sandbox import keys
from sandbox.errors import NotFound
from sandbox.models import ApiKey, KeyAccess, Organisation, Role, Trial
from sandbox.timeutil import utcnow
from tests.conftest import auth
from tests.factories import new_prototype, new_trial, new_version


@pytest.fixture
def trial(client, make_user) -> tuple:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    return soldier, new_trial(client, soldier, version["id"])


def _issue(client, user, **body):
    return client.post("/api/v1/api-keys", headers=auth(user),
                       json={"name": "VBS bridge", "access": "write", **body})


def test_key_is_shown_once_and_stored_hashed(client, session, trial) -> None:
    soldier, made = trial
    response = _issue(client, soldier, scope="trial", scope_id=made["id"])
    assert response.status_code == 201
    key = response.json()["key"]
    assert key.startswith("slk_")
    [row] = session.exec(select(ApiKey)).all()
    assert key not in (row.key_hash, row.prefix)
    listed = client.get("/api/v1/api-keys", headers=auth(soldier)).json()
    assert "key" not in listed[0] and key not in str(listed)


def test_key_grants_only_its_scope_and_access(client, session, trial, make_user) -> None:
    soldier, made = trial
    other = new_trial(client, soldier, made["version_id"])
    key = _issue(client, soldier, scope="trial", scope_id=made["id"], access="read").json()["key"]
    own, foreign = session.get(Trial, made["id"]), session.get(Trial, other["id"])
    assert keys.key_for_trial(session=session, key=key, trial=own, needs=KeyAccess.read)
    with pytest.raises(NotFound):
        keys.key_for_trial(session=session, key=key, trial=own, needs=KeyAccess.write)
    with pytest.raises(NotFound):
        keys.key_for_trial(session=session, key=key, trial=foreign, needs=KeyAccess.read)
    with pytest.raises(NotFound):
        keys.key_for_trial(session=session, key=key[:-2] + "xx", trial=own, needs=KeyAccess.read)


def test_unit_key_covers_the_units_trials(client, session, trial) -> None:
    soldier, made = trial
    key = _issue(client, soldier, scope="unit", scope_id=soldier.organisation_id).json()["key"]
    assert keys.key_for_trial(session=session, key=key, trial=session.get(Trial, made["id"]),
                              needs=KeyAccess.write)


def test_revoked_and_expired_keys_are_refused(client, session, trial) -> None:
    soldier, made = trial
    body = _issue(client, soldier, scope="trial", scope_id=made["id"]).json()
    own = session.get(Trial, made["id"])
    revoked = client.delete(f"/api/v1/api-keys/{body['id']}", headers=auth(soldier))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    with pytest.raises(NotFound):
        keys.key_for_trial(session=session, key=body["key"], trial=own, needs=KeyAccess.read)
    fresh = _issue(client, soldier, scope="trial", scope_id=made["id"]).json()
    row = session.get(ApiKey, fresh["id"])
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    with pytest.raises(NotFound):
        keys.key_for_trial(session=session, key=fresh["key"], trial=own, needs=KeyAccess.read)


def test_soldier_cannot_issue_keys_for_another_unit(client, trial, make_user) -> None:
    _soldier, made = trial
    outsider = make_user(Role.soldier)
    assert _issue(client, outsider, scope="trial", scope_id=made["id"]).status_code == 422
    assert _issue(client, outsider, scope="unit",
                  scope_id=_soldier.organisation_id).status_code == 422
    assert _issue(client, make_user(Role.engineer), scope="trial",
                  scope_id=made["id"]).status_code == 403


def _revoke(client, user, key_id: int):
    return client.delete(f"/api/v1/api-keys/{key_id}", headers=auth(user))


def test_reviewers_and_admins_revoke_any_key(client, trial, make_user) -> None:
    soldier, made = trial
    first = _issue(client, soldier, scope="trial", scope_id=made["id"]).json()
    second = _issue(client, soldier, scope="unit", scope_id=soldier.organisation_id).json()
    reviewer, admin = make_user(Role.reviewer), make_user(Role.admin)
    assert [k["id"] for k in client.get("/api/v1/api-keys", headers=auth(reviewer)).json()] == [
        first["id"], second["id"]]
    revoked = _revoke(client, reviewer, first["id"])
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert _revoke(client, admin, second["id"]).json()["revoked_at"] is not None


def test_soldiers_manage_their_own_units_keys_only(client, session, trial, make_user) -> None:
    soldier, made = trial
    body = _issue(client, soldier, scope="trial", scope_id=made["id"]).json()
    comrade = make_user(Role.soldier, org=session.get(Organisation, soldier.organisation_id))
    outsider = make_user(Role.soldier)
    assert client.get("/api/v1/api-keys", headers=auth(outsider)).json() == []
    assert _revoke(client, outsider, body["id"]).status_code == 404
    assert _revoke(client, make_user(Role.engineer), body["id"]).status_code == 403
    assert [k["id"] for k in client.get("/api/v1/api-keys", headers=auth(comrade)).json()] == [
        body["id"]]
    assert _revoke(client, comrade, body["id"]).json()["revoked_at"] is not None

