"""One Settings object, read once at start-up from SOLDIERSLAB_* variables and passed down."""

import ipaddress
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from telemetry.objects import Storage, storage_at


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOLDIERSLAB_", extra="ignore")

    mode: Literal["development", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str = Field(default="", description="empty: a SQLite file in data_dir")
    secret_key: str = Field(default="", description="empty in development: generated once, "
                                                     "kept in data_dir; required in production")
    token_ttl_s: int = Field(default=900, gt=0, le=86400)
    max_body_bytes: int = Field(default=1 << 20, gt=0)
    max_upload_bytes: int = Field(default=512 << 20, gt=0)
    max_document_bytes: int = Field(default=64 << 20, gt=0,
                                    description="JSON documents such as COURAGEOUS imports")
    max_ws_message_bytes: int = Field(default=4 << 20, gt=8)
    k_anonymity: int = Field(default=5, ge=2, le=1000)
    l_diversity: int = Field(default=2, ge=1, le=10)
    privacy_budget_epsilon: float = Field(default=10.0, gt=0, le=1000, description=
                                          "each company's differential-privacy budget")
    mavlink: list[str] = Field(default_factory=list,
                               description='listeners, e.g. ["udpin:0.0.0.0:14550"]')
    sapient: list[str] = Field(default_factory=list,
                               description='SAPIENT listeners, e.g. ["tcpin:0.0.0.0:5020"]')
    geoid_grid: Path | None = Field(default=None, description="a finer EGM96 .gtx grid; empty: "
                                    "the 30' grid shipped with the hub")
    audit_key: str = Field(default="", description="HMAC key of the audit chain, kept out of "
                           "the database; empty in development: generated once, kept in "
                           "data_dir; required in production")
    audit_checkpoints: Path | None = Field(default=None, description="append-only file of "
                                           "signed checkpoints; empty: in data_dir")
    audit_checkpoint_s: float = Field(default=10.0, gt=0, le=3600)
    simulation_workers: int | None = Field(default=None, ge=0, le=16, description=
                                           "simulation workers inside each hub process; "
                                           "empty: one on SQLite, none on PostgreSQL (run "
                                           "`soldierslab worker` processes there)")
    simulation_poll_s: float = Field(default=1.0, gt=0, le=60, description="how often an "
                                     "idle worker looks for queued simulations")
    simulation_lease_s: float = Field(default=30.0, ge=1, le=3600, description="a running "
                                      "simulation whose worker has not renewed its lease for "
                                      "this long is run again by another worker")
    # Engineers' simulations count against their company, each reviewer's or admin's against
    # that person: how many run at once, how many more may wait, how many runs each may have.
    simulation_company_running: int = Field(default=2, ge=1, le=100)
    simulation_company_queued: int = Field(default=8, ge=0, le=1000)
    simulation_company_runs: int = Field(default=20_000, ge=1)
    simulation_staff_running: int = Field(default=4, ge=1, le=100)
    simulation_staff_queued: int = Field(default=16, ge=0, le=1000)
    simulation_staff_runs: int = Field(default=100_000, ge=1)
    trusted_proxies: str = Field(default="", description="comma-separated addresses or "
                                 "networks of reverse proxies whose X-Forwarded-For is "
                                 "believed; empty: nobody's")
    telemetry_url: str = Field(default="", pattern=r"^(s3://[^/]+.*|file://.+|[^:]*)$",
                               description="where telemetry Parquet is kept: s3://bucket/prefix "
                               "(endpoint, region and credentials from the AWS_* variables) or "
                               "a local folder; empty: data_dir/telemetry")
    broker: Literal["auto", "process", "postgres"] = Field(
        default="auto", description="how replicas hear each other's feed notices, live "
        "positions and websocket closes: postgres (LISTEN/NOTIFY), process (one hub only); "
        "auto: postgres on a PostgreSQL database")
    host: str = "127.0.0.1"
    port: int = 8000

    def database(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'soldierslab.db').resolve()}"

    def secret(self) -> str:
        """The signing secret; in development a random one is made on first run and kept."""
        return self._kept_secret(self.secret_key, "SECRET_KEY", "secret_key")

    def audit_secret(self) -> bytes:
        """The audit chain's key, kept out of the database (like secret())."""
        return self._kept_secret(self.audit_key, "AUDIT_KEY", "audit_key").encode()

    def storage(self) -> Storage:
        """Where telemetry and sensor detections are kept (the same for every hub replica)."""
        return storage_at(self.telemetry_url or str(self.data_dir / "telemetry"))

    def audit_checkpoint_path(self) -> Path:
        return self.audit_checkpoints or self.data_dir / "audit_checkpoints.jsonl"

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: str) -> str:
        for part in filter(None, (part.strip() for part in value.split(","))):
            ipaddress.ip_network(part, strict=False)  # a ValueError names the bad entry
        return value

    def _kept_secret(self, value: str, name: str, file_name: str) -> str:
        if value:
            if len(value) < 32:
                raise ValueError(f"SOLDIERSLAB_{name} must be at least 32 characters")
            return value
        if self.mode == "production":
            raise ValueError(f"SOLDIERSLAB_{name} must be set in production mode")
        path = self.data_dir / file_name
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()
