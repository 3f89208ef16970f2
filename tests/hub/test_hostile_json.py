"""Hostile JSON at every JSON route, with valid tokens of a role the route admits: never a 5xx,
and a refusal changes no row.

Bodies are arbitrary JSON, or a valid example with one field replaced by something hostile:
nesting hundreds or thousands deep, NaN and infinities, numbers past every integer type, lone
surrogates, NUL, dates that leave the calendar once in UTC. JSON's own text is written here, not
by json.dumps, which refuses some of these.
"""

import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel, col, func, select

from hub.app import create_app
from hub.settings import Settings
from sandbox.models import Role, SimulationJob
from sandbox.models.jobs import UNFINISHED
from tests.conftest import SECRET, auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version
from tests.hub.test_access_matrix import api_routes, declared_roles

# The audit log records refusals by design; a failed log-in backs off. Nothing else may change.
MAY_CHANGE_ON_REFUSAL = {"audit_entry", "audit_head", "login_failure"}

HOSTILE = [
    "NaN", "Infinity", "-Infinity", "1e999999", "-1e999999", "1e-999999", "1" + "0" * 400,
    "9223372036854775808", "-9223372036854775809", "2147483648", "-1", "0", "true", "null",
    '"\\ud800"', '"a\\udfffb"', '"\\u0000"', '""', '"' + "x" * 20_000 + '"',
    '"0001-01-01T00:00:00+01:00"', '"9999-12-31T23:59:59-01:00"',
    '"9999-12-31T23:59:59-14:00"', '"0000-00-00T25:61:61Z"', "[]", "{}",
]


def _deep(depth: int, kind: str) -> str:
    return ("[" * depth + "]" * depth if kind == "list"
            else '{"a": ' * depth + "1" + "}" * depth)


