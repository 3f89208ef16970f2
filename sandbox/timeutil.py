"""UTC time: every timestamp in the registry is timezone-aware UTC."""

from datetime import UTC, datetime

import sqlalchemy as sa


def utcnow() -> datetime:
    return datetime.now(UTC)


class OutOfRange(ValueError):
    """A moment that has no UTC equivalent between the years 1 and 9999."""


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted.

    OutOfRange (a ValueError, so a validator turns it into a 422) where the offset pushes the
    moment past the calendar's ends, e.g. 0001-01-01T00:00:00+01:00.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise OutOfRange(f"{value.isoformat()} is outside the years 1 to 9999 in UTC") from None


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores naive UTC and hands back aware UTC, because SQLite forgets the zone."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)
