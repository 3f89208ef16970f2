"""Evidence coverage of a version (reviewers and admins, with trials and flight hours; the
owning company's engineers, without them; soldiers are refused)."""


from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.deps import SessionDep, SettingsDep
from hub.flows.coverage import version_coverage
from hub.pages.common import page
from hub.pages.session import PageInsider
from sandbox import access, service

router = APIRouter(include_in_schema=False)


@router.get("/versions/{version_id}/coverage")
def coverage_page(request: Request, version_id: int, session: SessionDep,
                  settings: SettingsDep, user: PageInsider) -> Response:
    version = service.get_version(session=session, version_id=version_id, by=user)
    found = version_coverage(session=session, storage=settings.storage(), version=version,
                             task_force=access.sees_positions(user))
    return page(request, "coverage.html", user, cov=found)
