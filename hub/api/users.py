"""User accounts: admins only."""

from fastapi import APIRouter, Request, status

from hub.deps import AdminUser, PageDep, SessionDep
from hub.ws.registry import user_subject
from sandbox import accounts
from sandbox.models import Id, User, UserCreate, UserPublic, UserUpdate

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


@router.patch("/{user_id}", response_model=UserPublic,
              summary="Enable or disable a user; disabling closes their websockets (admin)")
def update(user_id: Id, update: UserUpdate, request: Request, session: SessionDep,
           admin: AdminUser) -> User:
    user = accounts.update_user(session=session, user_id=user_id, update=update, by=admin)
    if not user.is_active:
        request.app.state.sockets.close(user_subject(user_id), "account disabled")
    return user
