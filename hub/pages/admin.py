"""Pages for admins and reviewers: the MAVLink listeners, their losses and unclaimed sysids."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.api.listeners import listener_status
from hub.deps import SessionDep
from hub.listeners.mavlink import fed_sessions
from hub.pages.common import page
from hub.pages.session import PageReviewer

router = APIRouter(include_in_schema=False)


@router.get("/admin/listeners")
def listeners_page(request: Request, session: SessionDep, user: PageReviewer) -> Response:
    status = listener_status(getattr(request.app.state, "mavlink_router", None))
    return page(request, "admin_listeners.html", user, status=status,
                sessions=fed_sessions(session))
