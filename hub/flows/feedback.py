"""The anonymised feedback as engineers download it: flight summaries of the prototype's
telemetry sessions (trials as the company's pseudonyms, durations and distances only: no
position, no clock time), and every part streamed as CSV, Parquet or JSON, a chunk at a time."""

import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hub.flows.ingest import open_store
from sandbox.anonymise import company_key, pseudonym
from sandbox.feedback import (
    ENGAGEMENT_COLUMNS,
    REPORT_COLUMNS,
    FeedbackPlan,
    engagement_chunks,
    report_chunks,
)
from sandbox.models import Prototype, TelemetrySession, Trial, Version
from sandbox.models.registry import REPORT_RATINGS
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


# --- writing the parts, a chunk at a time --------------------------------------------------

SCHEMAS = {
    "engagements": pa.schema([*((c, pa.string()) for c in ENGAGEMENT_COLUMNS[:9]),
                              ("interceptors_used", pa.int64()),
                              ("time_to_intercept_s", pa.float64()), ("release", pa.int64())]),
    "reports": pa.schema([*((c, pa.int64() if c in REPORT_RATINGS or c == "release"
                              else pa.string()) for c in REPORT_COLUMNS)]),
}
PARTS = ("engagements", "reports", "telemetry")


def part_chunks(engine: Engine, plan: FeedbackPlan, part: str,
                telemetry: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """One part of the feedback in chunks, read on its own connection (it outlives the
    request's session while it streams)."""
    if part == "telemetry":
        yield telemetry
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
