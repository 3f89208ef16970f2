"""Server-rendered pages (no CDN: every script and style is served by the hub)."""
