"""The anonymised feedback as engineers download it: flight summaries of the prototype's
telemetry sessions (trials as the company's pseudonyms, durations and distances only: no
position, no clock time), its sensors' detection and jammers' effect figures, and every part
streamed as CSV, Parquet or JSON, a chunk at a time."""

import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hub.flows.ingest import open_store
from hub.flows.sensor_scores import sensor_trials, trial_figures
from sandbox import detection, ew_effect
from sandbox.anonymise import QUASI_IDENTIFIERS, company_key, pseudonym
from sandbox.feedback import (
    ENGAGEMENT_COLUMNS,
    REPORT_COLUMNS,
    FeedbackPlan,
    engagement_chunks,
    released_trials,
    report_chunks,
    trial_facts,
)
from sandbox.models import Prototype, TelemetrySession, Trial, Version
from sandbox.models.registry import REPORT_RATINGS
from sandbox.sensor_scores import error_bins
from telemetry.objects import Storage
from telemetry.summary import flight_summary

SUMMARY_MESSAGES = ("GLOBAL_POSITION_INT", "GPS_RAW_INT", "VFR_HUD", "SYS_STATUS",
                    "BATTERY_STATUS", "HEARTBEAT")


def telemetry_summaries(*, session: Session, prototype: Prototype, master_secret: bytes,
                        storage: Storage) -> pd.DataFrame:
    key = company_key(master_secret, prototype.organisation_id)
    rows = []
    for row, trial in session.exec(
            select(TelemetrySession, Trial).join(Trial, col(Trial.id) == col(
                TelemetrySession.trial_id)).join(Version, col(Version.id) == col(
                Trial.version_id)).where(Version.prototype_id == prototype.id)
            .order_by(col(TelemetrySession.id))).all():
        store = open_store(storage, row.id or 0)
        summary = flight_summary({name: store.read(name) for name in SUMMARY_MESSAGES
                                  if name in row.counts})
        rows.append({"trial": pseudonym(str(trial.id), key=key, kind="trial"),
                     "trial_kind": str(trial.kind), "source": row.source,
                     "messages": row.messages, "duration_s": summary.duration_s,
                     "distance_flown_m": summary.distance_flown_m,
                     "max_altitude_m": summary.max_altitude_m,
                     "max_ground_speed_mps": summary.max_ground_speed_mps,
                     "battery_used_pct": summary.battery_used_pct,
                     "link_loss_gaps": len(summary.link_loss_gaps),
                     "frames_lost_on_link": row.link_lost,
                     "min_satellites": summary.min_satellites})
    return pd.DataFrame(rows)


# --- sensors and jammers -------------------------------------------------------------------

DETECTION_FIGURES = {
    "epochs": "Int64", "detected": "Int64", "pd": "float64", "pd_low": "float64",
    "pd_high": "float64", "first_detection_range_m": "float64",
    "time_to_first_detection_s": "float64", "position_error_p50_m": "float64",
    "position_error_p90_m": "float64", "false_alarms": "Int64",
    "false_alarms_per_hour": "float64", "evaluated_s": "Int64",
    "classification_accuracy": "float64"}
EFFECT_FIGURES = {
    "activations": "Int64", "effective_activations": "Int64",
    "median_time_to_effect_s": "float64", "effect_range_m": "float64",
    "link_loss_rate_on": "float64", "link_loss_rate_off": "float64",
    "gps_degraded_share_on": "float64", "gps_degraded_share_off": "float64",
    "satellites_mean_on": "float64", "satellites_mean_off": "float64"}
# [range_m_from, range_m_to, epochs, detected] and [error_m_from, error_m_to, detections]:
# lists of numbers, so that one schema serves JSON, CSV (as JSON text) and Parquet
LISTS = ("pd_by_range", "position_error_bins")
SENSOR_COLUMNS = ["trial", "trial_kind", "version", *QUASI_IDENTIFIERS, "figure", "sensor",
                  *DETECTION_FIGURES, *LISTS, *EFFECT_FIGURES]


def _detection_row(score: detection.DetectionScore) -> dict[str, Any]:
    shown = detection.feedback_figures(score)
    errors = np.array([e for e in shown["position_errors_m"] if e is not None], dtype=float)
    for name in ("position_error_p50_m", "position_error_p90_m"):  # as the errors: to 1 m
        shown[name] = detection.coarse(shown[name], 1)
    return {**{name: shown[name] for name in DETECTION_FIGURES},
            "pd_by_range": [[float(b["range_m_from"]), float(b["range_m_to"]),
                             float(b["epochs"]), float(b["detected"])]
                            for b in shown["pd_by_range"]],
            "position_error_bins": [[b.error_m_from, b.error_m_to, float(b.detections)]
                                    for b in error_bins(errors)]}


def _effect_row(effect: ew_effect.EwEffect) -> dict[str, Any]:
    shown = ew_effect.feedback_figures(effect)
    return {**{name: shown[name] for name in list(EFFECT_FIGURES)[:4]},
            **{f"{figure}_{side}": shown[side][figure] for side in ("on", "off")
               for figure in ("link_loss_rate", "gps_degraded_share", "satellites_mean")}}


