from datetime import UTC, datetime, timedelta

import httpx2 as httpx  # the HTTP client the test extra declares
import jwt
import pytest
from fastapi.testclient import TestClient
from jwt.warnings import InsecureKeyLengthWarning
from sqlmodel import select

from hub.app import create_app
from hub.auth import ALGORITHM
from sandbox.accounts import FREE_FAILURES, backoff
from sandbox.models import AuditEntry, LoginFailure, Role
from tests.conftest import PASSWORD, SECRET, auth
from tests.hub.served import served


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


def _from(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 50000))


def _fail_until_refused(client: TestClient, name: str) -> int:
    """Wrong passwords until the hub makes this address wait; how many failures it took.
    (The first waits are short; a slow machine may outlast one, so keep failing.)"""
    failures = 0
    while (answer := _log_in(client, name, "wrong password")).status_code == 401:
        failures += 1
        assert failures <= FREE_FAILURES + 8
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) >= 1
    assert "for this account from your address" in answer.json()["detail"]
    return failures


def test_failures_back_off_only_that_name_from_that_address(app, make_user, session) -> None:
    user = make_user(Role.soldier)
    attacker = _from(app, "203.0.113.9")
    failures = _fail_until_refused(attacker, user.name)
    assert failures > FREE_FAILURES  # the first few cost nothing
    [row] = session.exec(select(LoginFailure)).all()
    assert (row.name, row.source, row.failures) == (user.name, "203.0.113.9", failures)
    assert row.blocked_until > row.last_failed_at
    assert _log_in(_from(app, "198.51.100.7"), user.name, PASSWORD).status_code == 200


def test_a_correct_password_from_an_address_that_never_failed_is_never_locked_out(
        app, make_user, session) -> None:
    user = make_user(Role.soldier)
    for index in range(3):  # several addresses, each failing until it must wait
        _fail_until_refused(_from(app, f"203.0.113.{index}"), user.name)
    assert len(session.exec(select(LoginFailure)).all()) == 3
    assert _log_in(_from(app, "198.51.100.7"), user.name, PASSWORD).status_code == 200


def test_the_wait_doubles_and_stops_at_fifteen_minutes() -> None:
    assert [backoff(n).total_seconds() for n in range(1, 8)] == [0, 0, 0, 1, 2, 4, 8]
    assert backoff(40) == timedelta(minutes=15)


def test_unknown_names_back_off_alike(client) -> None:
    assert _fail_until_refused(client, "nobody-at-all") > FREE_FAILURES


def test_success_forgets_that_addresses_failures(client, make_user, session) -> None:
    user = make_user(Role.soldier)
    for _ in range(FREE_FAILURES):
        _log_in(client, user.name, "wrong password")
    assert _log_in(client, user.name, PASSWORD).status_code == 200
    session.expire_all()
    assert session.exec(select(LoginFailure)).all() == []


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


def _refused_sources(session) -> list[str]:
    session.expire_all()
    return [e.source for e in session.exec(select(AuditEntry)).all() if e.action == "refused"]


@pytest.mark.parametrize("trusted, seen", [("", "127.0.0.1"), ("127.0.0.1", "192.0.2.44")])
def test_forwarded_addresses_are_believed_only_from_configured_proxies(
        settings, engine, session, trusted, seen) -> None:
    settings = settings.model_copy(update={"trusted_proxies": trusted})
    with served(create_app(settings, engine=engine), settings) as (url, _server):
        forged = {"X-Forwarded-For": "192.0.2.44"}
        assert httpx.get(f"{url}/api/v1/prototypes", headers=forged).status_code == 401
        for _ in range(FREE_FAILURES + 1):
            httpx.post(f"{url}/api/v1/auth/token", headers=forged,
                       data={"username": "someone", "password": "wrong password"})
    assert set(_refused_sources(session)) == {seen}
    [row] = session.exec(select(LoginFailure)).all()
    assert (row.source, row.failures) == (seen, FREE_FAILURES + 1)


def test_trusted_proxies_must_be_addresses(settings) -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
        settings.model_validate({**settings.model_dump(), "trusted_proxies": "*"})
