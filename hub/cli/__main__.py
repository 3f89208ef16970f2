"""`python -m hub.cli` runs the `soldierslab` command."""

from hub.cli import app

app()
