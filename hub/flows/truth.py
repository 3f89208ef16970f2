"""Ground truth for sensor and jammer trials: the target drones' own telemetry in the trial,
on UTC by each vehicle's clock (see telemetry.clock)."""


import pandas as pd
from sqlmodel import Session, col, select

from hub.flows.ingest import open_store
from sandbox.models import TelemetrySession
from telemetry.clock import utc_positions
from telemetry.objects import Storage

TRUTH_MESSAGES = ("GLOBAL_POSITION_INT", "SYSTEM_TIME")
SYSIDS = 256  # a target is one system id in one telemetry session


def trial_frames(*, session: Session, storage: Storage, trial_id: int,
                 names: tuple[str, ...] | None) -> list[tuple[int, dict[str, pd.DataFrame]]]:
    """The named message tables (None: all) of each telemetry session of the trial."""
    rows = session.exec(select(TelemetrySession).where(TelemetrySession.trial_id == trial_id)
                        .order_by(col(TelemetrySession.id))).all()
    out = []
    for row in rows:
        store = open_store(storage, row.id or 0)  # its manifests, not the index, are truth
        stored = store.message_names()
        out.append((row.id or 0, {name: store.read(name) for name in names or stored
                                  if name in stored}))
    return out


def trial_truth(*, session: Session, storage: Storage, trial_id: int) -> pd.DataFrame:
    """target (session id × 256 + sysid), t_s (UTC), lat_deg, lon_deg, alt_msl_m."""
    tracks = [utc_positions(frames).assign(target=lambda t, s=session_id: s * SYSIDS + t.sysid)
              for session_id, frames in trial_frames(session=session, storage=storage,
                                                     trial_id=trial_id, names=TRUTH_MESSAGES)]
    columns = ["target", "t_s", "lat_deg", "lon_deg", "alt_msl_m"]
    if not tracks:
        return pd.DataFrame(columns=columns)
    return pd.concat(tracks, ignore_index=True)[columns]
