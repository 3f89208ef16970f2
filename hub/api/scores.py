"""Scores: a version's cost per intercept and Pk, and the leaderboard."""


from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from hub.deps import AnyUser, SessionDep, VersionDep
from sandbox import service
from sandbox.models import PrototypeKind
from sandbox.money import EurOut, to_eur
from sandbox.scoring import VersionScore

router = APIRouter(tags=["scores"])


class ScorePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    engagements: int
    intercepts: int
    pk: float | None
    pk_low: float | None
    pk_high: float | None
    cost_per_intercept_eur: EurOut | None
    cost_exchange_ratio: float | None
    total_cost_eur: EurOut
    mean_threat_cost_eur: EurOut | None
    leak_rate: float | None
    fratricide_rate: float | None
    time_to_intercept_median_s: float | None
    time_to_intercept_p90_s: float | None


class VersionScorePublic(BaseModel):
    version_id: int
    overall: ScorePublic
    by_trial_kind: dict[str, ScorePublic]

    @classmethod
    def of(cls, version_id: int, result: VersionScore) -> "VersionScorePublic":
        return cls(version_id=version_id,
                   overall=ScorePublic.model_validate(result.overall),
                   by_trial_kind={kind: ScorePublic.model_validate(item)
                                  for kind, item in result.by_trial_kind.items()})


class LeaderboardEntry(VersionScorePublic):
    version: str
    prototype_id: int
    prototype_name: str
    prototype_kind: PrototypeKind
    organisation_id: int
    unit_cost_eur: EurOut
    reusable: bool


@router.get("/versions/{version_id}/score", response_model=VersionScorePublic,
            summary="Score of a version, overall and per trial kind "
                    "(any role; engineers: own company only)")
def version_score(version: VersionDep, session: SessionDep, _user: AnyUser) -> VersionScorePublic:
    return VersionScorePublic.of(version.id or 0,
                                 service.version_score(session=session, version=version))


@router.get("/scores", response_model=list[LeaderboardEntry],
            summary="Leaderboard by cost per intercept (any role; engineers see their own)")
def leaderboard(session: SessionDep, user: AnyUser, threat_kind: str | None = None,
                prototype_kind: PrototypeKind | None = None) -> list[LeaderboardEntry]:
    rows = service.leaderboard(session=session, by=user, threat_kind=threat_kind,
                               prototype_kind=prototype_kind)
    return [LeaderboardEntry(
        **VersionScorePublic.of(row.version.id or 0, row.score).model_dump(),
        version=row.version.version, prototype_id=row.prototype.id or 0,
        prototype_name=row.prototype.name, prototype_kind=row.prototype.kind,
        organisation_id=row.prototype.organisation_id,
        unit_cost_eur=to_eur(row.version.unit_cost_cents), reusable=row.version.reusable)
        for row in rows]


