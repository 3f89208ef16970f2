from sandbox.models import Role
from tests.conftest import PASSWORD, auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version
from tests.pages.conftest import log_in, shot


def test_engineer_page_shows_what_is_held_back_and_the_privacy_budget(live_url, page, client,
                                                                     make_user, make_org) -> None:
    from sandbox.models import OrgKind

    engineer = make_user(Role.engineer)
    prototype = new_prototype(client, engineer, name="Hornet")
    version = new_version(client, engineer, prototype["id"])
    unit = make_org(OrgKind.unit, name="Unit Kestrel Nine")
    for name in ("petrenko.ivan", "kovalenko.olha"):
        soldier = make_user(Role.soldier, unit, name=name)
        trial = new_trial(client, soldier, version["id"])
        add_engagements(client, soldier, trial["id"], [engagement(), engagement(outcome="miss")])
        client.post(f"/api/v1/trials/{trial['id']}/reports", headers=auth(soldier), json={
            "effectiveness": 4, "ease_of_use": 3, "reliability": 4, "text": "fine"})
    spent = client.get(f"/api/v1/prototypes/{prototype['id']}/private-aggregates",
                       headers=auth(engineer), params={"epsilon": 0.5})
    assert spent.status_code == 200
    log_in(page, live_url, engineer.name, PASSWORD)
    assert page.url.endswith("/engineer")
    held = page.inner_text(f"#held-{prototype['id']}")
    assert held == ("2 reports and 4 engagements from 2 soldiers: released once 5 different "
                    "soldiers have new feedback (2 of 5 so far)")
    budget = page.inner_text("#budget")
    assert "0.50 of 10.00 spent" in budget and "9.50 left" in budget and "(1 query)" in budget
    assert page.inner_text(f"#released-{prototype['id']}").startswith(
        "Feedback released: no batch of soldiers' feedback yet; trials without soldiers")
    assert "No version" not in page.inner_text(f"#prototype-{prototype['id']}")
    shot(page, "engineer-page-held-back")
    for secret in ("Kestrel", "petrenko", "kovalenko"):
        assert secret not in page.content()
    # the prototype's page says the same, rather than an empty "Reports"
    page.goto(f"{live_url}/prototypes/{prototype['id']}")
    assert page.inner_text("#reports") == "No report released yet."
    assert page.inner_text("#held") == f"Held back for anonymity: {held}."
    shot(page, "engineer-prototype-held-back")


def test_engineer_page_lists_versions_and_names_downloads_by_prototype_part_and_day(
        live_url, page, client, make_user, make_org) -> None:
    from sandbox.models import OrgKind
    from sandbox.timeutil import utcnow

    engineer = make_user(Role.engineer)
    prototype = new_prototype(client, engineer, name="Hornet Mk 2")
    new_version(client, engineer, prototype["id"], version="1.0.0")
    version = new_version(client, engineer, prototype["id"], version="1.1.0",
                          unit_cost_eur=12500)
    unit = make_org(OrgKind.unit)
    for i in range(5):  # k = 5 different soldiers release a batch
        soldier = make_user(Role.soldier, unit)
        trial = new_trial(client, soldier, version["id"])
        add_engagements(client, soldier, trial["id"], [engagement(), engagement(
            outcome="miss", time_to_intercept_s=None)])
        client.post(f"/api/v1/trials/{trial['id']}/reports", headers=auth(soldier), json={
            "effectiveness": 4, "text": f"report {i}"})
    log_in(page, live_url, engineer.name, PASSWORD)
    section = f"#prototype-{prototype['id']}"
    assert page.inner_text(f"{section} .status") == "submitted"
    rows = page.locator(f"#versions-{prototype['id']} tbody tr")
    assert rows.count() == 2
    assert "none yet" in rows.nth(0).inner_text()
    assert "12,500 EUR" in rows.nth(1).inner_text() and "10 field" in rows.nth(1).inner_text()
    assert page.inner_text(f"#released-{prototype['id']}").startswith(
        "Feedback released: 1 batch of soldiers' feedback; trials without soldiers")
    assert page.inner_text(f"#held-{prototype['id']}") == "nothing"
    shot(page, "engineer-page-released")
    today = f"{utcnow():%Y-%m-%d}"
    for part, words, rows_released in (("engagements", "engagements", 10),
                                       ("reports", "reports", 5),
                                       ("telemetry", "flight summaries", 0)):
        with page.expect_download() as fetched:
            page.click(f"#released-{prototype['id']} a:has-text('{words}')")
        assert fetched.value.suggested_filename == f"hornet-mk-2-{part}-{today}.csv"
        lines = fetched.value.path().read_text().splitlines()
        assert len(lines) == 1 + rows_released  # the header, then every released row
