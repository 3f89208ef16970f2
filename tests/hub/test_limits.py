from sandbox.models import Role
from tests.conftest import auth


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
