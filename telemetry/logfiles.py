"""Which kind of log a file is (from its first bytes, not its name), and the tables an onboard
log is stored as: its own messages under a prefix (`DF_GPS`, `ULG_vehicle_attitude`), plus the
MAVLink-named tables derived from them.

The prefix keeps a log's own names apart from MAVLink's, so that nothing outside the redaction
allow-list (which names MAVLink messages only) can reach an engineer: the onboard GPS, POS and
vehicle_global_position tables carry raw positions.
"""

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from telemetry import dataflash, ulog

LogFormat = Literal["tlog", "dataflash", "ulog"]
PREFIX = {"dataflash": "DF_", "ulog": "ULG_"}
HEAD_BYTES = 16


def detect_format(head: bytes) -> LogFormat:
    """ULog and DataFlash by their magic bytes; anything else is tried as a .tlog."""
    if head.startswith(ulog.MAGIC):
        return "ulog"
    if head.startswith(dataflash.MAGIC):
        return "dataflash"
    return "tlog"


def onboard_tables(path: Path, log_format: LogFormat) -> dict[str, pd.DataFrame]:
    """A DataFlash or ULog file as stored tables; raises LogFileError if it is bad."""
    if log_format == "dataflash":
        native = dataflash.read_dataflash(np.memmap(path, dtype=np.uint8, mode="r"))
        derived = dataflash.mavlink_tables(native)
    else:
        native = ulog.read_ulog(path)
        derived = ulog.mavlink_tables(native)
    prefix = PREFIX[log_format]
    return {**{f"{prefix}{name}": table for name, table in native.items()}, **derived}
