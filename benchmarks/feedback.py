"""Peak memory of the engineer's feedback export, streamed against building the whole frame.

python -m benchmarks.feedback [--sizes 100000,1000000] [--database-url URL]

For each size, loads that many soldiers' engagements (200 soldiers in 10 units, 20 trials
each) into a new SQLite file (or into the empty PostgreSQL database given), then exports the
engagements part as Parquet twice, each in a fresh process: streamed (one row group per chunk,
as the API sends it) and whole (every chunk gathered into one DataFrame first, as the export
did before). Prints each one's peak resident memory above the process's footprint before the
export, its time, and the ratio; the streamed peak should stay flat as the history grows.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import insert, text
from sqlmodel import Session

from hub.db import make_engine, upgrade
from hub.flows.feedback import parquet_stream, part_chunks
from sandbox.feedback import ENGAGEMENT_COLUMNS, feedback_plan, frame_of
from sandbox.models import (
    Engagement,
    Organisation,
    OrgKind,
    Prototype,
    PrototypeKind,
    Role,
    Trial,
    TrialKind,
    User,
    Version,
)

SECRET = b"benchmark-secret-" + b"x" * 32
SOLDIERS, UNITS, TRIALS_EACH = 200, 10, 20
INSERT_ROWS = 50_000


def _registry(session: Session) -> tuple[int, list[tuple[int, int]]]:
    """A company's prototype, and (trial id, soldier id) for every soldier's trials."""
    company = Organisation(name="Company", kind=OrgKind.company)
    units = [Organisation(name=f"Unit {i}", kind=OrgKind.unit, region=f"Region {i % 3}")
             for i in range(UNITS)]
    session.add_all([company, *units])
    session.flush()
    prototype = Prototype(name="Hornet", kind=PrototypeKind.interceptor_drone,
                          organisation_id=company.id or 0)
    session.add(prototype)
    session.flush()
    version = Version(prototype_id=prototype.id or 0, version="1.0.0", unit_cost_cents=400_000)
    soldiers = [User(name=f"soldier{i}", role=Role.soldier, password_hash="-",
                     organisation_id=units[i % UNITS].id) for i in range(SOLDIERS)]
    session.add_all([version, *soldiers])
    session.flush()
    start = datetime(2026, 11, 2, tzinfo=UTC)
    trials = [Trial(version_id=version.id or 0, kind=TrialKind.field, scenario="shahed_raid",
                    started_at=start + timedelta(days=t % 28), unit_id=soldier.organisation_id,
                    created_by_id=soldier.id)
              for soldier in soldiers for t in range(TRIALS_EACH)]
    session.add_all(trials)
    session.commit()
    return prototype.id or 0, [(t.id or 0, t.created_by_id or 0) for t in trials]


def load(url: str, engagements: int) -> int:
    """A registry with `engagements` soldiers' engagements; returns the prototype id."""
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        prototype_id, trials = _registry(session)
        trial_ids = np.array([t for t, _ in trials])
        rng = np.random.default_rng(1)
        outcomes = np.array(["intercept", "miss", "abort"])
        for first in range(0, engagements, INSERT_ROWS):
            n = min(INSERT_ROWS, engagements - first)
            picks = rng.integers(0, len(trial_ids), n)
            rows = [{"trial_id": int(trial_ids[p]), "threat_kind": "shahed_136",
                     "threat_cost_cents": 3_500_000, "interceptors_used": 1,
                     "outcome": str(outcomes[o]), "time_to_intercept_s": 40.0,
                     "operating_cost_cents": None}
                    for p, o in zip(picks, rng.integers(0, 3, n), strict=True)]
            session.execute(insert(Engagement), rows)
        session.commit()
        session.execute(text("ANALYZE"))  # as autovacuum would: stale statistics after a
        session.commit()                  # bulk load send PostgreSQL down per-trial bitmaps
    engine.dispose()
    return prototype_id


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def export(url: str, prototype_id: int, how: str) -> dict[str, float]:
    """One export in this process: the engagements part as Parquet, to nowhere."""
    engine = make_engine(url)
    with Session(engine) as session:
        prototype = session.get(Prototype, prototype_id)
        assert prototype is not None
        plan = feedback_plan(session=session, prototype=prototype, master_secret=SECRET)
    before, started, written = peak_mib(), time.perf_counter(), 0
    chunks = part_chunks(engine, plan, "engagements", None)  # type: ignore[arg-type]
    if how == "whole":
        chunks = iter([frame_of(chunks, ENGAGEMENT_COLUMNS)])
    for block in parquet_stream(chunks, "engagements"):
        written += len(block)
    return {"peak_mib": peak_mib(), "before_mib": before,
            "seconds": time.perf_counter() - started, "bytes": written}


def _child(url: str, prototype_id: int, how: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "benchmarks.feedback", "--child", how,
                          "--database-url", url, "--prototype", str(prototype_id)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--child", choices=["streamed", "whole"])
    parser.add_argument("--prototype", type=int, default=0)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(export(args.database_url, args.prototype, args.child)))
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.database_url and len(sizes) > 1:
        parser.error("with --database-url (an empty database), give one size")
    print("engagements  export    peak RSS   before export  time     (Parquet bytes)")
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            url = args.database_url or f"sqlite:///{Path(folder) / f'{size}.db'}"
            prototype_id = load(url, size)
            results = {how: _child(url, prototype_id, how) for how in ("streamed", "whole")}
            for how, result in results.items():
                print(f"{size:>11,}  {how:8}  {result['peak_mib']:>5,.0f} MiB  "
                      f"{result['before_mib']:>9,.0f} MiB  {result['seconds']:6.1f} s  "
                      f"({result['bytes']:,})")
            growth = {how: r["peak_mib"] - r["before_mib"] for how, r in results.items()}
            print(f"{size:>11,}  ratio of peaks, whole frame / streamed: "
                  f"{results['whole']['peak_mib'] / results['streamed']['peak_mib']:.2f}; "
                  f"growth during the export: {growth['whole']:,.0f} MiB against "
                  f"{growth['streamed']:,.0f} MiB")
    print("reproduce: python -m benchmarks.feedback --sizes " + args.sizes)


if __name__ == "__main__":
    main()
