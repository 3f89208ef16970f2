"""User accounts: admins only."""

from fastapi import APIRouter, status

from hub.deps import AdminUser, PageDep, SessionDep
from sandbox import accounts
from sandbox.models import User, UserCreate, UserPublic

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", response_model=UserPublic, status_code=status.HTTP_201_CREATED,
             summary="Create a user (admin)")
def create(user_in: UserCreate, session: SessionDep,
           _user: AdminUser) -> User:
    return accounts.create_user(session=session, user_in=user_in)


@router.get("", response_model=list[UserPublic], summary="List users (admin)")
def list_all(session: SessionDep, page: PageDep,
             _user: AdminUser) -> list[User]:
    return list(accounts.list_users(session=session, limit=page.limit, offset=page.offset))
