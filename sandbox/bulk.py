"""Engagement rows written at database speed: COPY on PostgreSQL, executemany on SQLite.

Both run inside the session's transaction, so the caller's commit (or rollback) covers them,
and both hand back the new ids in row order without a query per row.
"""

import io
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlmodel import Session

from sandbox.models import Engagement

COLUMNS = ("trial_id", "threat_kind", "threat_cost_cents", "interceptors_used", "outcome",
           "time_to_intercept_s", "operating_cost_cents", "created_at")
TEXT = ("threat_kind", "outcome")
COPY_FROM_ROWS = 1_000  # below this, COPY's set-up costs more than it saves


def insert_engagements(session: Session, *, trial_id: int, engagements: pd.DataFrame,
                       created_at: datetime, with_ids: bool = False) -> np.ndarray | None:
    """Insert engagement rows (`engagement_rows.COLUMNS`, money in integer cents) of one
    trial; with `with_ids` (always, on SQLite) return their ids in row order."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    postgresql = connection.dialect.name == "postgresql"
    if postgresql and len(engagements) > COPY_FROM_ROWS:
        return _copy(driver, _arrow_rows(trial_id, engagements, created_at), with_ids=with_ids)
    n = len(engagements)
    columns = [[trial_id] * n, *(_values(engagements[name]) for name in COLUMNS[1:-1])]
    if postgresql:  # a few rows, e.g. one soldier's: one INSERT … RETURNING is quicker
        table = Engagement.__table__  # type: ignore[attr-defined]
        found = connection.execute(
            table.insert().returning(table.c.id, sort_by_parameter_order=True),
            [dict(zip(COLUMNS, (*row, created_at), strict=True))
             for row in zip(*columns, strict=True)])
        return np.array(found.scalars().all(), np.int64)
    stamp = Engagement.__table__.c.created_at.type.bind_processor(connection.dialect)(created_at)
    return _executemany(driver, list(zip(*columns, [stamp] * n, strict=True)))


def _values(series: pd.Series) -> list[Any]:
    """Plain Python values, None for null (the driver knows neither NaN nor numpy types)."""
    values = series.to_numpy(object, copy=True)
    values[pd.isna(values)] = None
    return values.tolist()


def _arrow_rows(trial_id: int, engagements: pd.DataFrame, created_at: datetime) -> pa.Table:
    n = len(engagements)
    frame = pd.DataFrame({name: engagements[name].astype(str) if name in TEXT
                          else engagements[name] for name in COLUMNS[1:-1]})
    table = pa.Table.from_pandas(frame, preserve_index=False)  # NaN and NA become null
    stamp = np.datetime64(created_at.astimezone(UTC).replace(tzinfo=None), "us")
    return table.add_column(0, "trial_id", pa.array(np.full(n, trial_id, np.int64))) \
        .append_column("created_at", pa.array(np.full(n, stamp)))


def _copy(driver: Any, rows: pa.Table, *, with_ids: bool) -> np.ndarray | None:
    ids = None
    with driver.cursor() as cursor:
        if with_ids:
            # Drawn from the table's own sequence first, as a default would, because COPY
            # returns nothing; ascending in row order, not always contiguous.
            cursor.execute("SELECT nextval(pg_get_serial_sequence('engagement', 'id')) "
                           "FROM generate_series(1, %s)", (rows.num_rows,))
            ids = np.fromiter((row[0] for row in cursor), np.int64, rows.num_rows)
            rows = rows.add_column(0, "id", pa.array(ids))
        data = io.BytesIO()
        # CSV, not text: an unquoted empty field is NULL, and every string here is quoted
        pacsv.write_csv(rows, data, pacsv.WriteOptions(include_header=False))
        with cursor.copy(f"COPY engagement ({', '.join(rows.column_names)}) "
                         "FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(data.getbuffer())
    return ids


def _executemany(driver: Any, rows: list[tuple[Any, ...]]) -> np.ndarray:
    cursor = driver.cursor()
    try:
        cursor.executemany(f"INSERT INTO engagement ({', '.join(COLUMNS)}) "
                           f"VALUES ({', '.join('?' * len(COLUMNS))})", rows)
        last = cursor.execute("SELECT last_insert_rowid()").fetchone()[0]
    finally:
        cursor.close()
    # One writer at a time, and no AUTOINCREMENT: the rows took max(id) + 1 onwards in order.
    return np.arange(last - len(rows) + 1, last + 1, dtype=np.int64)
