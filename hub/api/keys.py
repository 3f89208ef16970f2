"""API keys for devices and simulator bridges (soldier: own unit's trials; reviewer, admin)."""

from fastapi import APIRouter, status

from hub.deps import KeyIssuer, SessionDep
from sandbox import keys
from sandbox.models import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, Id

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.post("", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED,
             summary="Issue a scoped key, shown once (soldier: own unit; reviewer, admin)")
def create(key_in: ApiKeyCreate, session: SessionDep, user: KeyIssuer) -> ApiKeyCreated:
    row, key = keys.create_key(session=session, key_in=key_in, by=user)
    return ApiKeyCreated.model_validate(row, update={"key": key})


@router.get("", response_model=list[ApiKeyPublic],
            summary="Keys you issued (admin: all) — never the key itself")
def list_all(session: SessionDep, user: KeyIssuer) -> list[ApiKey]:
    return list(keys.list_keys(session=session, by=user))


@router.delete("/{key_id}", response_model=ApiKeyPublic,
               summary="Revoke a key (its issuer, admin)")
def revoke(key_id: Id, session: SessionDep, user: KeyIssuer) -> ApiKey:
    return keys.revoke_key(session=session, key_id=key_id, by=user)
