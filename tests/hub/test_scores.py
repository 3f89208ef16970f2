import io
import json
import re
import threading
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.flows.engagements import recorder
from hub.flows.simulation import run_simulation
from sandbox import aggregates, service
from sandbox.models import (
    Engagement,
    EngagementCreate,
    Role,
    ScoreAggregate,
    Trial,
    TrialCreate,
    TrialKind,
    Version,
)
from simulators.scenario import load_scenario
from tests.conftest import PASSWORD, auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version
from tests.hub.test_simulations import finished

THREATS = ("shahed_136", "fpv_strike", "recon_quad")


def test_version_score_by_scenario_with_roll_ups(client, make_user) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"],
                          unit_cost_eur=4000)
    field = new_trial(client, soldier, version["id"], kind="field")
    sim = new_trial(client, soldier, version["id"], kind="simulator", simulator="DCS",
                    scenario="fpv_swarm")
    add_engagements(client, soldier, field["id"],
                    [engagement()] * 7 + [engagement(outcome="miss")] * 3)
    add_engagements(client, soldier, sim["id"], [engagement(interceptors_used=2,
                                                            threat_kind="fpv_strike")] * 2)
    # a reviewer: engineers read soldiers' evidence as released (test_engineer_release_scores)
    body = client.get(f"/api/v1/versions/{version['id']}/score",
                      headers=auth(make_user(Role.reviewer))).json()
    shahed = body["by_scenario"]["shahed_raid"]["shahed_136"]["field"]
    assert (shahed["engagements"], shahed["pk"]) == (10, 0.7)
    assert shahed["cost_per_intercept_eur"] == pytest.approx(5714.29)
    assert shahed["time_to_intercept_median_s"] == pytest.approx(42.0, rel=0.045)
    fpv = body["by_scenario"]["fpv_swarm"]["fpv_strike"]["simulator"]
    assert (fpv["engagements"], fpv["cost_per_intercept_eur"]) == (2, 8000)
    assert set(body["by_scenario"]) == {"shahed_raid", "fpv_swarm"}
    # the roll-ups count all the evidence: 7 + 3 + 4 interceptors at 4,000 EUR, 9 intercepts
    assert (body["overall"]["engagements"], body["overall"]["intercepts"]) == (12, 9)
    assert body["overall"]["cost_per_intercept_eur"] == pytest.approx(6222.22)
    assert body["by_trial_kind"]["simulator"]["cost_per_intercept_eur"] == 8000


def test_untrialled_version_scores_null_not_error(client, make_user) -> None:
    engineer = make_user(Role.engineer)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    body = client.get(f"/api/v1/versions/{version['id']}/score", headers=auth(engineer)).json()
    assert body["overall"]["engagements"] == 0
    assert body["overall"]["cost_per_intercept_eur"] is None
    assert (body["by_trial_kind"], body["by_scenario"]) == ({}, {})


def _scored_version(client, engineer, soldier, *, name, cost, hits, misses, kind="field",
                    scenario="shahed_raid", threat="shahed_136"):
    version = new_version(client, engineer, new_prototype(client, engineer, name=name)["id"],
                          unit_cost_eur=cost)
    extra = {"simulator": "VBS4"} if kind == "simulator" else {}
    trial = new_trial(client, soldier, version["id"], kind=kind, scenario=scenario, **extra)
    add_engagements(client, soldier, trial["id"],
                    [engagement(threat_kind=threat)] * hits
                    + [engagement(outcome="miss", threat_kind=threat)] * misses)
    return version


def test_board_ranks_only_the_condition_asked_for_and_names_it(client, make_user) -> None:
    soldier, company = make_user(Role.soldier), make_user(Role.engineer)
    dear = _scored_version(client, company, soldier, name="Dear", cost=9000, hits=9, misses=1)
    cheap = _scored_version(client, company, soldier, name="Cheap", cost=1000, hits=1, misses=4)
    _scored_version(client, company, soldier, name="Sim", cost=10, hits=5, misses=0,
                    kind="simulator")
    _scored_version(client, company, soldier, name="Swarm", cost=10, hits=5, misses=0,
                    scenario="fpv_swarm", threat="fpv_strike")
    board = client.get("/api/v1/scores?scenario=shahed_raid&threat_kind=shahed_136"
                       "&trial_kind=field", headers=auth(make_user(Role.reviewer))).json()
    assert [(row["version_id"], row["rank"]) for row in board] == [(cheap["id"], 1),
                                                                   (dear["id"], 2)]
    assert {(row["scenario"], row["threat_kind"], row["trial_kind"]) for row in board} == {
        ("shahed_raid", "shahed_136", "field")}
    assert board[0]["score"]["cost_per_intercept_eur"] == 5000
    assert board[1]["score"]["pk"] == 0.9


