import json

import jwt
import pytest

from hub.pages.session import COOKIE, csrf_token
from sandbox.models import Role
from tests.conftest import SECRET, auth
from tests.factories import new_prototype, new_trial, new_version


def test_oversized_body_is_refused_by_its_declared_length(client, make_user, settings) -> None:
    engineer = make_user(Role.engineer)
    body = b'{"name": "' + b"x" * (settings.max_body_bytes + 10) + b'", "kind": "cuas_sensor"}'
    response = client.post("/api/v1/prototypes", content=body,
                           headers={**auth(engineer), "content-type": "application/json"})
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_oversized_chunked_body_is_refused_as_it_arrives(client, make_user, settings) -> None:
    engineer = make_user(Role.engineer)
    chunk = b"x" * 65536

    def chunks():
        yield b'{"name": "'
        for _ in range(settings.max_body_bytes // len(chunk) + 2):
            yield chunk
        yield b'", "kind": "cuas_sensor"}'

    response = client.post("/api/v1/prototypes", content=chunks(),
                           headers={**auth(engineer), "content-type": "application/json"})
    assert response.status_code == 413
    assert client.get("/api/v1/prototypes", headers=auth(engineer)).json() == []
    assert client.get("/healthz").json() == {"status": "ok"}


def test_malformed_json_is_a_clear_client_error(client, make_user) -> None:
    response = client.post("/api/v1/prototypes", content=b'{"name": ',
                           headers={**auth(make_user(Role.engineer)),
                                    "content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_nul_characters_are_refused_naming_the_field(client, make_user) -> None:
    engineer = make_user(Role.engineer)
    response = client.post("/api/v1/prototypes", headers=auth(engineer),
                           json={"name": "Hor\x00net", "kind": "cuas_sensor"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


def test_values_the_database_refuses_are_client_errors(client, make_user, engine) -> None:
    response = client.get("/api/v1/scores?threat_kind=shahed%00", headers=auth(
        make_user(Role.reviewer)))
    if engine.dialect.name == "postgresql":  # PostgreSQL refuses NUL in text; SQLite keeps it
        assert response.status_code == 422
        assert "invalid characters" in response.json()["detail"][0]["msg"]
    else:
        assert (response.status_code, response.json()) == (200, [])


# --- hostile input: a clear 4xx, nothing written, every answer renderable --------------------

def _nested(depth: int) -> dict:
    value: dict = {"gain": 1}
    for _ in range(depth - 1):
        value = {"inner": value}
    return value


def _nested_text(depth: int) -> str:  # json.dumps itself gives up near 1,000 levels
    return '{"inner": ' * (depth - 1) + '{"gain": 1}' + "}" * (depth - 1)


def _post_raw(client, path: str, body: str, user, method: str = "POST"):
    return client.request(method, path, content=body.encode("utf-8", "surrogatepass"),
                          headers={**auth(user), "content-type": "application/json"})


@pytest.mark.parametrize("depth, status", [(17, 422), (300, 422), (999, 400)])
def test_deep_version_parameters_are_refused_before_anything_is_written(client, make_user,
                                                                       depth, status) -> None:
    engineer = make_user(Role.engineer)
    prototype = new_prototype(client, engineer)
    response = _post_raw(client, f"/api/v1/prototypes/{prototype['id']}/versions",
                         '{"version": "1.0.0", "unit_cost_eur": 1, "parameters": '
                         f'{_nested_text(depth)}}}', engineer)
    assert response.status_code == status  # 400: deeper than the JSON parser follows
    if status == 422:
        assert response.json()["detail"][0]["loc"] == ["body", "parameters"]
        assert "nested deeper than 16 levels" in response.json()["detail"][0]["msg"]
    listed = client.get(f"/api/v1/prototypes/{prototype['id']}/versions", headers=auth(engineer))
    assert (listed.status_code, listed.json()) == (200, [])


def test_deep_parameters_in_a_version_edit_change_nothing(client, make_user) -> None:
    engineer = make_user(Role.engineer)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"],
                          parameters=_nested(16))
    response = client.patch(f"/api/v1/versions/{version['id']}", headers=auth(engineer),
                            json={"parameters": _nested(400)})
    assert response.status_code == 422
    read = client.get(f"/api/v1/versions/{version['id']}", headers=auth(engineer))
    assert read.json()["parameters"] == _nested(16)


@pytest.mark.parametrize("parameters, says", [
    ('{"gain": NaN}', "finite"), ('{"gain": Infinity}', "finite"),
    ('{"gain": 1e999999}', "finite"), ('{"name": "\\ud800"}', "surrogate"),
    ('{"\\ud800": 1}', "surrogate"), ('{"blob": "' + "x" * 70_000 + '"}', "65,536 characters"),
])
def test_parameters_that_could_not_be_read_back_are_refused(client, make_user, parameters,
                                                            says) -> None:
    engineer = make_user(Role.engineer)
    prototype = new_prototype(client, engineer)
    response = _post_raw(client, f"/api/v1/prototypes/{prototype['id']}/versions",
                         '{"version": "1.0.0", "unit_cost_eur": 1, "parameters": '
                         f'{parameters}}}', engineer)
    assert response.status_code == 422
    assert says in response.json()["detail"][0]["msg"]
    assert client.get(f"/api/v1/prototypes/{prototype['id']}/versions",
                      headers=auth(engineer)).json() == []


@pytest.mark.parametrize("value, echoed", [
    ("NaN", "nan"), ("1e999999", "inf"), ("-Infinity", "-inf"), ('"\\ud800"', "\\ud800"),
    ("1" + "0" * 40, "10000000000000000000… (41 digits)"),
])
def test_validation_errors_render_whatever_the_input(client, make_user, value, echoed) -> None:
    engineer = make_user(Role.engineer)
    response = _post_raw(client, "/api/v1/prototypes",
                         f'{{"name": {value}, "kind": "cuas_sensor"}}', engineer)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "name"]
    assert error["input"] == echoed
    assert client.get("/api/v1/prototypes", headers=auth(engineer)).json() == []


def test_a_non_finite_latitude_is_refused_by_name(client, make_user) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    response = _post_raw(client, "/api/v1/trials", json.dumps(
        {"version_id": version["id"], "kind": "field", "scenario": "s", "lon": 30,
         "started_at": "2026-11-01T08:00:00Z"})[:-1] + ', "lat": 1e999}', soldier)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "lat"]
    assert response.json()["detail"][0]["input"] == "inf"


def test_a_huge_echoed_input_is_cut_short(client, make_user) -> None:
    response = client.post("/api/v1/prototypes", headers=auth(make_user(Role.engineer)),
                           json={"name": "x" * 500_000, "kind": "cuas_sensor"})
    assert response.status_code == 422
    assert len(response.content) < 2_000


EDGE_DATES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]


@pytest.mark.parametrize("moment", EDGE_DATES)
def test_dates_past_the_calendar_in_utc_are_refused(client, make_user, moment) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    response = client.post("/api/v1/trials", headers=auth(soldier), json={
        "version_id": version["id"], "kind": "field", "scenario": "s", "started_at": moment})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "started_at"]
    assert "outside the years 1 to 9999 in UTC" in response.json()["detail"][0]["msg"]
    assert client.get("/api/v1/trials", headers=auth(soldier)).json() == []


