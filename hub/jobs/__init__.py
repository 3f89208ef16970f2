"""Simulation jobs: the durable queue (`queue`) and the worker that empties it (`worker`)."""