def test_board_without_filters_groups_by_condition_never_mixing_scenarios(client,
                                                                         make_user) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    raid = new_trial(client, soldier, version["id"], scenario="shahed_raid")
    swarm = new_trial(client, soldier, version["id"], scenario="fpv_swarm")
    add_engagements(client, soldier, raid["id"], [engagement()] * 6)
    add_engagements(client, soldier, swarm["id"], [engagement(outcome="miss")] * 4
                    + [engagement()] * 2)
    board = client.get("/api/v1/scores", headers=auth(make_user(Role.reviewer))).json()
    assert [(row["scenario"], row["score"]["engagements"], row["score"]["pk"])
            for row in board] == [("fpv_swarm", 6, pytest.approx(1 / 3)), ("shahed_raid", 6, 1.0)]
    assert all(row["rank"] == 1 for row in board)


def _simulate(client, engineer, version, scenario, runs=3) -> dict:
    job = client.post(f"/api/v1/versions/{version['id']}/simulations", headers=auth(engineer),
                      json={"scenario": scenario, "runs": runs}).json()
    return finished(client, engineer, job["id"])


def test_baselines_fly_the_same_scenario_and_stand_beside_every_row(client, make_user,
                                                                   session) -> None:
    engineer = make_user(Role.engineer)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"],
                          parameters={"p_kill": 0.8})
    assert _simulate(client, engineer, version, "fpv_swarm")["status"] == "done"
    board = client.get("/api/v1/scores?scenario=fpv_swarm", headers=auth(engineer)).json()
    names = {"Patriot-class SAM (patriot_pac3)", "Gun system (35 mm) (gun_35mm)",
             "Interceptor drone (fielded) (interceptor_drone)"}
    mine = [row for row in board if row["version_id"] == version["id"]]
    assert [(row["trial_kind"], row["threat_kind"]) for row in mine] == [
        ("simulation", "fpv_strike")]
    assert {ref["name"] for ref in mine[0]["baselines"]} == names
    assert {row["prototype_name"] for row in board} == names | {"Hornet"}
    assert {row["scenario"] for row in board} == {"fpv_swarm"}
    # a second version on the same scenario reuses the baselines' trials
    other = new_version(client, engineer, new_prototype(client, engineer, name="Kite")["id"])
    baseline_trials = session.exec(select(func.count()).select_from(Trial)).one() - 1
    _simulate(client, engineer, other, "fpv_swarm")
    assert session.exec(select(func.count()).select_from(Trial)).one() == baseline_trials + 2
    shahed = client.get("/api/v1/scores?scenario=shahed_raid", headers=auth(engineer)).json()
    assert shahed == []


def test_a_baselines_own_version_is_not_simulated(client, make_user, session) -> None:
    engineer = make_user(Role.engineer)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    _simulate(client, engineer, version, "recon_probe")
    [patriot] = [row for row in client.get("/api/v1/scores", headers=auth(
        make_user(Role.reviewer))).json() if "patriot_pac3" in row["prototype_name"]]
    refused = client.post(f"/api/v1/versions/{patriot['version_id']}/simulations",
                          headers=auth(make_user(Role.admin)), json={"scenario": "recon_probe"})
    assert refused.status_code == 422
    assert "reference baseline" in refused.text


def test_engineer_board_shows_own_versions_and_the_references_only(client, make_user) -> None:
    reviewer = make_user(Role.reviewer)  # no unit: engineers see its trials live
    mine, theirs = make_user(Role.engineer), make_user(Role.engineer)
    own = _scored_version(client, mine, reviewer, name="Mine", cost=100, hits=1, misses=0)
    _scored_version(client, theirs, reviewer, name="Theirs", cost=100, hits=1, misses=0)
    _simulate(client, theirs, new_version(client, theirs, new_prototype(
        client, theirs, name="Secret")["id"]), "shahed_raid")
    board = client.get("/api/v1/scores", headers=auth(mine)).json()
    assert {row["prototype_name"] for row in board} == {
        "Mine", "Patriot-class SAM (patriot_pac3)", "Gun system (35 mm) (gun_35mm)",
        "Interceptor drone (fielded) (interceptor_drone)"}
    [row] = [row for row in board if row["version_id"] == own["id"]]
    assert len(row["baselines"]) == 3


