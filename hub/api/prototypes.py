"""Prototypes and their versions. Engineers see and change only their own company's."""

from fastapi import APIRouter, status

from hub.deps import AnyUser, EngineerUser, OwnerUser, PageDep, PrototypeDep, SessionDep
from sandbox import service
from sandbox.models import (
    Id,
    Prototype,
    PrototypeCreate,
    PrototypeKind,
    PrototypePublic,
    PrototypeUpdate,
    VersionCreate,
    VersionPublic,
)

router = APIRouter(prefix="/prototypes", tags=["prototypes"])


@router.post("", response_model=PrototypePublic, status_code=status.HTTP_201_CREATED,
             summary="Register a prototype of your company (engineer)")
def create(prototype_in: PrototypeCreate, session: SessionDep, user: EngineerUser) -> Prototype:
    return service.create_prototype(session=session, prototype_in=prototype_in, by=user)


@router.get("", response_model=list[PrototypePublic],
            summary="List prototypes (any role; engineers see their company's only)")
def list_all(session: SessionDep, page: PageDep, user: AnyUser, kind: PrototypeKind | None = None,
             organisation_id: Id | None = None) -> list[Prototype]:
    return list(service.list_prototypes(session=session, by=user, page=page, kind=kind,
                                        organisation_id=organisation_id))


@router.get("/{prototype_id}", response_model=PrototypePublic,
            summary="One prototype (any role; engineers: own company only)")
def read(prototype: PrototypeDep, _user: AnyUser) -> Prototype:
    return prototype


@router.patch("/{prototype_id}", response_model=PrototypePublic,
              summary="Edit a prototype (owning engineer, admin)")
def update(prototype: PrototypeDep, update: PrototypeUpdate, session: SessionDep,
           user: OwnerUser) -> Prototype:
    return service.update_prototype(session=session, prototype=prototype, update=update, by=user)


@router.post("/{prototype_id}/versions", response_model=VersionPublic,
             status_code=status.HTTP_201_CREATED,
             summary="Publish a version (owning engineer, admin)")
def create_version(prototype: PrototypeDep, version_in: VersionCreate, session: SessionDep,
                   user: OwnerUser) -> VersionPublic:
    version = service.create_version(session=session, prototype=prototype,
                                     version_in=version_in, by=user)
    return VersionPublic.of(version, locked=False)


@router.get("/{prototype_id}/versions", response_model=list[VersionPublic],
            summary="The versions of a prototype (any role; engineers: own company only)")
def list_versions(prototype: PrototypeDep, session: SessionDep,
                  _user: AnyUser) -> list[VersionPublic]:
    return [VersionPublic.of(version, locked=service.version_locked(
                session=session, version_id=version.id or 0))
            for version in service.list_versions(session=session, prototype=prototype)]
