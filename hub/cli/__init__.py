"""The `soldierslab` command: one module per group of commands, all on `app`."""

from hub.cli import admin, export, ingest, listing, scores, serve, simulate, worker
from hub.cli.common import app

__all__ = ["admin", "app", "export", "ingest", "listing", "scores", "serve", "simulate",
           "worker"]
