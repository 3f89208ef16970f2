"""The audit chain's key and checkpoints, from the settings; checkpoints kept while the hub
runs (every few seconds while entries are written, and as it stops)."""

import asyncio
import logging

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from hub.settings import Settings
from sandbox import audit
from sandbox.checkpoints import FileCheckpoints

log = logging.getLogger(__name__)


def configure(engine: Engine, settings: Settings) -> None:
    """Give `engine`'s audit chain its key (never stored in the database) and checkpoint log;
    in production mode a missing SOLDIERSLAB_AUDIT_KEY stops the start here."""
    audit.configure(engine, key=settings.audit_secret(),
                    log=FileCheckpoints(settings.audit_checkpoint_path()),
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
