"""The sensors part of the engineers' anonymised feedback: detection and jammer figures, in
every format, released as engagements are, with no position, node id, unit or clock time."""

import io
import json
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.flows.sensors import store_detections
from sandbox.models import OrgKind, Role
from tests.conftest import PASSWORD, auth
from tests.factories import new_prototype, new_trial, new_version
from tests.hub.sensor_trial import (
    M_PER_DEG_LAT,
    NODE,
    SITE,
    T0,
    document,
    iso,
    position,
    record,
    target,
)
from tests.hub.test_feedback import fly, report
from tests.telemetry.flights import Flight

SAPIENT_AT = (50.0012345, 4.0067891)  # where the SAPIENT node stood: must never leave
JAMMER_AT = (50.0023456, 4.0034567)


def _upload(client, user, trial_id: int) -> None:
    response = client.post(f"/api/v1/trials/{trial_id}/telemetry",
                           content=Flight(target, T0, sysid=42).tlog(100),
                           headers={**auth(user), "content-type": "application/octet-stream"})
    assert response.status_code == 201, response.text


def _courageous(client, user, trial_id: int) -> None:
    """Seen 12 m north of the target every second over t = 0.7 … 49.7, and one clutter."""
    seen = {"records": [record(k, k + 0.7, location=position(k + 0.7, north_m=12))
                        for k in range(50)]}
    clutter = {"records": [record(100, 30.2, location=position(30.2, north_m=400))]}
    response = client.post(f"/api/v1/trials/{trial_id}/courageous",
                           json=document(detection=[seen, clutter]), headers=auth(user))
    assert response.status_code == 201, response.text


def _sapient(client, app, settings, user, trial_id: int) -> None:
    """A SAPIENT node's session at SAPIENT_AT: 10 detections 5 m north of the target."""
    response = client.post(f"/api/v1/trials/{trial_id}/sensor-sessions", headers=auth(user),
                           json={"node_id": NODE, "lat": SAPIENT_AT[0], "lon": SAPIENT_AT[1],
                                 "alt_m": SITE[2]})
    assert response.status_code == 201, response.text
    times = [60.5 + k for k in range(10)]
    table = pd.DataFrame({
        "time_us": [round((T0 + t) * 1e6) for t in times],
        "lat_deg": [target(t)[0] + 5 / M_PER_DEG_LAT for t in times],
        "lon_deg": [target(t)[1] for t in times], "height_m": [target(t)[2] for t in times],
        "datum": "msl", "object_id": "obj-1", "classification": "UAV", "confidence": 0.8})
    store_detections(engine=app.state.engine, storage=settings.storage(),
                     sensor_session_id=response.json()["id"], table=table)


@pytest.fixture
def prototype(client, app, settings, make_user, make_org):
    """A sensor prototype: a reviewer's trial (no unit) with two sensors and a jammer, and a
    soldier's sensor trial whose unit is named, with a report on it."""
    engineer, reviewer = make_user(Role.engineer), make_user(Role.reviewer)
    unit = make_org(OrgKind.unit, name="Unit Kestrel Nine", region="Kharkiv")
    squad = [make_user(Role.soldier, unit, name=f"petrenko.ivan{i}") for i in range(6)]
    made = new_prototype(client, engineer, name="Argus", kind="cuas_sensor")
    version = new_version(client, engineer, made["id"], unit_cost_eur=90000)
    ranges = {"lat": SITE[0], "lon": SITE[1], "started_at": iso(0), "ended_at": iso(200)}
    own = new_trial(client, reviewer, version["id"], **ranges)
    _upload(client, reviewer, own["id"])
    _courageous(client, reviewer, own["id"])
    _sapient(client, app, settings, reviewer, own["id"])
    activation = {"start": iso(20), "end": iso(40), "band": "GNSS L1", "power_w": 20,
                  "lat": JAMMER_AT[0], "lon": JAMMER_AT[1]}
    assert client.post(f"/api/v1/trials/{own['id']}/ew-activations", json=[activation],
                       headers=auth(reviewer)).status_code == 201
    soldiers = new_trial(client, squad[0], version["id"], **ranges)
    _upload(client, squad[0], soldiers["id"])
    _courageous(client, squad[0], soldiers["id"])
    report(client, squad[0], soldiers["id"], "seen it early, lost it over the trees")
    return {"engineer": engineer, "squad": squad, "id": made["id"], "version": version}


def _get(client, prototype, **params):
    response = client.get(f"/api/v1/prototypes/{prototype['id']}/feedback",
                          headers=auth(prototype["engineer"]), params=params)
    assert response.status_code == 200, response.text
    return response


SECRETS = ("Kestrel", "petrenko", NODE, "50.00123", "4.00678", "50.00234", "4.00345",
           "50.0001", "2026-01-01", "00:00:", "obj-1")


def _clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