def test_scores_need_a_token(client) -> None:
    assert client.get("/api/v1/scores").status_code == 401


# --- aggregates kept as data arrives -------------------------------------------------------

def _random_rows(rng: np.random.Generator, n: int) -> list[dict]:
    rows = []
    for _ in range(n):
        outcome = str(rng.choice(["intercept", "intercept", "miss", "abort", "fratricide"]))
        row = {"threat_kind": str(rng.choice(THREATS)), "outcome": outcome,
               "interceptors_used": int(rng.integers(0, 4)),
               "threat_cost_eur": round(float(rng.uniform(100, 50_000)), 2)}
        if outcome == "intercept" and rng.random() < 0.8:
            row["time_to_intercept_s"] = round(float(rng.exponential(60)), 3)
        if rng.random() < 0.3:
            row["operating_cost_eur"] = round(float(rng.uniform(0, 500)), 2)
        rows.append(row)
    return rows


def _cents(rows: list[dict]) -> list[dict]:
    return [{"threat_kind": r["threat_kind"], "outcome": r["outcome"],
             "interceptors_used": r["interceptors_used"],
             "threat_cost_cents": round(r["threat_cost_eur"] * 100),
             "time_to_intercept_s": r.get("time_to_intercept_s"),
             "operating_cost_cents": (None if "operating_cost_eur" not in r
                                      else round(r["operating_cost_eur"] * 100))} for r in rows]


def _log_page_trial(client, soldier, version_id: int, rng: np.random.Generator) -> None:
    client.post("/login", data={"username": soldier.name, "password": PASSWORD},
                follow_redirects=False)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/log").text).group(1)
    logged = client.post("/log", follow_redirects=False, data={
        "csrf": csrf, "version_id": str(version_id), "kind": "field", "scenario": "shahed_raid",
        "started_at": "2026-11-02T08:00", "threat_kind": "shahed_136",
        "threat_cost_eur": "35000", "interceptors_used": "2",
        **{o: str(rng.integers(0, 5)) for o in ("intercept", "miss")}, "abort": "1"})
    assert logged.status_code == 303, logged.text
    client.cookies.clear()


def _write_through_every_path(client, engine, session, make_user, rng) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    versions = [new_version(client, engineer, new_prototype(client, engineer, name=name)["id"])
                for name in ("Hornet", "Kite")]
    trials = [new_trial(client, soldier, versions[i % 2]["id"], kind=kind, scenario=scenario,
                        **({"simulator": "DCS"} if kind == "simulator" else {}))
              for i, (kind, scenario) in enumerate([("field", "shahed_raid"),
                                                    ("simulator", "shahed_raid"),
                                                    ("field", "fpv_swarm")])]
    headers = auth(soldier)
    add_engagements(client, soldier, trials[0]["id"], _random_rows(rng, 40))
    uploads = {"text/csv": pd.DataFrame(_random_rows(rng, 30)).to_csv(index=False).encode(),
               "application/x-ndjson": "\n".join(json.dumps(r) for r in _random_rows(rng, 30))
               .encode()}
    table = io.BytesIO()
    pd.DataFrame(_random_rows(rng, 30)).to_parquet(table)
    uploads["application/vnd.apache.parquet"] = table.getvalue()
    for number, (media, body) in enumerate(uploads.items()):
        response = client.post(f"/api/v1/trials/{trials[number]['id']}/engagements/upload",
                               content=body, headers={**headers, "content-type": media})
        assert response.status_code == 201, response.text
    key = client.post("/api/v1/api-keys", headers=headers, json={
        "name": "DCS", "scope": "trial", "scope_id": trials[1]["id"],
        "access": "write"}).json()["key"]
    with client.websocket_connect(f"/ws/trials/{trials[1]['id']}/events?key={key}") as bridge:
        for number, row in enumerate(_random_rows(rng, 5)):
            name = f"e{number}"
            bridge.send_json({"type": "engagement_started", "engagement": name,
                              "threat_kind": row["threat_kind"],
                              "threat_cost_eur": row["threat_cost_eur"]})
            bridge.receive_json()
            bridge.send_json({"type": "outcome", "engagement": name, "outcome": row["outcome"],
                              "time_to_intercept_s": row.get("time_to_intercept_s")})
            assert bridge.receive_json()["type"] == "recorded"
    record = recorder(engine, trials[2]["id"], source="dis test")
    for row in _cents(_random_rows(rng, 5)):
        record(row)
    _log_page_trial(client, soldier, versions[0]["id"], rng)
    found = session.get(Version, versions[1]["id"])
    run_simulation(session=session, version=found, scenario=load_scenario("recon_probe"),
                   runs=2, seed=int(rng.integers(0, 1000)), by=None)
    service.record_trial_with_engagements(
        session=session, by=None, engagements=pd.DataFrame(_cents(_random_rows(rng, 25))),
        trial_in=TrialCreate(version_id=found.id, kind=TrialKind.simulator, simulator="VBS4",
                             scenario="fpv_swarm", started_at=datetime(2026, 11, 3, tzinfo=UTC)))
    service.add_engagements(session=session, trial=session.get(Trial, trials[0]["id"]),
                            engagements_in=[EngagementCreate(**row)
                                            for row in _random_rows(rng, 10)])


