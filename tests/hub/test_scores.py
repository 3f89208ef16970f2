import pytest

from sandbox.models import Role
from tests.conftest import auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version


def test_version_score_overall_and_by_trial_kind(client, make_user) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"],
                          unit_cost_eur=4000)
    field = new_trial(client, soldier, version["id"], kind="field")
    sim = new_trial(client, soldier, version["id"], kind="simulator", simulator="DCS")
    add_engagements(client, soldier, field["id"],
                    [engagement()] * 7 + [engagement(outcome="miss")] * 3)
    add_engagements(client, soldier, sim["id"], [engagement(interceptors_used=2)] * 2)
    body = client.get(f"/api/v1/versions/{version['id']}/score", headers=auth(engineer)).json()
    overall = body["overall"]
    # 7 + 3 + 4 interceptors at 4,000 EUR for 9 intercepts
    assert (overall["engagements"], overall["intercepts"]) == (12, 9)
    assert overall["pk"] == pytest.approx(0.75)
    assert overall["cost_per_intercept_eur"] == pytest.approx(6222.22)
    assert overall["cost_exchange_ratio"] == pytest.approx(56_000 / 9 / 35_000)
    assert 0 < overall["pk_low"] < 0.75 < overall["pk_high"] < 1
    assert body["by_trial_kind"]["field"]["pk"] == pytest.approx(0.7)
    assert body["by_trial_kind"]["field"]["cost_per_intercept_eur"] == pytest.approx(5714.29)
    assert body["by_trial_kind"]["simulator"]["cost_per_intercept_eur"] == 8000
    assert "simulation" not in body["by_trial_kind"]


def test_untrialled_version_scores_null_not_error(client, make_user) -> None:
    engineer = make_user(Role.engineer)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    body = client.get(f"/api/v1/versions/{version['id']}/score", headers=auth(engineer)).json()
    assert body["overall"]["engagements"] == 0
    assert body["overall"]["cost_per_intercept_eur"] is None
    assert body["by_trial_kind"] == {}


def _scored_version(client, engineer, soldier, *, name, cost, hits, misses, kind, threat):
    version = new_version(client, engineer, new_prototype(client, engineer, name=name,
                                                          kind=kind)["id"], unit_cost_eur=cost)
    trial = new_trial(client, soldier, version["id"])
    add_engagements(client, soldier, trial["id"],
                    [engagement(threat_kind=threat)] * hits
                    + [engagement(outcome="miss", threat_kind=threat)] * misses)
    return version


def test_leaderboard_sorts_by_cost_per_intercept_and_filters(client, make_user) -> None:
    soldier = make_user(Role.soldier)
    company_a, company_b = make_user(Role.engineer), make_user(Role.engineer)
    patriot = _scored_version(client, company_a, soldier, name="Patriot-class", cost=3_000_000,
                              hits=10, misses=0, kind="baseline", threat="shahed_136")
    drone = _scored_version(client, company_b, soldier, name="Hornet", cost=4000, hits=7,
                            misses=3, kind="interceptor_drone", threat="shahed_136")
    fpv = _scored_version(client, company_b, soldier, name="Swatter", cost=500, hits=1,
                          misses=1, kind="interceptor_drone", threat="fpv")
    headers = auth(make_user(Role.reviewer))
    board = client.get("/api/v1/scores", headers=headers).json()
    assert [row["version_id"] for row in board] == [fpv["id"], drone["id"], patriot["id"]]
    assert board[2]["overall"]["cost_exchange_ratio"] == pytest.approx(85.714, abs=1e-3)
    assert board[1]["prototype_name"] == "Hornet"
    assert board[1]["unit_cost_eur"] == 4000
    shahed = client.get("/api/v1/scores?threat_kind=shahed_136", headers=headers).json()
    assert [row["version_id"] for row in shahed] == [drone["id"], patriot["id"]]
    baselines = client.get("/api/v1/scores?prototype_kind=baseline", headers=headers).json()
    assert [row["version_id"] for row in baselines] == [patriot["id"]]


def test_engineer_leaderboard_shows_only_their_company(client, make_user) -> None:
    soldier = make_user(Role.soldier)
    mine, theirs = make_user(Role.engineer), make_user(Role.engineer)
    own = _scored_version(client, mine, soldier, name="Mine", cost=100, hits=1, misses=0,
                          kind="interceptor_drone", threat="fpv")
    _scored_version(client, theirs, soldier, name="Theirs", cost=100, hits=1, misses=0,
                    kind="interceptor_drone", threat="fpv")
    board = client.get("/api/v1/scores", headers=auth(mine)).json()
    assert [row["version_id"] for row in board] == [own["id"]]


def test_scores_need_a_token(client) -> None:
    assert client.get("/api/v1/scores").status_code == 401
