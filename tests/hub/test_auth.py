from datetime import UTC, datetime, timedelta

import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from hub.auth import ALGORITHM
from sandbox.models import Role
from tests.conftest import PASSWORD, SECRET, auth


def test_log_in_answers_a_short_lived_bearer_token(client, make_user, settings) -> None:
    user = make_user(Role.soldier)
    response = client.post("/api/v1/auth/token",
                           data={"username": user.name, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.token_ttl_s
    claims = jwt.decode(body["access_token"], SECRET, algorithms=[ALGORITHM])
    assert claims["sub"] == str(user.id)
    assert claims["exp"] - claims["iat"] == settings.token_ttl_s
    me = client.get("/api/v1/auth/me",
                    headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["name"] == user.name
    assert "password_hash" not in me.json()


@pytest.mark.parametrize("name, password", [("known", "wrong password"), ("nobody", PASSWORD)])
def test_wrong_credentials_are_refused_alike(client, make_user, name, password) -> None:
    make_user(Role.soldier, name="known")
    response = client.post("/api/v1/auth/token", data={"username": name, "password": password})
    assert response.status_code == 401
    assert response.json() == {"detail": "wrong user name or password"}


def test_inactive_user_cannot_log_in(client, make_user) -> None:
    user = make_user(Role.soldier, is_active=False)
    response = client.post("/api/v1/auth/token",
                           data={"username": user.name, "password": PASSWORD})
    assert response.status_code == 401


def _claims(user_id: int, **overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    return {"sub": str(user_id), "iat": now, "exp": now + timedelta(minutes=5), "jti": "j",
            **overrides}


def test_missing_token_is_refused(client) -> None:
    response = client.get("/api/v1/prototypes")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_expired_token_is_refused(client, make_user) -> None:
    user = make_user(Role.admin)
    past = datetime.now(UTC) - timedelta(hours=1)
    token = jwt.encode(_claims(user.id, iat=past, exp=past + timedelta(minutes=5)), SECRET,
                       algorithm="HS256")
    assert client.get("/api/v1/auth/me",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_alg_none_token_is_refused(client, make_user) -> None:
    user = make_user(Role.admin)
    token = jwt.encode(_claims(user.id), None, algorithm="none")
    assert client.get("/api/v1/auth/me",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_token_with_another_algorithm_is_refused(client, make_user) -> None:
    user = make_user(Role.admin)
    with pytest.warns(InsecureKeyLengthWarning):  # same secret, so only the algorithm differs
        token = jwt.encode(_claims(user.id), SECRET, algorithm="HS512")
    assert client.get("/api/v1/auth/me",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_tampered_token_is_refused(client, make_user) -> None:
    soldier = make_user(Role.soldier)
    admin = make_user(Role.admin)
    header, payload, signature = auth(soldier)["Authorization"][7:].split(".")
    forged_payload = jwt.encode(_claims(admin.id), "g" * 32, algorithm="HS256").split(".")[1]
    token = f"{header}.{forged_payload}.{signature}"
    assert client.get("/api/v1/auth/me",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_token_without_expiry_is_refused(client, make_user) -> None:
    user = make_user(Role.admin)
    claims = _claims(user.id)
    del claims["exp"]
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    assert client.get("/api/v1/auth/me",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_token_of_deleted_user_is_refused(client, make_user) -> None:
    headers = {"Authorization": f"Bearer {jwt.encode(_claims(999_999), SECRET, 'HS256')}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def _log_in(client, name: str, password: str):
    return client.post("/api/v1/auth/token", data={"username": name, "password": password})


def test_account_locks_after_five_failures_in_a_row(client, make_user, session) -> None:
    user = make_user(Role.soldier)
    for _ in range(5):
        assert _log_in(client, user.name, "wrong password").status_code == 401
    locked = _log_in(client, user.name, PASSWORD)
    assert locked.status_code == 401
    assert locked.json() == {"detail": "wrong user name or password"}  # no lock-out oracle
    session.refresh(user)
    assert user.locked_until is not None


def test_success_resets_the_failure_count(client, make_user, session) -> None:
    user = make_user(Role.soldier)
    for _ in range(4):
        _log_in(client, user.name, "wrong password")
    assert _log_in(client, user.name, PASSWORD).status_code == 200
    session.refresh(user)
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_one_address_is_throttled_after_many_failures(client, app) -> None:
    app.state.login_throttle.max_failures = 3
    for index in range(3):
        assert _log_in(client, f"nobody-{index}", "x").status_code == 401
    throttled = _log_in(client, "nobody", "x")
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0


def test_logout_revokes_the_token(client, make_user) -> None:
    user = make_user(Role.engineer)
    token = _log_in(client, user.name, PASSWORD).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert client.get("/api/v1/auth/me", headers=auth(user)).status_code == 200  # others live
