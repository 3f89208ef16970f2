"""Small builders that go through the API, as a client would."""

from typing import Any

from fastapi.testclient import TestClient

from sandbox.models import User
from tests.conftest import auth


def new_prototype(client: TestClient, engineer: User, **overrides: Any) -> dict[str, Any]:
    body = {"name": "Hornet", "kind": "interceptor_drone", **overrides}
    response = client.post("/api/v1/prototypes", json=body, headers=auth(engineer))
    assert response.status_code == 201, response.text
    return response.json()


def new_version(client: TestClient, engineer: User, prototype_id: int,
                **overrides: Any) -> dict[str, Any]:
    body = {"version": "1.0.0", "unit_cost_eur": 4000, **overrides}
    response = client.post(f"/api/v1/prototypes/{prototype_id}/versions", json=body,
                           headers=auth(engineer))
    assert response.status_code == 201, response.text
    return response.json()


def new_trial(client: TestClient, soldier: User, version_id: int,
              **overrides: Any) -> dict[str, Any]:
    body = {"version_id": version_id, "kind": "field", "scenario": "shahed_raid",
            "started_at": "2026-11-01T08:00:00Z", **overrides}
    response = client.post("/api/v1/trials", json=body, headers=auth(soldier))
    assert response.status_code == 201, response.text
    return response.json()


def engagement(**overrides: Any) -> dict[str, Any]:
    return {"threat_kind": "shahed_136", "threat_cost_eur": 35000, "interceptors_used": 1,
            "outcome": "intercept", "time_to_intercept_s": 42.0, **overrides}


def add_engagements(client: TestClient, user: User, trial_id: int,
                    items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = client.post(f"/api/v1/trials/{trial_id}/engagements", json=items,
                           headers=auth(user))
    assert response.status_code == 201, response.text
    return response.json()
