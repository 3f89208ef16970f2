"""Engagements in bulk (a JSON list, JSON lines, CSV or Parquet), checked a column at a time.

The rules are those of `EngagementCreate`, applied to whole columns so that 100,000 rows take
milliseconds: every bad value is reported with its row (0-based, as in a JSON list), and one
bad row refuses the upload. Pure: bytes or tables in, a frame with money in cents out.
"""

import io
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sandbox.errors import Invalid
from sandbox.models import MAX_EUR, Outcome

MAX_ROWS = 100_000
MAX_ERRORS = 50  # reported; the count says how many more
MAX_INTERCEPTORS = 10_000
MAX_TIME_TO_INTERCEPT_S = 86_400.0
THREAT_KIND = r"[a-z0-9_]{1,40}"
FIELDS = ("threat_kind", "threat_cost_eur", "interceptors_used", "outcome",
          "time_to_intercept_s", "operating_cost_eur")
REQUIRED = ("threat_kind", "threat_cost_eur", "interceptors_used", "outcome")
OUTCOMES = [str(outcome) for outcome in Outcome]
COLUMNS = ("threat_kind", "threat_cost_cents", "interceptors_used", "outcome",
           "time_to_intercept_s", "operating_cost_cents")  # what the registry stores


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str


class RowsInvalid(Invalid):
    """Some rows are bad: nothing is written; `errors` names the first of them."""

    def __init__(self, errors: list[RowError], count: int) -> None:
        more = f" (and {count - len(errors)} more)" if count > len(errors) else ""
        super().__init__(f"{count} bad values, nothing was written{more}")
        self.errors = errors
        self.count = count


def engagement_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The validated engagements (columns `COLUMNS`, money in cents); raises RowsInvalid."""
    if len(table) == 0:
        raise Invalid("body: send at least one engagement")
    if len(table) > MAX_ROWS:
        raise Invalid(f"body: at most {MAX_ROWS:,} engagements per request; split the upload")
    checks = _Checks(table)
    for name in table.columns:
        if name not in FIELDS:
            checks.fail(checks.column(name, required=False)[1], str(name), "unknown field")
    rows = pd.DataFrame({
        "threat_kind": checks.threat_kind(),
        "threat_cost_cents": checks.cents("threat_cost_eur"),
        "interceptors_used": checks.interceptors(),
        "outcome": checks.outcome(),
        "time_to_intercept_s": checks.seconds(),
        "operating_cost_cents": checks.cents("operating_cost_eur")})
    checks.raise_if_any()
    return rows


NUMERIC = (int, float, str, Decimal, np.integer, np.floating)


def _missing(series: pd.Series) -> np.ndarray:
    missing = series.isna().to_numpy(bool)
    if series.dtype.kind in "OUT" or pd.api.types.is_string_dtype(series.dtype):
        return missing | (series.to_numpy(object) == "")
    return missing


def _text(series: pd.Series) -> np.ndarray:
    """Strings as they are; anything else (numbers, lists, nulls) as the empty string."""
    if series.dtype != object and pd.api.types.is_string_dtype(series.dtype):
        return series.fillna("").to_numpy(object)
    return np.array([v if isinstance(v, str) else "" for v in series], dtype=object)


def _numbers(series: pd.Series) -> np.ndarray:
    """Floats where a value is a number or numeric text; NaN elsewhere (booleans included)."""
    if series.dtype.kind == "b":
        return np.full(len(series), np.nan)
    if series.dtype.kind in "iuf":
        return series.to_numpy(float, na_value=np.nan)
    if series.dtype == object:  # mixed JSON values: only numbers and text may be read
        numeric = np.fromiter((isinstance(v, NUMERIC) and not isinstance(v, bool | np.bool_)
                               and not (isinstance(v, int) and abs(v) >= 2**63)  # no float
                               for v in series), bool, len(series))
        series = pd.Series(np.where(numeric, series.to_numpy(object), None), dtype=object)
    return pd.to_numeric(series, errors="coerce").to_numpy(float)


class _Checks:
    """Column checks that collect every bad row before refusing."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table
        self.n = len(table)
        self.errors: list[tuple[np.ndarray, str, str]] = []

    def fail(self, bad: np.ndarray, field: str, message: str) -> None:
        if bad.any():
            self.errors.append((np.flatnonzero(bad), field, message))

    def raise_if_any(self) -> None:
        found = sorted((int(row), field, message) for rows, field, message in self.errors
                       for row in rows[:MAX_ERRORS])
        if found:
            count = sum(len(rows) for rows, _, _ in self.errors)
            raise RowsInvalid([RowError(*item) for item in found[:MAX_ERRORS]], count)

    def column(self, name: str, *, required: bool) -> tuple[pd.Series, np.ndarray]:
        """The column (all null when absent) and where it has a value."""
        if name in self.table.columns:
            series = self.table[name].reset_index(drop=True)
        else:
            series = pd.Series(np.full(self.n, np.nan))
        missing = _missing(series)
        if required:
            self.fail(missing, name, "field required")
        return series, ~missing

    def numbers(self, name: str, *, required: bool) -> tuple[np.ndarray, np.ndarray]:
        series, present = self.column(name, required=required)
        numbers = _numbers(series)
        bad = present & ~np.isfinite(numbers)
        self.fail(bad, name, "must be a number")
        return np.where(present & ~bad, numbers, np.nan), present & ~bad

    def threat_kind(self) -> np.ndarray:
        series, present = self.column("threat_kind", required=True)
        text = _text(series)
        self.fail(present & ~pd.Series(text).str.fullmatch(THREAT_KIND).to_numpy(bool),
                  "threat_kind", "lower-case letters, digits and _ (at most 40), e.g. shahed_136")
        return text

    def outcome(self) -> np.ndarray:
        series, present = self.column("outcome", required=True)
        text = _text(series)
        self.fail(present & ~np.isin(text, OUTCOMES), "outcome", "one of " + ", ".join(OUTCOMES))
        return text

    def interceptors(self) -> np.ndarray:
        numbers, ok = self.numbers("interceptors_used", required=True)
        whole = ok & (np.floor(numbers) == numbers) & (numbers >= 0) \
            & (numbers <= MAX_INTERCEPTORS)
        self.fail(ok & ~whole, "interceptors_used",
                  f"a whole number from 0 to {MAX_INTERCEPTORS}")
        return np.where(whole, numbers, 0).astype(np.int64)

    def seconds(self) -> np.ndarray:
        numbers, ok = self.numbers("time_to_intercept_s", required=False)
        self.fail(ok & ((numbers < 0) | (numbers > MAX_TIME_TO_INTERCEPT_S)),
                  "time_to_intercept_s", f"seconds from 0 to {MAX_TIME_TO_INTERCEPT_S:,.0f}")
        return numbers

    def cents(self, name: str) -> pd.Series:
        """Euros with at most two decimals, as integer cents (null where optional and absent)."""
        required = name == "threat_cost_eur"
        numbers, ok = self.numbers(name, required=required)
        scaled = numbers * 100
        cents = np.round(scaled)
        valid = ok & (np.abs(scaled - cents) <= np.maximum(1e-6, np.abs(scaled) * 1e-12)) \
            & (numbers >= 0) & (numbers <= float(MAX_EUR))
        self.fail(ok & ~valid, name, f"euros from 0 to {MAX_EUR:,} with at most two decimals")
        result = pd.Series(np.where(valid, cents, 0).astype(np.int64))
        return result if required else result.astype("Int64").where(valid)


