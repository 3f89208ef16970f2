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
    shot(page, "engineer-page-held-back")
    for secret in ("Kestrel", "petrenko", "kovalenko"):
        assert secret not in page.content()