def test_a_decision_expiring_past_the_calendar_is_refused(client, make_user) -> None:
    engineer, reviewer = make_user(Role.engineer), make_user(Role.reviewer)
    prototype = new_prototype(client, engineer)
    response = client.post(f"/api/v1/prototypes/{prototype['id']}/decisions",
                           headers=auth(reviewer), json={
                               "to_status": "admitted", "rationale": "evidence reviewed",
                               "expires_at": EDGE_DATES[1]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "expires_at"]
    assert client.get(f"/api/v1/prototypes/{prototype['id']}/decisions",
                      headers=auth(reviewer)).json() == []


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_a_filter_past_the_calendar_is_a_client_error_not_an_outage(client, make_user,
                                                                    moment) -> None:
    response = client.get("/api/v1/trials", params={"since": moment},
                          headers=auth(make_user(Role.reviewer)))
    assert response.status_code == 422
    assert "out of range" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize("path", ["/api/v1/trials", "/api/v1/prototypes", "/api/v1/audit",
                                  "/api/v1/users"])
def test_offsets_are_bounded_like_ids(client, make_user, path) -> None:
    response = client.get(path, params={"offset": 9223372036854775808},
                          headers=auth(make_user(Role.admin)))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "offset"]


def _page_session(client, user) -> str:
    token = auth(user)["Authorization"].removeprefix("Bearer ")
    client.cookies.set(COOKIE, token)
    return csrf_token(SECRET, jwt.decode(token, SECRET, algorithms=["HS256"])["jti"])


