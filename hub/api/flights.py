"""Every flight of a version, for the Task Force's reviewers: read across all its telemetry
sessions at once, straight from the object store."""

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from hub.deps import ReviewerUser, SessionDep, SettingsDep, VersionDep
from hub.flows.flights import version_flights

router = APIRouter(tags=["telemetry"])


@router.get("/versions/{version_id}/flight-summary",
            summary="Flight hours, messages and heights of every telemetry session of the "
                    "version's trials (reviewer, admin)")
def flight_summary(version: VersionDep, session: SessionDep, settings: SettingsDep,
                   _user: ReviewerUser) -> dict[str, Any]:
    return asdict(version_flights(session=session, storage=settings.storage(), version=version))
