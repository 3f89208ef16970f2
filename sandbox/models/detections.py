"""Sensor and jammer trials: sensor sessions (the detections live in Parquet, this row indexes
them), jammer activations, and the maintained detection and effect summaries that readiness
reads."""

import uuid
from datetime import datetime
from typing import Self

import sqlalchemy as sa
from pydantic import field_validator, model_validator
from sqlmodel import JSON, Column, Field, SQLModel

from sandbox.models.common import Input, utc_column
from sandbox.timeutil import UTCDateTime, as_utc

DEFAULT_RANGE_M = 5000.0
DEFAULT_GATE_M = 50.0
DEFAULT_TARGET_CLASSES = ["uav", "drone", "uas"]

# --- sensor sessions -----------------------------------------------------------------------


class SensorSession(SQLModel, table=True):
    """One sensor's detections in a trial; `alt_m` is above mean sea level."""

    __tablename__ = "sensor_session"
    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", index=True)
    node_id: str | None = Field(default=None, max_length=36, index=True)
    source: str = Field(max_length=16)
    name: str = Field(default="", max_length=120)
    lat: float | None = None
    lon: float | None = None
    alt_m: float | None = None
    evaluated_range_m: float = DEFAULT_RANGE_M
    gate_m: float = DEFAULT_GATE_M
    target_classes: list[str] = Field(default_factory=lambda: list(DEFAULT_TARGET_CLASSES),
                                      sa_column=Column(JSON))
    registered_at: datetime | None = utc_column(nullable=True)
    detections: int = Field(default=0, sa_type=sa.BigInteger)
    rejected: int = Field(default=0, sa_type=sa.BigInteger)
    batches: int = 0
    bytes_on_disk: int = Field(default=0, sa_type=sa.BigInteger)
    created_at: datetime = utc_column()


def _both_or_neither(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        raise ValueError("lat/lon: give both or neither")


class SensorSessionCreate(Input):
    node_id: uuid.UUID = Field(description="the SAPIENT node's UUID")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    alt_m: float | None = Field(default=None, ge=-500, le=10_000,
                                description="above mean sea level")
    evaluated_range_m: float = Field(default=DEFAULT_RANGE_M, gt=0, le=100_000)
    gate_m: float = Field(default=DEFAULT_GATE_M, gt=0, le=10_000,
                          description="association gate, 3-D metres")
    target_classes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_TARGET_CLASSES), min_length=1, max_length=20,
        description="classifications that count as correct for the target (any case)")

    @model_validator(mode="after")
    def _position(self) -> Self:
        _both_or_neither(self.lat, self.lon)
        return self


class SensorSessionPublic(SQLModel):
    id: int
    trial_id: int
    node_id: str | None
    source: str
    name: str
    lat: float | None = Field(default=None, description="reviewers only; null for everyone else")
    lon: float | None = Field(default=None, description="reviewers only; null for everyone else")
    alt_m: float | None = Field(default=None, description="reviewers only")
    evaluated_range_m: float
    gate_m: float
    target_classes: list[str]
    registered_at: datetime | None
    detections: int
    rejected: int
    created_at: datetime


class DetectionSummary(SQLModel, table=True):
    """The counts behind a sensor session's detection score, kept for readiness and scores."""

    __tablename__ = "detection_summary"
    sensor_session_id: int = Field(foreign_key="sensor_session.id", primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", index=True)
    epochs: int = 0
    detected: int = 0
    false_alarms: int = 0
    evaluated_s: float = 0.0
    bins: list[list[float]] = Field(default_factory=list, sa_column=Column(JSON),
                                    description="[range_m_from, range_m_to, epochs, detected]")
    computed_at: datetime = utc_column()


# --- jammer activations --------------------------------------------------------------------

class EwActivationBase(SQLModel):
    start: datetime = Field(sa_type=UTCDateTime)
    end: datetime = Field(sa_type=UTCDateTime)
    band: str = Field(min_length=1, max_length=32)
    power_w: float = Field(ge=0, le=1_000_000)
    lat: float | None = Field(default=None, ge=-90, le=90,
                              description="the jammer; the trial's site when absent")
    lon: float | None = Field(default=None, ge=-180, le=180)


class EwActivation(EwActivationBase, table=True):
    __tablename__ = "ew_activation"
    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", index=True)
    created_at: datetime = utc_column()


class EwActivationCreate(EwActivationBase, Input):
    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end: must be after start")
        _both_or_neither(self.lat, self.lon)
        return self


class EwActivationPublic(EwActivationBase):
    id: int
    trial_id: int
    created_at: datetime


class EwEffectSummary(SQLModel, table=True):
    """The figures behind a trial's jammer effect, kept for readiness and scores."""

    __tablename__ = "ew_effect_summary"
    trial_id: int = Field(foreign_key="trial.id", primary_key=True)
    activations: int = 0
    effective: int = 0
    median_time_to_effect_s: float | None = None
    effect_range_m: float | None = None
    computed_at: datetime = utc_column()
