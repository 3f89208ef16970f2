"""What every table family shares: id and slug types, the strict input base, column helpers."""

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from annotated_types import Ge, Le
from pydantic import ConfigDict, StringConstraints, field_validator
from sqlmodel import Field, SQLModel

from sandbox.timeutil import UTCDateTime, utcnow

MAX_EUR = Decimal("10000000000")  # 10 bn EUR: above any real system, below integer-cents overflow

MAX_ID = 2_147_483_647  # SQL INTEGER: a larger id cannot exist, so it is refused up front
Id = Annotated[int, Ge(1), Le(MAX_ID)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")]
LoginName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]+$")]


def enum_column(cls: type[StrEnum]) -> Any:
    # Plain strings in SQL: adding a kind later needs no ALTER TYPE on PostgreSQL.
    return sa.String(32)


def utc_column(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Input(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL; refuse it here with a message, on every database.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