def _every_format(client, prototype) -> dict[str, pd.DataFrame]:
    """Every part in every format, each checked clean; the sensors part as read from each."""
    _clean(_get(client, prototype).text)
    for part in ("engagements", "reports", "telemetry", "sensors"):
        for fmt in ("csv", "parquet"):
            response = _get(client, prototype, format=fmt, part=part)
            _clean(response.text if fmt == "csv" else response.content.decode("latin-1"))
            if fmt == "parquet":
                table = pd.read_parquet(io.BytesIO(response.content))
                for column in table.columns:  # no position, node or clock time column
                    assert not re.search(r"(^|_)(lat|lon|node|started|created)(_|$)", column)
    csv = pd.read_csv(io.StringIO(_get(client, prototype, format="csv", part="sensors").text))
    parquet = pd.read_parquet(io.BytesIO(_get(client, prototype, format="parquet",
                                              part="sensors").content))
    return {"json": pd.DataFrame(_get(client, prototype).json()["sensors"]), "csv": csv,
            "parquet": parquet}


def test_sensor_figures_leave_in_every_format_without_positions_or_names(
        client, prototype) -> None:
    parts = _every_format(client, prototype)
    for fmt, rows in parts.items():
        # the soldiers' trial waits for a batch: only the reviewer's trial, two sensors and
        # its jammer
        assert list(rows["figure"]) == ["detection", "detection", "ew_effect"], fmt
        assert rows["trial"].nunique() == 1 and rows["unit"].iloc[0] == "none"
        courageous, sapient, jammer = (rows.iloc[i] for i in range(3))
        assert (courageous["sensor"], sapient["sensor"]) == (1, 2)
        assert (courageous["epochs"], courageous["detected"]) == (101, 50)
        assert courageous["false_alarms"] == 1
        assert courageous["first_detection_range_m"] == 2990.0  # 2,987.7 m, to 10 m
        assert courageous["time_to_first_detection_s"] == 1.0  # 0.7 s, to the second
        assert courageous["position_error_p50_m"] == 12.0  # 12.0004 m, to the metre
        assert sapient["detected"] == 10
        assert sapient["position_error_p50_m"] == 5.0
        bins = {name: value if not isinstance(value, str) else json.loads(value)
                for name, value in (("c", courageous["position_error_bins"]),
                                    ("s", sapient["position_error_bins"]))}
        assert [list(b) for b in bins["c"]] == [[0, 5, 0], [5, 10, 0], [10, 15, 50]], fmt
        assert [list(b) for b in bins["s"]][-1] == [5, 10, 10], fmt
        by_range = courageous["pd_by_range"]
        by_range = json.loads(by_range) if isinstance(by_range, str) else by_range
        assert [list(b) for b in by_range][5] == [2500, 3000, 25, 25], fmt
        assert (jammer["activations"], jammer["effective_activations"]) == (1, 0)
        assert jammer["link_loss_rate_on"] == 0.0 and jammer["gps_degraded_share_on"] == 0.0
        assert pd.isna(jammer["sensor"]) and pd.isna(jammer["epochs"])


def test_a_soldiers_sensor_trial_leaves_once_a_batch_releases_it(client, prototype) -> None:
    squad, version = prototype["squad"], prototype["version"]
    for soldier in squad[1:4]:
        fly(client, soldier, version["id"], started=iso(0), text="fine")
    assert _get(client, prototype).json()["sensors"][0]["unit"] == "none"
    assert len(_get(client, prototype).json()["sensors"]) == 3  # four people: held back
    fly(client, squad[4], version["id"], started=iso(0), text="fine")
    body = _get(client, prototype).json()
    assert body["release"]["batches"] == 1
    soldiers = [row for row in body["sensors"] if row["unit"] != "none"]
    assert len(soldiers) == 1 and soldiers[0]["unit"].startswith("unit-")
    assert soldiers[0]["week"] == "2026-W01" and soldiers[0]["detected"] == 50
    parts = _every_format(client, prototype)
    assert all(len(rows) == 4 for rows in parts.values())


def test_the_command_line_exports_the_sensors_part_as_served(client, prototype, cli_env,
                                                             settings, monkeypatch,
                                                             tmp_path) -> None:
    monkeypatch.setenv("SOLDIERSLAB_SECRET_KEY", settings.secret_key)  # the same pseudonyms
    out = tmp_path / "sensors.csv"
    result = CliRunner().invoke(cli, ["export", "feedback", "--prototype", str(prototype["id"]),
                                      "--out", str(out), "--part", "sensors"])
    assert result.exit_code == 0, result.output
    served = _get(client, prototype, format="csv", part="sensors").text
    assert out.read_text() == served and served.count("\n") == 4


def test_the_engineer_page_downloads_the_sensors_part_as_served(client, prototype) -> None:
    engineer = prototype["engineer"]
    login = client.post("/login", data={"username": engineer.name, "password": PASSWORD},
                        follow_redirects=False)
    assert login.status_code == 303, login.text
    home = client.get("/engineer").text
    link = f"/prototypes/{prototype['id']}/feedback.csv?part=sensors"
    assert link in home
    page = client.get(link)
    assert page.status_code == 200, page.text
    assert "argus-sensors-" in page.headers["content-disposition"]
    assert page.text == _get(client, prototype, format="csv", part="sensors").text
    assert page.text.count("\n") == 4
    _clean(page.text)
