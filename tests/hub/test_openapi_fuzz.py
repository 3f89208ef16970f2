"""Schemathesis against the app's own OpenAPI, with valid tokens: no 5xx, no response that
breaks its schema.

Operations are parametrised by plain pytest and each runs a Hypothesis test built from
schemathesis's public strategy API, so no pytest internals are involved (its lazy-fixture
plugin reaches into them and broke on pytest 9)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from hub.app import create_app
from hub.settings import Settings
from sandbox.models import Role
from tests.conftest import SECRET, auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _operations() -> list[tuple[str, str]]:
    # The routes do not depend on the database, so an app on a throwaway URL lists them.
    document = create_app(Settings(database_url="sqlite://", secret_key=SECRET,
                                   audit_key=SECRET)).openapi()
    return [(path, method) for path, item in document["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")]


OPERATIONS = _operations()


def test_every_route_is_fuzzed() -> None:
    assert len(OPERATIONS) > 30
    assert ("/api/v1/scores", "get") in OPERATIONS


IDS = [f"{method.upper()} {path}" for path, method in OPERATIONS]


def _fuzz(path: str, method: str, app, client, make_user, *, examples: int,
          derandomize: bool) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    add_engagements(client, soldier, new_trial(client, soldier, version["id"])["id"],
                    [engagement()])
    tokens = [auth(make_user(role)) for role in (Role.admin, Role.engineer, Role.soldier)]
    operation = schemathesis.openapi.from_asgi("/openapi.json", app)[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
              database=None, derandomize=derandomize)
    def answers(case) -> None:
        for headers in tokens:
            case.call_and_validate(headers=headers, checks=CHECKS)

    answers()


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=IDS)
def test_api_answers_within_its_schema(path, method, app, client, make_user) -> None:
    # The same examples every run, so a red CI run means a change broke something.
    _fuzz(path, method, app, client, make_user, examples=10, derandomize=True)


@pytest.mark.slow
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=IDS)
def test_api_answers_within_its_schema_on_fresh_examples(path, method, app, client,
                                                         make_user) -> None:
    _fuzz(path, method, app, client, make_user, examples=200, derandomize=False)
