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
