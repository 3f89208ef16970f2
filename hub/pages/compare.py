"""Compare two versions of a prototype (reviewers, admins, and the owning company's
engineers; soldiers are refused, as on the prototype page)."""


from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.deps import SessionDep
from hub.flows.compare import chosen_id, compare_versions
from hub.pages.common import page
from hub.pages.session import PageInsider
from sandbox import service

router = APIRouter(include_in_schema=False)


@router.get("/prototypes/{prototype_id}/compare")
def compare_page(request: Request, prototype_id: int, session: SessionDep, user: PageInsider,
                 a: str = "", b: str = "") -> Response:
    prototype = service.get_prototype(session=session, prototype_id=prototype_id, by=user)
    found = compare_versions(session=session, prototype=prototype, a_id=chosen_id(a, "a"),
                             b_id=chosen_id(b, "b"))
    return page(request, "compare.html", user, cmp=found)
