"""Every route states the roles it admits, and every other role is refused — on real objects."""

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts

from hub.deps import ANYONE
from sandbox.models import Role
from tests.conftest import auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version

PUBLIC = {("POST", "/api/v1/auth/token"), ("GET", "/healthz")}


def declared_roles(route: APIRoute | APIWebSocketRoute) -> frozenset[Role] | None:
    found = None
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        roles = getattr(dependant.call, "roles", None)
        if roles is not None:
            found = roles if found is None else found & roles
        stack.extend(dependant.dependencies)
    return found


def api_routes(app) -> list[tuple[str, str, APIRoute]]:
    """(method, full path, route) for every HTTP route, included routers flattened."""
    return [(method, context.path, context.original_route)
            for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute)
            and context.original_route.include_in_schema
            for method in sorted(context.methods - {"HEAD", "OPTIONS"})]


# plotly.min.js: the published charting library the pages load, public like /static itself
PUBLIC_PAGES = {("GET", "/login"), ("POST", "/login"), ("GET", "/static/plotly.min.js")}


def test_every_page_states_who_may_open_it(app) -> None:
    pages = [(method, context.path, context.original_route)
             for context in iter_route_contexts(app.routes)
             if isinstance(context.original_route, APIRoute)
             and not context.original_route.include_in_schema
             for method in sorted(context.methods - {"HEAD", "OPTIONS"})]
    assert len(pages) >= 8
    assert [f"{m} {p}" for m, p, route in pages
            if (m, p) not in PUBLIC_PAGES and declared_roles(route) is None] == []


def websocket_routes(app) -> list[tuple[str, APIWebSocketRoute]]:
    return [(context.path, context.original_route) for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIWebSocketRoute)]


def test_every_route_states_who_may_call_it(app) -> None:
    routes = api_routes(app)
    assert len(routes) > 25
    missing = [f"{method} {path}" for method, path, route in routes
               if (method, path) not in PUBLIC and declared_roles(route) is None]
    assert missing == []
    # Websockets authenticate in their handler (no headers in browsers): each names its rule.
    assert [path for path, route in websocket_routes(app)
            if not getattr(route.endpoint, "access", None)] == []


@pytest.fixture
def world(client, make_user) -> dict[str, int]:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    prototype = new_prototype(client, engineer)
    version = new_version(client, engineer, prototype["id"])
    trial = new_trial(client, soldier, version["id"])
    add_engagements(client, soldier, trial["id"], [engagement()])
    key = client.post("/api/v1/api-keys", headers=auth(soldier), json={
        "name": "k", "scope": "trial", "scope_id": trial["id"], "access": "read"}).json()
    return {"prototype_id": prototype["id"], "version_id": version["id"],
            "trial_id": trial["id"], "key_id": key["id"], "job_id": "0" * 32,
            "session_id": 1, "name": "HEARTBEAT", "finding_id": 1, "user_id": 1}


def test_roles_outside_a_route_rule_are_refused(app, client, make_user, world) -> None:
    users = {role: make_user(role) for role in ANYONE}
    checked = 0
    for method, template, route in api_routes(app):
        allowed = declared_roles(route)
        if allowed is None:
            continue
        path = template.format(**world)
        for role in set(ANYONE) - allowed:
            response = client.request(method, path, headers=auth(users[role]), json={})
            assert response.status_code in (403, 404), (method, path, role, response.text)
            checked += 1
        unauthenticated = client.request(method, path, json={})
        assert unauthenticated.status_code == 401, (method, path)
    assert checked > 20
