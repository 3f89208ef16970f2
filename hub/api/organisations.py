"""Organisations: admins create; reviewers and admins list all, others see their own."""

from fastapi import APIRouter, status

from hub.deps import AdminUser, AnyUser, PageDep, SessionDep
from sandbox import access, accounts
from sandbox.models import Organisation, OrganisationCreate, OrganisationPublic

router = APIRouter(prefix="/organisations", tags=["organisations"])


@router.post("", response_model=OrganisationPublic, status_code=status.HTTP_201_CREATED,
             summary="Create an organisation (admin)")
def create(organisation_in: OrganisationCreate, session: SessionDep,
           _user: AdminUser) -> Organisation:
    return accounts.create_organisation(session=session, organisation_in=organisation_in)


@router.get("", response_model=list[OrganisationPublic],
            summary="List organisations (any role; soldiers and engineers see their own)")
def list_all(session: SessionDep, page: PageDep,
             user: AnyUser) -> list[Organisation]:
    only = None if user.role in access.EVERYTHING else (user.organisation_id or -1)
    return list(accounts.list_organisations(session=session, only_id=only,
                                            limit=page.limit, offset=page.offset))
