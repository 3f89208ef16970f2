import pytest

from sandbox.models import Role
from tests.conftest import PASSWORD
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version
from tests.pages.conftest import log_in, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def versions(client, make_user):
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    prototype = new_prototype(client, engineer, name="Hornet")
    first = new_version(client, engineer, prototype["id"], software_hash="a1b2c3",
                        changelog="first flight release",
                        parameters={"speed_mps": 80, "pid": {"roll": {"p": 0.15}},
                                    "salvo": 1, "modes": ["loiter", "rtl"]})
    second = new_version(client, engineer, prototype["id"], version="1.1.0",
                         software_hash="d4e5f6", changelog="faster seeker lock",
                         parameters={"speed_mps": 80.0, "pid": {"roll": {"p": 0.2, "d": 0.01}},
                                     "salvo": 2, "modes": ["loiter"]})
    # the task force's own trials (no unit): a soldier's would reach the engineer only in a
    # released feedback batch (tests/hub/test_engineer_release_scores.py)
    reviewer = make_user(Role.reviewer)
    for version, intercepts in ((first, 6), (second, 9)):
        trial = new_trial(client, reviewer, version["id"])
        add_engagements(client, reviewer, trial["id"], [engagement()] * intercepts
                        + [engagement(outcome="miss", time_to_intercept_s=None)]
                        * (10 - intercepts))
    recon = new_trial(client, reviewer, second["id"], scenario="recon_probe")
    add_engagements(client, reviewer, recon["id"], [engagement(threat_kind="recon_quad")] * 2)
    return {"engineer": engineer, "soldier": soldier, "prototype": prototype,
            "first": first, "second": second}


def cells(page, row_text: str) -> list[str]:
    return page.locator("#scores tr", has_text=row_text).locator("td").all_inner_texts()


def test_engineer_compares_two_versions(live_url, page, versions) -> None:
    log_in(page, live_url, versions["engineer"].name, PASSWORD)
    page.goto(f"{live_url}/prototypes/{versions['prototype']['id']}/compare")
    # by default, the last two versions
    assert page.input_value("#a") == str(versions["first"]["id"])
    assert page.input_value("#b") == str(versions["second"]["id"])
    assert "changed" in page.inner_text("#hash")
    assert "faster seeker lock" in page.inner_text("#changelog-b")
    assert page.inner_text("#parameter-counts").split() == [
        "2", "changed,", "1", "added,", "1", "removed,", "2", "unchanged."]
    rows = {row[0]: row[1:] for row in (r.split("\t") for r in page.locator(
        "#parameters tbody tr").all_inner_texts())}
    assert rows == {"modes[1]": ["rtl", "", "removed"], "pid.roll.d": ["", "0.01", "added"],
                    "pid.roll.p": ["0.15", "0.2", "changed"], "salvo": ["1", "2", "changed"]}
    field = cells(page, "shahed_raid · shahed_136 · field")
    assert field[1] == "10 / 10"
    assert field[2].startswith("0.60 [0.31–0.83]") and field[3].startswith("0.90 [0.60–0.98]")
    # 9/10 − 6/10 = +0.30, Newcombe's interval [−0.08, +0.60]: not called better
    assert field[4] == "+0.30 [-0.08, +0.60]"
    # one 4,000 EUR interceptor an engagement: 40,000 / 6 against 40,000 / 9 per intercept
    assert field[5].startswith("€6,667") and field[6].startswith("€4,444")
    assert field[7] == "-2,222 EUR (-33 %)"
    recon = cells(page, "recon_probe")
    assert recon[1] == "– / 2" and recon[4] == "new in B"
    shot(page, "compare-versions")

    page.select_option("#a", str(versions["second"]["id"]))
    page.select_option("#b", str(versions["first"]["id"]))
    page.click("button:has-text('Compare')")
    assert cells(page, "shahed_raid · shahed_136 · field")[4].startswith("-0.30")
    assert cells(page, "recon_probe")[4] == "not in B"


def test_compare_refuses_soldiers_other_companies_and_bad_ids(live_url, page, versions,
                                                              make_user) -> None:
    url = f"{live_url}/prototypes/{versions['prototype']['id']}/compare"
    log_in(page, live_url, versions["soldier"].name, PASSWORD)
    assert page.goto(url).status == 403
    page.context.clear_cookies()
    log_in(page, live_url, make_user(Role.engineer).name, PASSWORD)
    refused = page.goto(url)
    assert refused.status == 404 and "Hornet" not in page.content()
    page.context.clear_cookies()
    log_in(page, live_url, make_user(Role.reviewer).name, PASSWORD)
    assert page.goto(f"{url}?a=x").status == 422
    assert "a: a version id" in page.inner_text("main")
    other = new_prototype_version(versions)
    assert page.goto(f"{url}?b={other}").status == 404
    assert page.goto(url).status == 200
    assert "changed" in page.inner_text("#hash")


def new_prototype_version(versions) -> int:
    """An id that is no version of the prototype (the next one after the second)."""
    return versions["second"]["id"] + 100
