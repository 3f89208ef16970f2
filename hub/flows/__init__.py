"""Work that crosses packages: plain functions over a session or engine, no FastAPI types."""
