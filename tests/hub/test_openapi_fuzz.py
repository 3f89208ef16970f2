"""Schemathesis against the app's own OpenAPI, with valid tokens: no 5xx, no response that
breaks its schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from sandbox.models import Role
from tests.conftest import auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version


@pytest.fixture
def api_schema(app, client, make_user):
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    add_engagements(client, soldier, new_trial(client, soldier, version["id"])["id"],
                    [engagement()])
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def tokens(make_user) -> list[dict[str, str]]:
    return [auth(make_user(role)) for role in (Role.admin, Role.engineer, Role.soldier)]


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_answers_within_its_schema(case, tokens) -> None:
    for headers in tokens:
        case.call_and_validate(headers=headers, checks=[
            not_a_server_error, response_schema_conformance, content_type_conformance])
