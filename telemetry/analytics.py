"""Flights of many sessions at once, read straight from their Parquet parts with Polars (on the
local disk or in an S3 bucket alike) in one query, never session by session."""

import pandas as pd
import polars as pl

# What a flight's span and height are read from; a part may lack some of these (a live stream
# has no log time), and those columns come back null.
POSITION_COLUMNS = {"time_us": pl.Int64, "time_boot_ms": pl.Int64, "relative_alt": pl.Int64}
FLIGHT_COLUMNS = ["session_id", "positions", "duration_s", "max_altitude_m"]


def session_flights(parts: dict[int, list[str]], *,
                    storage_options: dict[str, str] | None = None) -> pd.DataFrame:
    """GLOBAL_POSITION_INT parts (paths or s3:// URLs) by session id → one row per session:
    positions, duration_s (first to last position, by log time, else time since boot, as
    `telemetry.summary` counts it) and max_altitude_m (above home)."""
    owner = {path: session_id for session_id, paths in parts.items() for path in paths}
    if not owner:
        return pd.DataFrame(columns=FLIGHT_COLUMNS)
    owners = pl.LazyFrame({"path": list(owner), "session_id": list(owner.values())})
    seconds = pl.coalesce(pl.col("time_us") / 1e6, pl.col("time_boot_ms") / 1e3)
    flights = (pl.scan_parquet(list(owner), schema=POSITION_COLUMNS, missing_columns="insert",
                               extra_columns="ignore", include_file_paths="path",
                               cast_options=pl.ScanCastOptions(integer_cast="upcast"),
                               storage_options=storage_options)
               .join(owners, on="path")
               .group_by("session_id")
               .agg(positions=pl.len(), duration_s=seconds.max() - seconds.min(),
                    max_altitude_m=pl.col("relative_alt").max() / 1e3)
               .sort("session_id"))
    return flights.collect().to_pandas()[FLIGHT_COLUMNS]
