"""What an engineer reads of the task force's record: nothing that leads to a person or a
place (findings, decisions), and the telemetry index under pseudonyms."""

import math

import numpy as np
import pandas as pd

from sandbox.models import OrgKind, Role, TrialSite
from telemetry.geodesy import to_enu
from tests.conftest import SECRET, auth
from tests.factories import new_prototype, new_trial, new_version

SOLDIER_TEXT = ("Sgt Pieter Müller of Unit Kestrel Nine (VIPER-6, 0470/123456, "
                "pieter@mail.be) saw it fail at N50.8491 E4.3529 on 031432ZMAR25")
SECRETS = ("Pieter", "Müller", "Kestrel", "VIPER", "0470", "pieter@", "50.8491", "031432")


def test_findings_reach_engineers_scrubbed_and_without_who(client, make_user,
                                                           make_org) -> None:
    engineer = make_user(Role.engineer)
    prototype = new_prototype(client, engineer)
    unit = make_org(OrgKind.unit, name="Unit Kestrel Nine")
    soldier, reviewer = make_user(Role.soldier, unit, name="muller.p"), make_user(Role.reviewer)
    raised = client.post("/api/v1/findings", headers=auth(soldier), json={
        "prototype_id": prototype["id"], "severity": "high",
        "title": "Hornet motor fire near Kharkiv", "description": SOLDIER_TEXT})
    assert raised.status_code == 201
    response = client.get(f"/api/v1/findings?prototype_id={prototype['id']}",
                          headers=auth(engineer))
    [finding] = response.json()
    assert finding["raised_by_id"] is None and finding["severity"] == "high"
    assert finding["title"] == "Hornet motor fire near [name]"  # own prototype name stays
    assert finding["created_at"].startswith("20") and "-W" in finding["created_at"]
    for secret in SECRETS:
        assert secret not in response.text
    raw = client.get("/api/v1/findings", headers=auth(reviewer)).json()
    assert raw[0]["description"] == SOLDIER_TEXT and raw[0]["raised_by_id"] == soldier.id
    own = client.get("/api/v1/findings", headers=auth(soldier)).json()
    assert own[0]["description"] == SOLDIER_TEXT


def test_decisions_carry_no_place_and_no_names_to_engineers_or_soldiers(client,
                                                                          make_user) -> None:
    engineer, reviewer = make_user(Role.engineer), make_user(Role.reviewer)
    soldier = make_user(Role.soldier)
    prototype = new_prototype(client, engineer)
    new_version(client, engineer, prototype["id"])
    fence = [[50.0, 30.0], [50.001, 30.0], [50.001, 30.0014]]
    made = client.post(f"/api/v1/prototypes/{prototype['id']}/decisions",
                       headers=auth(reviewer), json={
                           "to_status": "admitted", "rationale": SOLDIER_TEXT,
                           "conditions": {"geofence": fence, "notes": "ask Sgt Müller"}})
    assert made.status_code == 201, made.text
    path = f"/api/v1/prototypes/{prototype['id']}/decisions"
    for reader in (engineer, soldier):
        response = client.get(path, headers=auth(reader))
        [decision] = response.json()
        assert "geofence" not in decision["conditions"]
        east_north = decision["conditions"]["geofence_local_m"]
        assert len(east_north) == 3 and max(abs(v) for p in east_north for v in p) < 100
        assert decision["conditions"]["notes"] == "ask [name] [name]"
        assert decision["decided_by_id"] is None and "-W" in decision["decided_at"]
        for secret in (*SECRETS, "50.0", "30.0"):
            assert secret not in response.text
    [raw] = client.get(path, headers=auth(reviewer)).json()
    assert raw["conditions"]["geofence"] == fence and raw["decided_by_id"] == reviewer.id


def _sited_nowhere(client, make_user):
    from tests.hub.test_telemetry import tlog

    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    prototype = new_prototype(client, engineer)
    version = new_version(client, engineer, prototype["id"])
    trial = new_trial(client, soldier, version["id"])  # the /log form asks for no site
    uploaded = client.post(f"/api/v1/trials/{trial['id']}/telemetry", content=tlog(30),
                           headers={**auth(soldier),
                                    "content-type": "application/octet-stream"})
    assert uploaded.status_code == 201
    return engineer, prototype, trial, uploaded.json()["id"]


def test_a_trial_without_a_site_takes_its_first_fix_as_secret_site(client, make_user,
                                                                   session) -> None:
    from tests.hub.test_telemetry import SITE_LAT, SITE_LON

    engineer, _, trial, telemetry_id = _sited_nowhere(client, make_user)
    track = client.get(f"/api/v1/telemetry-sessions/{telemetry_id}/messages/"
                       "GLOBAL_POSITION_INT", headers=auth(engineer)).json()
    first = track[0]
    distance_m = math.hypot(first["east_m"], first["north_m"])
    assert 5_000 <= distance_m <= 15_000  # the secret offset, not millions of metres from 0°, 0°
    site = session.get(TrialSite, trial["id"])
    assert (round(site.lat, 4), round(site.lon, 4)) == (SITE_LAT, SITE_LON)
    inverted = to_enu(np.array([0.0]), np.array([0.0]), np.zeros(1),
                      origin=(SITE_LAT, SITE_LON, 0.0))
    assert abs(first["east_m"]) < abs(inverted[0][0]) / 100


def test_live_positions_wait_for_a_fix_then_use_the_same_secret_origin(engine, client,
                                                                        make_user) -> None:
    from hub.flows.live import latest, origin_of

    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    trial = new_trial(client, soldier, version["id"])
    live = origin_of(engine, SECRET, trial["id"])
    no_fix = {"GLOBAL_POSITION_INT": pd.DataFrame({"lat": [0], "lon": [0],
                                                   "relative_alt": [0]})}
    assert live.resolve(no_fix) is None and latest(no_fix, None, 1) is None
    fix = {"GLOBAL_POSITION_INT": pd.DataFrame({"lat": [499_900_000], "lon": [362_300_000],
                                                "relative_alt": [50_000]})}
    origin = live.resolve(fix)
    east_north = latest(fix, origin, 1)["position"]
    assert 5_000 <= math.hypot(east_north["east_m"], east_north["north_m"]) <= 15_000
    assert origin_of(engine, SECRET, trial["id"]).resolve(no_fix) == origin  # remembered


def test_an_engineer_sees_a_telemetry_session_under_the_export_pseudonym(client,
                                                                        make_user) -> None:
    engineer, prototype, trial, telemetry_id = _sited_nowhere(client, make_user)
    response = client.get(f"/api/v1/telemetry-sessions/{telemetry_id}", headers=auth(engineer))
    body = response.json()
    assert body["created_at"] is None and str(body["trial_id"]).startswith("trial-")
    exported = client.get(f"/api/v1/prototypes/{prototype['id']}/feedback",
                          headers=auth(engineer)).json()["telemetry"]
    assert [row["trial"] for row in exported] == [body["trial_id"]]
    assert body["summary"]["max_altitude_m"] == 50.0