def sensor_summaries(*, session: Session, plan: FeedbackPlan, storage: Storage,
                     geoid_grid: Path | None = None) -> pd.DataFrame:
    """The sensors part: a row per scored sensor session (`figure` detection; `sensor`
    numbers a trial's sensors, no node id) and per jammer trial (`figure` ew_effect), in
    local figures only: ranges, durations and errors, never a position or a clock time.

    Released as engagements are: a trial without a unit (no soldier) as it comes; a soldiers'
    trial once a released batch carries one of its engagements or reports, and never if a
    batch withheld any of them (the batches' k-anonymity covers its quasi-identifiers)."""
    withheld_trials = frozenset().union(*(b.withheld_trials for b in plan.batches))
    withheld_reports = frozenset().union(*(b.withheld_reports for b in plan.batches))
    released = released_trials(session, plan.prototype_id, withheld_trials=withheld_trials,
                               withheld_reports=withheld_reports)
    versions = select(Version.id).where(Version.prototype_id == plan.prototype_id)
    trials = [trial for trial in sensor_trials(session, col(Trial.version_id).in_(versions))
              if trial.unit_id is None or trial.id in released]
    facts = trial_facts(session, plan) if trials else None
    rows = []
    for trial in trials:
        shown = facts.loc[trial.id].to_dict()  # type: ignore[union-attr]
        figures = trial_figures(session, storage, trial, geoid_grid=geoid_grid)
        rows += [{**shown, "figure": "detection", "sensor": number, **_detection_row(score)}
                 for number, score in enumerate(figures.detections, 1)]
        if figures.effect is not None:
            rows.append({**shown, "figure": "ew_effect", **_effect_row(figures.effect)})
    frame = pd.DataFrame(rows, columns=SENSOR_COLUMNS).sort_values(["trial", "figure", "sensor"])
    return frame.astype({"sensor": "Int64", **DETECTION_FIGURES, **EFFECT_FIGURES}) \
        .reset_index(drop=True)


# --- writing the parts, a chunk at a time --------------------------------------------------

SCHEMAS = {
    "engagements": pa.schema([*((c, pa.string()) for c in ENGAGEMENT_COLUMNS[:9]),
                              ("interceptors_used", pa.int64()),
                              ("time_to_intercept_s", pa.float64()), ("release", pa.int64())]),
    "reports": pa.schema([*((c, pa.int64() if c in REPORT_RATINGS or c == "release"
                              else pa.string()) for c in REPORT_COLUMNS)]),
    "sensors": pa.schema([
        *((c, pa.string()) for c in SENSOR_COLUMNS[:SENSOR_COLUMNS.index("sensor")]),
        ("sensor", pa.int64()),
        *((c, pa.int64() if dtype == "Int64" else pa.float64())
          for c, dtype in DETECTION_FIGURES.items()),
        *((c, pa.list_(pa.list_(pa.float64()))) for c in LISTS),
        *((c, pa.int64() if dtype == "Int64" else pa.float64())
          for c, dtype in EFFECT_FIGURES.items())]),
}
PARTS = ("engagements", "reports", "telemetry", "sensors")


def part_chunks(engine: Engine, plan: FeedbackPlan, part: str, telemetry: pd.DataFrame,
                sensors: pd.DataFrame | None = None) -> Iterator[pd.DataFrame]:
    """One part of the feedback in chunks, read on its own connection (it outlives the
    request's session while it streams). Telemetry and sensors come read already."""
    if part in ("telemetry", "sensors"):
        yield telemetry if part == "telemetry" else (
            pd.DataFrame(columns=SENSOR_COLUMNS) if sensors is None else sensors)
        return
    with Session(engine) as session:
        if part == "engagements":
            yield from engagement_chunks(session, plan)
        else:
            yield from report_chunks(session, plan)


def columns_of(part: str, telemetry: pd.DataFrame) -> list[str]:
    return list(SCHEMAS[part].names) if part in SCHEMAS else list(telemetry.columns)


def csv_stream(chunks: Iterable[pd.DataFrame], columns: list[str]) -> Iterator[bytes]:
    yield (",".join(columns) + "\n").encode()
    for chunk in chunks:
        yield chunk.to_csv(index=False, header=False).encode()


class _Drain(io.RawIOBase):
    """A write-only file whose bytes are taken away as they come (Parquet needs `tell`)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def parquet_stream(chunks: Iterable[pd.DataFrame], part: str) -> Iterator[bytes]:
    """Parquet, one row group per chunk, each sent as soon as it is written."""
    drain = _Drain()
    writer = None
    for chunk in chunks:
        table = pa.Table.from_pandas(chunk, schema=SCHEMAS.get(part), preserve_index=False)
        writer = writer or pq.ParquetWriter(drain, table.schema)
        writer.write_table(table)
        yield drain.take()
    writer = writer or pq.ParquetWriter(drain, SCHEMAS.get(part, pa.schema([])))
    writer.close()
    yield drain.take()


def json_stream(parts: dict[str, Iterable[pd.DataFrame]], note: dict[str, Any]) -> Iterator[bytes]:
    """{"engagements": [...], "reports": [...], "telemetry": [...], "release": {...}}."""
    for number, (name, chunks) in enumerate(parts.items()):
        yield f'{"{" if number == 0 else "], "}"{name}": ['.encode()
        first = True
        for chunk in chunks:
            body = chunk.to_json(orient="records", force_ascii=False, date_format="iso")[1:-1]
            if body:
                yield (body if first else "," + body).encode()
                first = False
    yield f'], "release": {json.dumps(note)}}}'.encode()


def engineer_session_fields(session: Session, public: dict[str, Any], secret: str,
                            row: TelemetrySession) -> dict[str, Any]:
    """A telemetry session's index as its company's engineers see it: the trial under the
    export's pseudonym (the same in every channel), the time it was opened withheld."""
    trial = session.get(Trial, row.trial_id)
    version = session.get(Version, trial.version_id) if trial else None
    prototype = session.get(Prototype, version.prototype_id) if version else None
    assert prototype is not None  # foreign keys
    key = company_key(secret.encode(), prototype.organisation_id)
    return {**public, "trial_id": pseudonym(str(row.trial_id), key=key, kind="trial"),
            "created_at": None}
