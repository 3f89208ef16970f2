"""MAVLink over UDP/TCP into telemetry sessions, matched by the sender's system id.

Frames are gathered per session and committed every FLUSH_S (a commit per datagram would be
an fsync per datagram); a sysid no open session claims is counted and dropped.
"""

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hub.flows.ingest import open_store, store_batch
from sandbox.models import TelemetrySession
from telemetry.decode import DecodeStats
from telemetry.receivers import Frames

FLUSH_S = 0.5


@dataclass
class Router:
    engine: Engine
    data_dir: Path
    pending: dict[int, list[Frames]] = field(default_factory=lambda: defaultdict(list))
    unmatched: int = 0

    def session_for(self, sysid: int) -> int | None:
        with Session(self.engine) as session:
            return session.exec(select(TelemetrySession.id).where(
                TelemetrySession.sysid == sysid).order_by(
                col(TelemetrySession.id).desc())).first()

    async def accept(self, frames: Frames, _stats: DecodeStats) -> None:
        sysids = {int(s) for table in frames.values() for s in table["sysid"].unique()}
        for sysid in sysids:
            session_id = await asyncio.to_thread(self.session_for, sysid)
            mine = {name: table[table["sysid"] == sysid] for name, table in frames.items()}
            if session_id is None:
                self.unmatched += sum(len(t) for t in mine.values())
            else:
                self.pending[session_id].append(mine)

    async def flush(self) -> None:
        batches, self.pending = self.pending, defaultdict(list)
        for session_id, parts in batches.items():
            names = {name for part in parts for name in part}
            merged = {name: pd.concat([p[name] for p in parts if name in p], ignore_index=True)
                      for name in names}
            batch = open_store(self.data_dir, session_id).last_batch() + 1
            await asyncio.to_thread(store_batch, engine=self.engine, data_dir=self.data_dir,
                                    session_id=session_id, frames=merged, batch=batch,
                                    stats=DecodeStats())

    async def run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            await self.flush()
