"""Versions: immutable once they have trial data."""

from fastapi import APIRouter

from hub.deps import AnyUser, OwnerUser, SessionDep, VersionDep
from sandbox import service
from sandbox.models import VersionPublic, VersionUpdate

router = APIRouter(prefix="/versions", tags=["versions"])


@router.get("/{version_id}", response_model=VersionPublic,
            summary="One version (any role; engineers: own company only)")
def read(version: VersionDep, session: SessionDep, _user: AnyUser) -> VersionPublic:
    locked = service.version_locked(session=session, version_id=version.id or 0)
    return VersionPublic.of(version, locked=locked)


@router.patch("/{version_id}", response_model=VersionPublic,
              summary="Edit a version without trial data (owning engineer, admin); "
                      "409 once trialled")
def update(version: VersionDep, update: VersionUpdate, session: SessionDep,
           user: OwnerUser) -> VersionPublic:
    version = service.update_version(session=session, version=version, update=update, by=user)
    return VersionPublic.of(version, locked=False)