@pytest.mark.parametrize("field, value", [("intercept", "²"), ("miss", "١"),
                                          ("started_at", EDGE_DATES[0])])
def test_the_log_form_refuses_what_it_cannot_read(client, make_user, field, value) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    form = {"csrf": _page_session(client, soldier), "version_id": str(version["id"]),
            "kind": "field", "scenario": "shahed_raid", "started_at": "2026-11-01T08:00",
            "intercept": "1", field: value}
    response = client.post("/log", data=form, headers={"accept": "text/html"})
    assert response.status_code == 422
    assert "Internal" not in response.text
    client.cookies.clear()
    assert client.get("/api/v1/trials", headers=auth(soldier)).json() == []


@pytest.mark.parametrize("content_type, body", [
    ("application/json", "[" * 9_999), ("application/x-ndjson", "[" * 9_999),
    ("application/json", '[{"threat_kind": "fpv", "threat_cost_eur": 500, "outcome": "miss", '
                         '"interceptors_used": 1' + "0" * 400 + "}]"),
    ("application/json", '[{"threat_kind": "\\ud800", "threat_cost_eur": 500, "outcome": "miss", '
                         '"interceptors_used": 1}]'),
])
def test_bulk_engagements_the_parser_cannot_hold_are_refused(client, make_user, content_type,
                                                             body) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    trial = new_trial(client, soldier, version["id"])
    response = client.post(f"/api/v1/trials/{trial['id']}/engagements", content=body,
                           headers={**auth(soldier), "content-type": content_type})
    assert 400 <= response.status_code < 500
    assert client.get(f"/api/v1/trials/{trial['id']}/engagements",
                      headers=auth(soldier)).json() == []


def test_a_courageous_document_may_exceed_the_general_body_limit(client, make_user,
                                                                 settings) -> None:
    soldier, engineer = make_user(Role.soldier), make_user(Role.engineer)
    trial = new_trial(client, soldier, new_version(
        client, engineer, new_prototype(client, engineer, kind="cuas_sensor")["id"])["id"])
    padding = "x" * (settings.max_body_bytes + 10)
    assert settings.max_body_bytes < len(padding) < settings.max_document_bytes
    response = client.post(f"/api/v1/trials/{trial['id']}/courageous",
                           headers=auth(soldier), json={"version": padding})
    assert response.status_code == 422  # read whole and validated, not cut off by the limit
    assert response.json()["detail"][0]["loc"][:2] == ["body", "version"]


def test_a_document_beyond_the_document_limit_is_refused(app, client, make_user,
                                                         settings) -> None:
    soldier = make_user(Role.soldier)
    body = b'{"version": "' + b"x" * (settings.max_document_bytes + 10) + b'"}'
    response = client.post("/api/v1/trials/1/courageous", content=body,
                           headers={**auth(soldier), "content-type": "application/json"})
    assert response.status_code == 413
    assert str(settings.max_document_bytes) in response.json()["detail"]
