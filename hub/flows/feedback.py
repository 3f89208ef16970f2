"""Flight summaries of a prototype's telemetry sessions, for the anonymised feedback: trials as
the company's pseudonyms, durations and distances only — no position, no clock time."""

import pandas as pd
from sqlmodel import Session, col, select

from hub.flows.ingest import open_store
from sandbox.anonymise import company_key, pseudonym
from sandbox.models import Prototype, TelemetrySession, Trial, Version
from telemetry.summary import flight_summary

SUMMARY_MESSAGES = ("GLOBAL_POSITION_INT", "GPS_RAW_INT", "VFR_HUD", "SYS_STATUS",
                    "BATTERY_STATUS", "HEARTBEAT")


def telemetry_summaries(*, session: Session, prototype: Prototype, master_secret: bytes,
                        data_dir: object) -> pd.DataFrame:
    key = company_key(master_secret, prototype.organisation_id)
    rows = []
    for row, trial in session.exec(
            select(TelemetrySession, Trial).join(Trial, col(Trial.id) == col(
                TelemetrySession.trial_id)).join(Version, col(Version.id) == col(
                Trial.version_id)).where(Version.prototype_id == prototype.id)
            .order_by(col(TelemetrySession.id))).all():
        store = open_store(data_dir, row.id or 0)  # type: ignore[arg-type]
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
