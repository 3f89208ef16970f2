"""Money is EUR held as integer cents; Decimal at the edges, never float in storage."""

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated

from pydantic import PlainSerializer

CENT = Decimal("0.01")

# JSON clients get a plain number; the value was exact cents before it became one.
EurOut = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


def to_cents(eur: Decimal) -> int:
    return int((eur / CENT).to_integral_value(ROUND_HALF_EVEN))


def to_eur(cents: int) -> Decimal:
    return (Decimal(cents) * CENT).quantize(CENT)
