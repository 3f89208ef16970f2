"""The audit log: reviewers and admins read it; nobody changes it through the API."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hub.deps import PageDep, ReviewerUser, SessionDep
from sandbox import audit
from sandbox.models import AuditEntry, AuditEntryPublic

router = APIRouter(prefix="/audit", tags=["audit"])


class ChainStatus(BaseModel):
    ok: bool
    entries: int
    first_bad_seq: int | None
    reason: str
    checkpoints: int
    checkpointed_seq: int | None = Field(description="the newest entry a signed checkpoint "
                                                     "covers")


@router.get("", response_model=list[AuditEntryPublic],
            summary="Audit entries, oldest first (reviewer, admin)")
def list_entries(session: SessionDep, page: PageDep, _user: ReviewerUser) -> list[AuditEntry]:
    return audit.list_entries(session, limit=page.limit, offset=page.offset)


@router.get("/verify", response_model=ChainStatus,
            summary="Check the keyed chain against the signed checkpoints; names the first bad "
                    "entry and what was done (reviewer, admin)")
def verify(session: SessionDep, _user: ReviewerUser) -> ChainStatus:
    check = audit.verify(session)
    return ChainStatus(ok=check.ok, entries=check.entries, first_bad_seq=check.first_bad_seq,
                       reason=check.reason, checkpoints=check.checkpoints,
                       checkpointed_seq=check.checkpointed_seq)
