"""The soldier's /log on a phone: each finding of issue 14 about it, in Chromium."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from sqlmodel import Session, col, select

from sandbox.models import Engagement, Prototype, PrototypeKind, Report, Role, Trial
from tests.conftest import PASSWORD
from tests.factories import new_prototype, new_version
from tests.pages.conftest import log_in, shot

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def world(client, make_user, session: Session):
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    prototype = new_prototype(client, engineer, name="Hornet")
    version = new_version(client, engineer, prototype["id"], version="2.1.0")
    patriot = Prototype(name="Patriot-class SAM", kind=PrototypeKind.baseline,
                        organisation_id=engineer.organisation_id)
    session.add(patriot)
    session.commit()
    baseline = new_version(client, engineer, patriot.id, version="1.0.0")
    return {"soldier": soldier, "version": version, "baseline": baseline}


def _fill_trial(page: Page, version_id: int, **fields: str) -> None:
    page.select_option("#version_id", str(version_id))
    page.fill("#scenario", fields.pop("scenario", "night raid"))
    for name, value in {"intercept": "2", "miss": "1", **fields}.items():
        if page.locator(f"select#{name}").count():
            page.select_option(f"#{name}", value)
        else:
            page.fill(f"#{name}", value)


def _record(page: Page) -> None:
    page.click("button:has-text('Record trial')")


def _trials(session: Session) -> list[Trial]:
    session.expire_all()
    return list(session.exec(select(Trial).order_by(col(Trial.id))).all())


def test_outcomes_are_labelled_in_words(live_url, phone, world) -> None:
    log_in(phone, live_url, world["soldier"].name, PASSWORD)
    labels = [phone.inner_text(f"label[for={name}]") for name in ("intercept", "miss", "abort")]
    assert labels == ["Intercepts", "Misses", "Aborts"]
    assert "misss" not in phone.content()
    shot(phone, "log-phone-empty")


def test_version_is_the_soldiers_last_choice_never_a_baseline(live_url, phone, world,
                                                             session) -> None:
    log_in(phone, live_url, world["soldier"].name, PASSWORD)
    assert phone.input_value("#version_id") == ""  # no choice made for the soldier
    baselines = phone.locator("optgroup[label^='Baselines'] option").all_inner_texts()
    assert baselines == ["Patriot-class SAM 1.0.0"]
    _fill_trial(phone, world["version"]["id"])
    _record(phone)
    assert "recorded" in phone.inner_text("#logged")
    assert phone.input_value("#version_id") == str(world["version"]["id"])
    assert phone.input_value("#scenario") == "night raid"
    phone.goto(f"{live_url}/log")
    assert phone.input_value("#version_id") == str(world["version"]["id"])
    assert [t.version_id for t in _trials(session)] == [world["version"]["id"]]


def test_threat_comes_from_the_library_or_is_named(live_url, phone, world, session) -> None:
    log_in(phone, live_url, world["soldier"].name, PASSWORD)
    kinds = phone.locator("#threat_kind option").evaluate_all("o => o.map(x => x.value)")
    assert kinds == ["shahed_136", "fpv_strike", "recon_quad", "cruise_missile", "other"]
    assert phone.is_hidden("#threat_other")
    phone.select_option("#threat_kind", "fpv_strike")
    assert phone.input_value("#threat_cost_eur") == "500"  # the library's cost follows
    phone.select_option("#threat_kind", "other")
    _fill_trial(phone, world["version"]["id"], threat_cost_eur="20000")
    _record(phone)
    assert "name" in phone.inner_text("#threat_other-error")  # "other" needs its name
    phone.fill("#threat_other", "Lancet 3")
    _record(phone)
    assert "recorded" in phone.inner_text("#logged")
    kinds = session.exec(select(Engagement.threat_kind).distinct()).all()
    assert kinds == ["lancet_3"]
    phone.goto(f"{live_url}/log")  # the next trial starts from the threat met last
    assert phone.input_value("#threat_kind") == "other"
    assert (phone.input_value("#threat_other"), phone.input_value("#threat_cost_eur")) == (
        "lancet_3", "20000")
    # free text outside the library is refused even when posted around the page
    csrf = phone.input_value("input[name=csrf]")
    answer = phone.request.post(f"{live_url}/log", form={
        "csrf": csrf, "version_id": str(world["version"]["id"]), "kind": "field",
        "scenario": "x", "started_at": "2026-01-01T08:00", "threat_kind": "banana",
        "intercept": "1"})
    assert answer.status == 422 and "choose a threat" in answer.text()
    assert len(_trials(session)) == 1


def test_a_start_in_the_future_is_refused_and_said(live_url, phone, world, session) -> None:
    log_in(phone, live_url, world["soldier"].name, PASSWORD)
    _fill_trial(phone, world["version"]["id"], started_at="2099-01-01T08:00")
    _record(phone)
    error = phone.inner_text("#started_at-error")
    assert error.startswith("2099-01-01 08:00 UTC is in the future")
    assert phone.input_value("#started_at") == "2099-01-01T08:00"
    shot(phone, "log-phone-future-start")
    assert _trials(session) == []


def test_a_text_only_report_is_stored(live_url, phone, world, session) -> None:
    log_in(phone, live_url, world["soldier"].name, PASSWORD)
    _fill_trial(phone, world["version"]["id"], text="Lost the link at 2 km under jamming.")
    _record(phone)
    assert "recorded" in phone.inner_text("#logged")
    reports = session.exec(select(Report)).all()
    assert [(r.text, r.effectiveness, r.reliability) for r in reports] == [
        ("Lost the link at 2 km under jamming.", None, None)]


def test_a_report_over_10000_characters_shows_its_error(live_url, phone, world,
                                                        session) -> None:
    log_in(phone, live_url, world["soldier"].name, PASSWORD)
    _fill_trial(phone, world["version"]["id"])
    phone.eval_on_selector("#text", "t => { t.value = 'a'.repeat(10001); }")
    _record(phone)
    assert phone.inner_text("#text-error") == "at most 10,000 characters (this one has 10,001)"
    assert len(phone.input_value("#text")) == 10001  # kept, to be shortened
    assert phone.input_value("#intercept") == "2"
    assert _trials(session) == []


def test_blank_ratings_are_absent_not_errors(live_url, phone, world, session) -> None:
    log_in(phone, live_url, world["soldier"].name, PASSWORD)
    _fill_trial(phone, world["version"]["id"], effectiveness="4", ew_resistance="2")
    _record(phone)
    assert "recorded" in phone.inner_text("#logged")
    assert "Input should be" not in phone.content()
    report = session.exec(select(Report)).one()
    assert (report.effectiveness, report.ew_resistance, report.ease_of_use,
            report.reliability, report.text) == (4, 2, None, None, "")


def test_every_field_error_shows_at_once(live_url, phone, world, session) -> None:
    log_in(phone, live_url, world["soldier"].name, PASSWORD)
    _fill_trial(phone, world["version"]["id"], threat_cost_eur="lots", interceptors_used="-1",
                miss="many", scenario="")
    _record(phone)
    errors = {name: phone.inner_text(f"#{name}-error")
              for name in ("threat_cost_eur", "interceptors_used", "miss", "scenario")}
    assert errors == {"threat_cost_eur": "a number of euros, e.g. 35000",
                      "interceptors_used": "a whole number from 0 to 10000",
                      "miss": "a whole number from 0 to 1000",
                      "scenario": "name the scenario (up to 120 characters), e.g. night raid"}
    assert "Nothing was recorded" in phone.inner_text("#form-errors")
    shot(phone, "log-phone-all-errors")
    assert _trials(session) == []


def test_a_draft_survives_an_expired_session(live_url, phone, world, session) -> None:
    log_in(phone, live_url, world["soldier"].name, PASSWORD)
    _fill_trial(phone, world["version"]["id"], scenario="dawn raid", intercept="7",
                reliability="3", text="Second interceptor failed to arm.")
    phone.context.clear_cookies()  # the session expires while the soldier types
    _record(phone)
    assert phone.url.endswith("/login")
    log_in(phone, live_url, world["soldier"].name, PASSWORD)
    assert phone.url.endswith("/log")
    assert phone.is_visible("#draft-restored")
    assert (phone.input_value("#version_id"), phone.input_value("#scenario"),
            phone.input_value("#intercept"), phone.input_value("#reliability"),
            phone.input_value("#text")) == (str(world["version"]["id"]), "dawn raid", "7", "3",
                                            "Second interceptor failed to arm.")
    shot(phone, "log-phone-draft-restored")
    _record(phone)
    assert "recorded" in phone.inner_text("#logged")
    assert phone.is_hidden("#draft-restored")  # sent: the draft is gone
    phone.goto(f"{live_url}/log")
    assert phone.input_value("#text") == ""
    assert len(_trials(session)) == 1


def test_own_recent_trials_are_listed_and_can_be_added_to(live_url, phone, world, client,
                                                          make_user, session) -> None:
    log_in(phone, live_url, world["soldier"].name, PASSWORD)
    _fill_trial(phone, world["version"]["id"], intercept="3", miss="1")
    _record(phone)
    trial_id = _trials(session)[0].id
    row = phone.inner_text(f"#recent-{trial_id}")
    assert "Hornet 2.1.0" in row and "3 intercepts, 1 misses, 0 aborts" in row
    phone.click(f"#recent-{trial_id} a")
    assert phone.url.endswith(f"/log/trials/{trial_id}")
    assert "Shahed-136" in phone.inner_text("#sent-engagements")
    phone.fill("#add-engagements #intercept", "0")
    phone.fill("#add-engagements #abort", "2")
    phone.click("button:has-text('Add engagements')")
    assert phone.inner_text("#added") == "Engagements added. Thank you."
    phone.fill("#add-report #reliability", "2")
    phone.fill("#add-report #text", "Correction: one of the misses was an abort.")
    phone.click("button:has-text('Add report')")
    assert phone.inner_text("#added") == "Report added. Thank you."
    assert "Correction: one of the misses" in phone.inner_text(".report")
    shot(phone, "log-phone-sent-trial")
    session.expire_all()
    outcomes = session.exec(select(Engagement.outcome).where(
        Engagement.trial_id == trial_id)).all()
    assert sorted(map(str, outcomes)) == ["abort", "abort", "intercept", "intercept",
                                          "intercept", "miss"]
    # another soldier's trial is not theirs to open
    other = make_user(Role.soldier)
    phone.click("button:has-text('Log out')")
    log_in(phone, live_url, other.name, PASSWORD)
    assert phone.goto(f"{live_url}/log/trials/{trial_id}").status == 404
