"""DataFrames as downloads: JSON records, CSV or Parquet."""

import io

import pandas as pd
from fastapi.responses import JSONResponse, Response


def records(table: pd.DataFrame) -> list[dict[str, object]]:
    """JSON-ready rows: missing values as null."""
    return table.astype(object).where(table.notna(), None).to_dict(orient="records")


def table_response(table: pd.DataFrame, fmt: str, name: str) -> Response:
    if fmt == "json":
        return JSONResponse(records(table))
    disposition = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "csv":
        return Response(table.to_csv(index=False), media_type="text/csv", headers=disposition)
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    return Response(buffer.getvalue(), media_type="application/vnd.apache.parquet",
                    headers=disposition)