def _value_text(value: Any) -> str:
    return json.dumps(value, allow_nan=True)  # escapes lone surrogates as \ud800


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                    st.text(st.characters(codec=None), max_size=30),
                    st.sampled_from(["\ud800", "\udfff", "\x00"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=25)
fragments = st.one_of(st.sampled_from(HOSTILE),
                      st.builds(_deep, st.sampled_from([17, 300, 999, 9_999]),
                                st.sampled_from(["list", "dict"])),
                      values.map(_value_text))


def _with_field(example: Any, data: st.DataObject) -> str:
    """The example as JSON text with one field (of its first item, for a list) replaced by a
    hostile fragment, or one such field added."""
    items = example if isinstance(example, list) else [example]
    if not items or not isinstance(items[0], dict):
        return data.draw(fragments)
    field = data.draw(st.sampled_from([*sorted(items[0]), "unexpected"]))
    marker = "\u2063hostile\u2063"
    changed = [{**items[0], field: marker}, *items[1:]]
    written = _value_text(changed if isinstance(example, list) else changed[0])
    return written.replace(_value_text(marker), data.draw(fragments))


def _examples(world: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """A valid body per route; routes without one are fuzzed from nothing."""
    return {
        ("POST", "/api/v1/organisations"): {"name": "Unit Fuzz", "kind": "unit"},
        ("POST", "/api/v1/users"): {"name": "fuzzed", "role": "admin",
                                    "password": "long enough secret"},
        ("PATCH", "/api/v1/users/{user_id}"): {"is_active": True},
        ("POST", "/api/v1/prototypes"): {"name": "Hornet", "kind": "interceptor_drone"},
        ("PATCH", "/api/v1/prototypes/{prototype_id}"): {"name": "Hornet 2", "description": ""},
        ("POST", "/api/v1/prototypes/{prototype_id}/versions"): {
            "version": "9.9.9", "unit_cost_eur": 4000, "parameters": {"gain": 1}},
        ("PATCH", "/api/v1/versions/{version_id}"): {"changelog": "x", "parameters": {}},
        ("POST", "/api/v1/trials"): {"version_id": world["version_id"], "kind": "field",
                                     "scenario": "s", "started_at": "2026-11-01T08:00:00Z",
                                     "lat": 50.0, "lon": 30.0},
        ("POST", "/api/v1/trials/{trial_id}/engagements"): [engagement()],
        ("POST", "/api/v1/trials/{trial_id}/reports"): {
            "effectiveness": 4, "ease_of_use": 4, "reliability": 4, "text": "ok"},
        ("POST", "/api/v1/api-keys"): {"name": "k", "scope": "trial",
                                       "scope_id": world["trial_id"], "access": "read"},
        ("POST", "/api/v1/versions/{version_id}/simulations"): {
            "scenario": "shahed_raid", "runs": 1, "seed": 1},
        ("POST", "/api/v1/trials/{trial_id}/telemetry-sessions"): {"sysid": 1},
        ("POST", "/api/v1/prototypes/{prototype_id}/decisions"): {
            "to_status": "admitted", "rationale": "evidence reviewed",
            "expires_at": "2030-01-01T00:00:00Z",
            "conditions": {"altitude_ceiling_m": 120, "radio_bands": ["2.4 GHz"]}},
        ("POST", "/api/v1/findings"): {"prototype_id": world["prototype_id"],
                                       "severity": "low", "title": "loose prop"},
        ("PATCH", "/api/v1/findings/{finding_id}"): {"status": "closed",
                                                     "resolution": "fixed it"},
    }


def json_routes(app: Any) -> list[tuple[str, str, Any]]:
    document = app.openapi()
    wanted = {(method.upper(), path) for path, item in document["paths"].items()
              for method, operation in item.items()
              if "application/json" in operation.get("requestBody", {}).get("content", {})}
    return [(method, path, route) for method, path, route in api_routes(app)
            if (method, path) in wanted]


ROUTES = [(method, path) for method, path, _ in json_routes(
    create_app(Settings(database_url="sqlite://", secret_key=SECRET, audit_key=SECRET)))]


def test_every_json_route_is_fuzzed() -> None:
    assert len(ROUTES) >= 15
    assert ("PATCH", "/api/v1/versions/{version_id}") in ROUTES


@pytest.fixture
def world(client, make_user) -> dict[str, Any]:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    prototype = new_prototype(client, engineer)
    trialled = new_version(client, engineer, prototype["id"])
    trial = new_trial(client, soldier, trialled["id"])
    add_engagements(client, soldier, trial["id"], [engagement()])
    finding = client.post("/api/v1/findings", headers=auth(soldier), json={
        "prototype_id": prototype["id"], "severity": "low", "title": "loose prop"}).json()
    users = {Role.engineer: engineer, Role.soldier: soldier,
             Role.reviewer: make_user(Role.reviewer), Role.admin: make_user(Role.admin)}
    return {"users": users, "prototype_id": prototype["id"], "trial_id": trial["id"],
            "version_id": new_version(client, engineer, prototype["id"],
                                      version="1.1.0")["id"],
            "finding_id": finding["id"], "user_id": make_user(Role.soldier).id}


def _rows(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as connection:
        return {table.name: sorted(repr(tuple(row)) for row in connection.execute(
                    text(f'SELECT * FROM "{table.name}"')))
                for table in SQLModel.metadata.sorted_tables
                if table.name not in MAY_CHANGE_ON_REFUSAL}


def _settled(engine: Engine, timeout_s: float = 60.0) -> None:
    """Wait until no simulation job is queued or running: what it records is not the
    refused request's doing."""
    deadline = time.monotonic() + timeout_s
    with Session(engine) as session:
        while session.exec(select(func.count()).select_from(SimulationJob).where(
                col(SimulationJob.status).in_(UNFINISHED))).one():
            assert time.monotonic() < deadline, "a simulation job never finished"
            time.sleep(0.05)
            session.expire_all()


def _caller(route: Any, users: dict[Role, Any]) -> Any:
    allowed = declared_roles(route) or frozenset(Role)
    return next(users[role] for role in (Role.engineer, Role.soldier, Role.reviewer, Role.admin)
                if role in allowed)


PARAMETRISE = pytest.mark.parametrize(("method", "path"), ROUTES,
                                      ids=[f"{m} {p}" for m, p in ROUTES])


@PARAMETRISE
def test_hostile_json_is_refused_cleanly(app, client, engine, world, method, path) -> None:
    _fuzz(app, client, engine, world, method, path, examples=12)


@pytest.mark.slow
@PARAMETRISE
def test_much_hostile_json_is_refused_cleanly(app, client, engine, world, method,
                                              path) -> None:
    _fuzz(app, client, engine, world, method, path, examples=300)


def _fuzz(app: Any, client: Any, engine: Engine, world: dict[str, Any], method: str,
          path: str, *, examples: int) -> None:
    route = next(r for m, p, r in json_routes(app) if (m, p) == (method, path))
    headers = {**auth(_caller(route, world["users"])), "content-type": "application/json"}
    url = path.format(**world)
    example = _examples(world).get((method, path), {})

    def refused_cleanly_once(body: str) -> None:
        _settled(engine)  # a simulation an earlier example queued writes when it runs
        before = _rows(engine)
        response = client.request(method, url, headers=headers,
                                  content=body.encode("utf-8", "surrogatepass"))
        assert response.status_code < 500, (body[:300], response.text[:300])
        response.json()  # every answer renders, whatever was sent
        if response.status_code >= 400:
            assert _rows(engine) == before, (body[:300], response.text[:300])

    for depth in (17, 300, 999, 9_999):  # always, not only when drawn
        for kind in ("list", "dict"):
            refused_cleanly_once(_deep(depth, kind))

    @given(data=st.data())
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def refused_cleanly(data: st.DataObject) -> None:
        whole = data.draw(st.booleans())
        refused_cleanly_once(data.draw(fragments) if whole else _with_field(example, data))

    refused_cleanly()
