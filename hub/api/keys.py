"""API keys for devices and simulator bridges: soldiers manage their own unit's; reviewers (who
oversee trials) and admins manage all."""

from fastapi import APIRouter, Request, status

from hub.deps import KeyIssuer, SessionDep
from hub.ws.registry import key_subject
from sandbox import keys
from sandbox.models import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, Id

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.post("", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED,
             summary="Issue a scoped key, shown once (soldier: own unit; reviewer, admin)")
def create(key_in: ApiKeyCreate, session: SessionDep, user: KeyIssuer) -> ApiKeyCreated:
    row, key = keys.create_key(session=session, key_in=key_in, by=user)
    return ApiKeyCreated.model_validate(row, update={"key": key})


@router.get("", response_model=list[ApiKeyPublic],
            summary="Keys of your unit and its trials (reviewer, admin: all) — never the key")
def list_all(session: SessionDep, user: KeyIssuer) -> list[ApiKey]:
    return list(keys.list_keys(session=session, by=user))


@router.delete("/{key_id}", response_model=ApiKeyPublic,
               summary="Revoke a key and close its websockets (soldier: own unit's; "
                       "reviewer, admin: any)")
def revoke(key_id: Id, request: Request, session: SessionDep, user: KeyIssuer) -> ApiKey:
    row = keys.revoke_key(session=session, key_id=key_id, by=user)
    request.app.state.sockets.close(key_subject(key_id), "API key revoked")
    return row
