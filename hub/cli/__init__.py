"""The `soldierslab` command: one module per group of commands, all on `app`."""

from hub.cli import admin, export, ingest, scores, serve, simulate
from hub.cli.common import app

__all__ = ["admin", "app", "export", "ingest", "scores", "serve", "simulate"]
