"""What an engineer reads of the task force's record: nothing that leads to a person or a
place (findings, decisions), and the telemetry index under pseudonyms."""

from sandbox.models import OrgKind, Role
from tests.conftest import auth
from tests.factories import new_prototype, new_version

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
