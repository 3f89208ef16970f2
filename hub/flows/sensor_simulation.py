"""A C-UAS sensor trialled in simulation: the scenario's threats fly as synthetic telemetry, the
sensor model reports them, and the trial is scored like any field trial (the same stores, the
same truth from the targets' own clocks, the same detection score)."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlmodel import Session

from hub.flows.ingest import store_batch
from hub.flows.sensors import detection_score, store_detections
from sandbox import service
from sandbox.detection import DETECTION_RECORD
from sandbox.errors import Invalid
from sandbox.models import (
    SensorSession,
    TelemetrySession,
    Trial,
    TrialCreate,
    TrialKind,
    User,
    Version,
)
from sandbox.timeutil import utcnow
from simulators.scenario import Scenario
from simulators.sensor import (
    SensorModel,
    raid_tracks,
    sensor_from_parameters,
    simulate_detections,
    to_geodetic,
    tracks_tlog,
)
from simulators.threats import ScenarioError
from telemetry.decode import decode
from telemetry.objects import Storage

MAX_SENSOR_RUNS = 20  # each run is a raid of telemetry: keep a simulated trial small
SITE = (50.0, 30.0)  # where simulated trials stand, as the synthetic telemetry does


def _model(version: Version) -> SensorModel:
    try:
        return sensor_from_parameters(version.parameters)
    except ScenarioError as error:
        raise Invalid(f"version {version.id} parameters: {error}") from error


def _detection_table(seen: pd.DataFrame, epoch_s: int) -> pd.DataFrame:
    lat, lon = to_geodetic(seen["east_m"].to_numpy(), seen["north_m"].to_numpy(), SITE)
    return pd.DataFrame({
        "time_us": ((epoch_s + seen["t_s"].to_numpy()) * 1e6).astype(np.int64), "lat_deg": lat,
        "lon_deg": lon, "height_m": seen["up_m"].to_numpy(), "datum": "msl",
        "object_id": seen["object_id"].to_numpy(), "classification":
            seen["classification"].to_numpy(), "confidence": np.nan}).astype(DETECTION_RECORD)


def run_sensor_simulation(*, session: Session, version: Version, scenario: Scenario, runs: int,
                          seed: int, by: User | None, storage: Storage | None) -> Trial:
    """Fly `runs` raids past the version's sensor model and record them as a scored trial."""
    if storage is None:
        raise Invalid("a sensor simulation stores telemetry and detections: give a data "
                      "directory")
    if runs > MAX_SENSOR_RUNS:
        raise Invalid(f"runs: at most {MAX_SENSOR_RUNS} for a sensor")
    model = _model(version)
    tracks = raid_tracks(scenario, model, runs=runs)
    epoch = int(utcnow().timestamp())
    start = datetime.fromtimestamp(epoch, UTC)
    trial = service.create_trial(session=session, by=by, trial_in=TrialCreate(
        version_id=version.id or 0, kind=TrialKind.simulation, scenario=scenario.name,
        started_at=start, ended_at=start + timedelta(seconds=float(tracks["t_s"].max()) + 1),
        lat=SITE[0], lon=SITE[1], notes=f"sensor model: {runs} raids, seed {seed}"))
    decoded = decode(tracks_tlog(tracks, site=SITE, epoch_s=epoch), tlog=True)
    telemetry = TelemetrySession(trial_id=trial.id or 0, source="simulation")
    sensor = SensorSession(trial_id=trial.id or 0, source="simulation", name="sensor model",
                           lat=SITE[0], lon=SITE[1], alt_m=0.0,
                           evaluated_range_m=model.max_range_m)
    session.add_all([telemetry, sensor])
    session.commit()
    engine = session.get_bind()
    store_batch(engine=engine, storage=storage, session_id=telemetry.id or 0,  # type: ignore[arg-type]
                frames=decoded.frames, batch=1, stats=decoded.stats)
    store_detections(engine=engine, storage=storage,  # type: ignore[arg-type]
                     sensor_session_id=sensor.id or 0,
                     table=_detection_table(simulate_detections(tracks, model, seed=seed), epoch))
    session.refresh(sensor)
    detection_score(session=session, storage=storage, trial=trial, sensor=sensor)
    return trial
