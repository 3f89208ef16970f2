"""The audit chain's key and checkpoints, from the settings; checkpoints kept while the hub
runs (every few seconds while entries are written, and as it stops).

With several replicas, a checkpoint file in each replica's data folder would leave every
verifier blind to the others' files; with telemetry in a bucket (TELEMETRY_URL=s3://…), the
checkpoints go there too, one object per checkpoint, where every replica and every verifier
finds them all.
"""

import asyncio
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from hub.settings import Settings
from sandbox import audit
from sandbox.checkpoints import CheckpointLog, FileCheckpoints
from telemetry.objects import STORAGE_ERRORS, Storage, get_many

CHECKPOINTS = "audit-checkpoints/"
READ_AT_ONCE = 64
log = logging.getLogger(__name__)


class StoredCheckpoints:
    """One object per checkpoint, named by its entry, created only if the name is free: a
    checkpoint once written is never replaced, and replicas signing the same tip store it once.
    Read back in entry order (the names are zero-padded), whoever wrote them."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.where = f"the checkpoints under {storage.path_of(CHECKPOINTS)} (in name order)"

    def append(self, line: str) -> None:
        seq = int(json.loads(line)["seq"])
        with _as_os_error(self.where):  # what the audit chain expects of a log that fails
            self.storage.create(f"{CHECKPOINTS}{seq:012d}.json", line.encode())

    def lines(self) -> Iterator[str]:
        with _as_os_error(self.where):
            keys = [entry.key for entry in self.storage.list(CHECKPOINTS)]
            for start in range(0, len(keys), READ_AT_ONCE):
                for data in get_many(self.storage, keys[start:start + READ_AT_ONCE]):
                    yield data.decode(errors="replace")


@contextmanager
def _as_os_error(where: str) -> Iterator[None]:
    try:
        yield
    except STORAGE_ERRORS as error:
        raise OSError(f"{where}: {error}") from error


def checkpoint_log(settings: Settings) -> CheckpointLog:
    """AUDIT_CHECKPOINTS if set; else the telemetry bucket when there is one (shared by every
    replica); else a file in the data folder."""
    if settings.audit_checkpoints is None and settings.telemetry_url.startswith("s3://"):
        return StoredCheckpoints(settings.storage())
    return FileCheckpoints(settings.audit_checkpoint_path())


def configure(engine: Engine, settings: Settings) -> None:
    """Give `engine`'s audit chain its key (never stored in the database) and checkpoint log;
    in production mode a missing SOLDIERSLAB_AUDIT_KEY stops the start here."""
    audit.configure(engine, key=settings.audit_secret(), log=checkpoint_log(settings),
                    interval_s=settings.audit_checkpoint_s)


def checkpoint(engine: Engine) -> None:
    """Sign the chain's stored tip into the checkpoint log, if it moved."""
    try:
        with Session(engine) as session:
            audit.checkpoint(session)
    except (OSError, SQLAlchemyError) as error:  # the hub serves on; verify will tell
        log.warning("audit checkpoint not written: %s", error)


async def keep_checkpoints(engine: Engine, interval_s: float) -> None:
    """Checkpoint now and every `interval_s`, so the newest entries do not wait for the next
    write to be covered; cancelled (after a last checkpoint) when the hub stops."""
    try:
        while True:
            await asyncio.to_thread(checkpoint, engine)
            await asyncio.sleep(interval_s)
    finally:
        await asyncio.to_thread(checkpoint, engine)
