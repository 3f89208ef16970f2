"""What every table family shares: id and slug types, the strict input base, column helpers."""

import json
import math
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from annotated_types import Ge, Le
from pydantic import AfterValidator, ConfigDict, StringConstraints, field_validator
from sqlmodel import Field, SQLModel

from sandbox.timeutil import UTCDateTime, utcnow

MAX_EUR = Decimal("10000000000")  # 10 bn EUR: above any real system, below integer-cents overflow

MAX_ID = 2_147_483_647  # SQL INTEGER: a larger id cannot exist, so it is refused up front
Id = Annotated[int, Ge(1), Le(MAX_ID)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")]
LoginName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]+$")]

MAX_JSON_DEPTH = 16
MAX_JSON_CHARS = 65_536


def storable_text(value: str) -> str:
    """Refuse text no database or JSON answer can carry: NUL, and lone UTF-16 surrogates."""
    # PostgreSQL text cannot hold NUL; a lone surrogate cannot be encoded as UTF-8 at all.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must not contain lone surrogate characters") from None
    return value


def bounded_json(value: Any) -> Any:
    """Refuse free-form JSON that could be stored but not read back: deeper than
    MAX_JSON_DEPTH, longer than MAX_JSON_CHARS once written, non-finite numbers, bad text."""
    stack = [(value, 1)]
    while stack:  # a loop, not recursion: the depth is what is being checked
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple) and depth > MAX_JSON_DEPTH:
            raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, dict):
            for key in item:
                storable_text(str(key))
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list | tuple):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite (no NaN or infinity)")
        elif isinstance(item, str):
            storable_text(item)
    try:
        size = len(json.dumps(value, allow_nan=False))
    except ValueError:  # an integer too long to write out
        raise ValueError("numbers must have at most 4,300 digits") from None
    if size > MAX_JSON_CHARS:
        raise ValueError(f"at most {MAX_JSON_CHARS:,} characters as JSON")
    return value


# Free structure (a version's parameters): bounded at the door, before anything is written.
JsonDocument = Annotated[dict[str, Any], AfterValidator(bounded_json)]


def enum_column(cls: type[StrEnum]) -> Any:
    # Plain strings in SQL: adding a kind later needs no ALTER TYPE on PostgreSQL.
    return sa.String(32)


def utc_column(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Input(SQLModel):
    # NaN and infinity are valid Python floats but not JSON: refused, never stored.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # type: ignore[assignment]

    @field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        # Refused here with a message naming the field, on every database.
        items = value if isinstance(value, list | tuple) else [value]
        for item in items:
            if isinstance(item, str):
                storable_text(item)
        return value


