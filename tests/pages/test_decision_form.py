"""The reviewer's decision form: no default, only the allowed steps, final ones confirmed."""

import pytest

from sandbox.models import Role
from tests.conftest import PASSWORD, auth
from tests.factories import new_prototype, new_version
from tests.pages.conftest import log_in, shot

pytestmark = pytest.mark.browser
RATIONALE = "dossier complete, safety case reviewed"


@pytest.fixture
def admitted(client, make_user):
    engineer, reviewer = make_user(Role.engineer), make_user(Role.reviewer)
    prototype = new_prototype(client, engineer, name="Hornet")
    new_version(client, engineer, prototype["id"])
    answer = client.post(f"/api/v1/prototypes/{prototype['id']}/decisions",
                         headers=auth(reviewer), json={"to_status": "admitted",
                                                        "rationale": RATIONALE})
    assert answer.status_code == 201, answer.text
    return {"reviewer": reviewer, "id": prototype["id"]}


def _decisions(client, world) -> list[str]:
    answer = client.get(f"/api/v1/prototypes/{world['id']}/decisions",
                        headers=auth(world["reviewer"]))
    return [d["to_status"] for d in answer.json()]


def test_the_form_offers_no_default_and_only_the_allowed_steps(live_url, page, client,
                                                               admitted) -> None:
    log_in(page, live_url, admitted["reviewer"].name, PASSWORD)
    page.goto(f"{live_url}/prototypes/{admitted['id']}")
    assert page.input_value("#to_status") == ""
    offered = page.eval_on_selector_all("#to_status option", "els => els.map(e => e.value)")
    assert offered == ["", "sim_trialled", "suspended", "rejected"]  # the sandbox's order
    assert page.inner_text("#to_status option[value=sim_trialled]") == "sim trialled"
    assert page.inner_text("#to_status option[value=rejected]") == "rejected (final)"
    shot(page, "decision-form-admitted")

    # clicking "Record decision" twice without choosing records nothing
    page.fill("#rationale", RATIONALE)
    page.click("button:has-text('Record decision')")
    page.click("button:has-text('Record decision')")
    assert page.inner_text("#status") == "admitted"
    # and the server refuses it too, whatever the browser does
    csrf = page.input_value("#decide input[name=csrf]")
    empty = page.request.post(f"{live_url}/prototypes/{admitted['id']}/decide",
                              form={"csrf": csrf, "to_status": "", "rationale": RATIONALE})
    assert empty.status == 422 and "choose the new status" in empty.text()
    assert _decisions(client, admitted) == ["admitted"]


def test_a_final_status_needs_its_confirmation_then_the_form_goes(live_url, page, client,
                                                                   admitted) -> None:
    log_in(page, live_url, admitted["reviewer"].name, PASSWORD)
    page.goto(f"{live_url}/prototypes/{admitted['id']}")
    page.select_option("#to_status", "rejected")
    page.fill("#rationale", RATIONALE)
    page.click("button:has-text('Record decision')")
    assert "is final" in page.inner_text("#confirm_final-error")
    assert page.input_value("#to_status") == "rejected"  # the choice and text are kept
    assert page.input_value("#rationale") == RATIONALE
    assert page.inner_text("#status") == "admitted"
    assert _decisions(client, admitted) == ["admitted"]
    shot(page, "decision-form-final-unconfirmed")

    page.check("#confirm_final")
    page.click("button:has-text('Record decision')")
    assert page.inner_text("#status") == "rejected"
    assert page.inner_text("#decided") == "Decision recorded: rejected"
    assert _decisions(client, admitted) == ["admitted", "rejected"]
    # nothing leaves rejected: no form, no empty dropdown, a sentence saying why
    assert page.locator("#decide").count() == 0
    assert page.inner_text("#no-decision") == ("Rejected is final: no further decision can be "
                                               "recorded.")
    shot(page, "decision-form-none-allowed")


def test_a_gated_step_whose_gate_fails_is_recorded_only_when_overridden(live_url, page, client,
                                                                        admitted) -> None:
    log_in(page, live_url, admitted["reviewer"].name, PASSWORD)
    page.goto(f"{live_url}/prototypes/{admitted['id']}")
    page.select_option("#to_status", "sim_trialled")
    page.fill("#rationale", RATIONALE)
    page.click("button:has-text('Record decision')")
    assert "gate is not met" in page.inner_text("#to_status-error")  # no evidence at all
    assert _decisions(client, admitted) == ["admitted"]
    page.check("#override_gate")
    page.click("button:has-text('Record decision')")
    assert page.inner_text("#status") == "sim trialled"
    assert _decisions(client, admitted) == ["admitted", "sim_trialled"]
    shot(page, "decision-form-gate-overridden")