# --- formats -------------------------------------------------------------------------------

def from_json_list(body: bytes) -> pd.DataFrame:
    """A JSON list of engagement objects."""
    try:
        items = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:  # nested past the parser
        raise Invalid(f"body: not JSON: {error}") from None
    if not isinstance(items, list):
        raise Invalid("body: a JSON list of engagements")
    return _records(items)


def from_json_lines(body: bytes) -> pd.DataFrame:
    """One engagement object a line; blank lines are skipped."""
    lines = [line for line in body.splitlines() if line.strip()]
    try:
        return _records(json.loads(b"[" + b",".join(lines) + b"]"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        pass  # find the lines at fault, below
    errors = []
    for row, line in enumerate(lines):
        try:
            json.loads(line)
        except (ValueError, UnicodeDecodeError, RecursionError):
            errors.append(RowError(row, "body", "not a JSON object"))
    raise RowsInvalid(errors[:MAX_ERRORS], len(errors))


def _records(items: list[Any]) -> pd.DataFrame:
    if len(items) > MAX_ROWS:
        raise Invalid(f"body: at most {MAX_ROWS:,} engagements per request; split the upload")
    errors = [RowError(row, "body", "an engagement must be a JSON object")
              for row, item in enumerate(items) if not isinstance(item, dict)]
    if errors:
        raise RowsInvalid(errors[:MAX_ERRORS], len(errors))
    try:
        return pd.DataFrame.from_records(items) if items else pd.DataFrame()
    except UnicodeEncodeError:  # text columns are UTF-8 underneath
        raise Invalid("body: text must not contain lone surrogate characters") from None


def from_csv(body: bytes) -> pd.DataFrame:
    """CSV with a header line naming the fields; empty cells are null."""
    try:
        return pd.read_csv(io.BytesIO(body), dtype={"threat_kind": str, "outcome": str},
                           keep_default_na=False, na_values=[""], encoding="utf-8")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise Invalid(f"body: not CSV with a header line: {error}") from None


def from_parquet(body: bytes) -> pd.DataFrame:
    """A Parquet file whose columns are the fields."""
    try:
        source = pq.ParquetFile(pa.BufferReader(body))
    except (pa.ArrowException, OSError, ValueError) as error:
        raise Invalid(f"body: not a Parquet file: {error}") from None
    if source.metadata.num_rows > MAX_ROWS:  # before decompressing anything
        raise Invalid(f"body: at most {MAX_ROWS:,} engagements per request; split the upload")
    try:
        return source.read().to_pandas()
    except (pa.ArrowException, OSError, ValueError) as error:
        raise Invalid(f"body: the Parquet file could not be read: {error}") from None


READERS = {"application/json": from_json_list, "application/x-ndjson": from_json_lines,
           "application/jsonl": from_json_lines, "text/csv": from_csv,
           "application/vnd.apache.parquet": from_parquet, "application/x-parquet": from_parquet}