@pytest.mark.parametrize("seed", [1, 2])
def test_kept_aggregates_equal_a_rebuild_after_writes_through_every_path(
        client, engine, session, make_user, seed) -> None:
    _write_through_every_path(client, engine, session, make_user, np.random.default_rng(seed))
    kept = aggregates.maintained(session)
    assert kept == aggregates.rebuilt(session)
    engagements = session.exec(select(func.count()).select_from(Engagement)).one()
    assert sum(row[4] for row in kept["score_aggregate"]) == engagements
    assert sum(row[-1] for row in kept["trial_outcome_count"]) == engagements
    assert service.rebuild_scores(session=session).changed_rows == 0
    assert aggregates.maintained(session) == kept


def test_concurrent_writers_lose_no_increment(client, engine, session, make_user) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    trial_id = new_trial(client, soldier, version["id"])["id"]
    frames = [pd.DataFrame(_cents(_random_rows(np.random.default_rng(i), 200))) for i in range(6)]
    failures = []

    def write(frame: pd.DataFrame) -> None:
        try:
            with Session(engine) as own:
                service.add_engagement_rows(session=own, trial=own.get(Trial, trial_id),
                                            engagements=frame)
        except Exception as error:  # noqa: BLE001 - reported below, with the test's own assert
            failures.append(error)

    threads = [threading.Thread(target=write, args=(frame,)) for frame in frames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert aggregates.maintained(session) == aggregates.rebuilt(session)
    assert session.exec(select(func.sum(ScoreAggregate.engagements))).one() == 1200


def test_rebuild_command_restores_damaged_aggregates(client, make_user, session, monkeypatch,
                                                     settings) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    trial = new_trial(client, soldier, version["id"])
    add_engagements(client, soldier, trial["id"], [engagement()] * 3)
    kept = aggregates.maintained(session)
    row = session.exec(select(ScoreAggregate)).one()
    row.intercepts = 99
    session.add(row)
    session.commit()
    monkeypatch.setenv("SOLDIERSLAB_DATABASE_URL", settings.database())
    result = CliRunner().invoke(cli, ["scores", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "rebuilt 1 conditions" in result.output
    assert "2 aggregate rows differed" in result.output  # the damaged row, and its repair
    session.expire_all()
    assert aggregates.maintained(session) == kept


# --- bulk uploads --------------------------------------------------------------------------

@pytest.fixture
def upload_trial(client, make_user) -> tuple[dict, dict]:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    return new_trial(client, soldier, version["id"]), auth(soldier)


def _hundred_thousand() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 100_000
    return pd.DataFrame({"threat_kind": rng.choice(THREATS, n),
                         "threat_cost_eur": rng.integers(1, 5_000_000, n) / 100,
                         "interceptors_used": rng.integers(0, 4, n),
                         "outcome": rng.choice(["intercept", "miss"], n),
                         "time_to_intercept_s": np.where(rng.random(n) < 0.5,
                                                         rng.exponential(60, n), np.nan)})


def test_a_hundred_thousand_rows_with_one_bad_row_write_nothing_and_name_it(
        client, upload_trial, session) -> None:
    trial, headers = upload_trial
    rows = _hundred_thousand()
    rows.loc[73_456, "outcome"] = "vaporised"
    response = client.post(f"/api/v1/trials/{trial['id']}/engagements/upload",
                           content=rows.to_csv(index=False).encode(),
                           headers={**headers, "content-type": "text/csv"})
    assert response.status_code == 422
    assert response.json()["detail"] == [{
        "loc": ["body", 73_456, "outcome"], "type": "invalid",
        "msg": "row 73456: outcome: one of intercept, miss, abort, fratricide"}]
    assert session.exec(select(func.count()).select_from(Engagement)).one() == 0
    assert aggregates.maintained(session)["score_aggregate"] == set()


def test_a_hundred_thousand_rows_are_recorded_in_one_parquet_upload(client, upload_trial,
                                                                   session) -> None:
    trial, headers = upload_trial
    rows = _hundred_thousand()
    table = io.BytesIO()
    rows.to_parquet(table)
    response = client.post(f"/api/v1/trials/{trial['id']}/engagements/upload",
                           content=table.getvalue(),
                           headers={**headers, "content-type": "application/vnd.apache.parquet"})
    assert response.status_code == 201, response.text
    assert response.json() == {"trial_id": trial["id"], "recorded": 100_000, "outcomes": {
        "intercept": int((rows["outcome"] == "intercept").sum()),
        "miss": int((rows["outcome"] == "miss").sum())}}
    tallies = {row.threat_kind: row for row in session.exec(select(ScoreAggregate)).all()}
    assert {kind: row.engagements for kind, row in tallies.items()} == \
        rows["threat_kind"].value_counts().to_dict()
    assert sum(row.threat_cost_cents for row in tallies.values()) == \
        int(round(rows["threat_cost_eur"] * 100).sum())


def test_the_same_rows_in_every_format_score_the_same(client, make_user) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    reviewer = auth(make_user(Role.reviewer))  # soldiers' evidence, exact and live
    rows = _random_rows(np.random.default_rng(3), 50)
    table = io.BytesIO()
    pd.DataFrame(rows).to_parquet(table)
    bodies = {"text/csv": pd.DataFrame(rows).to_csv(index=False).encode(),
              "application/x-ndjson": "\n".join(map(json.dumps, rows)).encode(),
              "application/vnd.apache.parquet": table.getvalue()}
    scores = []
    for media, body in bodies.items():
        version = new_version(client, engineer, new_prototype(client, engineer)["id"])
        trial = new_trial(client, soldier, version["id"])
        client.post(f"/api/v1/trials/{trial['id']}/engagements/upload", content=body,
                    headers={**auth(soldier), "content-type": media})
        scores.append(client.get(f"/api/v1/versions/{version['id']}/score",
                                 headers=reviewer).json()["by_scenario"])
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    add_engagements(client, soldier, new_trial(client, soldier, version["id"])["id"], rows)
    listed = client.get(f"/api/v1/versions/{version['id']}/score", headers=reviewer)
    assert scores == [listed.json()["by_scenario"]] * 3
    assert listed.json()["by_scenario"]["shahed_raid"]


@pytest.mark.parametrize("body, media, code", [
    (b"threat_kind\nshahed_136\n", "application/xml", 415),
    (b"x" * (64 << 20) + b"x", "text/csv", 413),
    (b"{not json", "application/x-ndjson", 422),
    (b"PAR1 but not parquet", "application/vnd.apache.parquet", 422),
])
def test_uploads_in_unknown_or_broken_formats_are_refused(client, upload_trial, session, body,
                                                          media, code) -> None:
    trial, headers = upload_trial
    response = client.post(f"/api/v1/trials/{trial['id']}/engagements/upload", content=body,
                           headers={**headers, "content-type": media})
    assert response.status_code == code, response.text
    assert session.exec(select(func.count()).select_from(Engagement)).one() == 0


def test_dashboard_shows_each_scenario_apart(client, make_user) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    reviewer = make_user(Role.reviewer)
    _scored_version(client, engineer, soldier, name="Hornet", cost=4000, hits=3, misses=1)
    _scored_version(client, engineer, soldier, name="Swatter", cost=500, hits=1, misses=1,
                    scenario="fpv_swarm", threat="fpv_strike")
    client.post("/login", data={"username": reviewer.name, "password": PASSWORD},
                follow_redirects=False)
    page = client.get("/dashboard").text
    sections = re.findall(r"<th colspan=\"7\">([^<]+)</th>", page)
    assert sections == ["fpv_swarm against fpv_strike", "shahed_raid against shahed_136"]
    hornet = re.search(r"Hornet</a></td>(.*?)</tr>", page, re.S).group(1)
    assert "5,333" in hornet and "field 4: 5,333 EUR" in hornet
