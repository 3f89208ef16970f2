"""Refusals and unknown pages keep every page's header: who is in, log-out, a way home."""

import pytest

from sandbox.models import Role
from tests.conftest import PASSWORD
from tests.pages.conftest import log_in, shot

pytestmark = pytest.mark.browser


def test_a_refused_page_has_the_header_and_a_way_home(live_url, page, make_user) -> None:
    soldier = make_user(Role.soldier)
    log_in(page, live_url, soldier.name, PASSWORD)
    refused = page.goto(f"{live_url}/dashboard")
    assert refused is not None and refused.status == 403
    assert page.inner_text("h2").startswith("Forbidden")
    assert "this page is for: admin, reviewer" in page.inner_text("#detail")
    assert f"{soldier.name} (soldier)" in page.inner_text("header")
    shot(page, "error-403")
    with page.expect_navigation():
        page.click("#home a")
    assert page.url.endswith("/log")

    missing = page.goto(f"{live_url}/no-such-page")
    assert missing is not None and missing.status == 404
    assert page.inner_text("h2").startswith("Not Found")
    assert f"{soldier.name} (soldier)" in page.inner_text("header")
    shot(page, "error-404")
    with page.expect_navigation():  # the error page's form carries a valid token
        page.click("button:has-text('Log out')")
    assert page.url.endswith("/login")
    assert page.goto(f"{live_url}/log") is not None and page.url.endswith("/login")


def test_an_unknown_page_without_a_session_offers_the_log_in(live_url, page) -> None:
    missing = page.goto(f"{live_url}/no-such-page")
    assert missing is not None and missing.status == 404
    assert page.locator("header button").count() == 0
    with page.expect_navigation():
        page.click("#home a")
    assert page.url.endswith("/login")
