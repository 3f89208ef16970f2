"""Scores: a version's cost per intercept and Pk by condition, and the leaderboard."""

from typing import Self

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from hub.deps import AnyUser, SessionDep, SettingsDep, VersionDep
from hub.flows.score_view import score_view
from hub.flows.sensor_scores import sensor_scores
from sandbox import service
from sandbox.models import Prototype, PrototypeKind, TrialKind
from sandbox.money import EurOut, to_eur
from sandbox.scoring import Score, VersionScore
from sandbox.sensor_scores import SensorScores
from sandbox.service import BoardFilter, LeaderboardRow

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


def _public(scores: dict[str, Score]) -> dict[str, ScorePublic]:
    return {name: ScorePublic.model_validate(item) for name, item in scores.items()}


class VersionScorePublic(BaseModel):
    version_id: int
    overall: ScorePublic
    by_trial_kind: dict[str, ScorePublic]
    by_scenario: dict[str, dict[str, dict[str, ScorePublic]]]
    # sensors and jammers are judged on detection and effect, by scenario and trial kind
    sensors: SensorScores | None = None

    @classmethod
    def of(cls, version_id: int, result: VersionScore) -> Self:
        return cls(version_id=version_id, overall=ScorePublic.model_validate(result.overall),
                   by_trial_kind=_public(result.by_trial_kind),
                   by_scenario={scenario: {threat: _public(kinds)
                                           for threat, kinds in threats.items()}
                                for scenario, threats in result.by_scenario.items()})


class Reference(BaseModel):
    """A baseline scored on the same scenario and threat kind."""

    version_id: int
    name: str
    trial_kind: TrialKind
    pk: float | None
    cost_per_intercept_eur: EurOut | None
    cost_exchange_ratio: float | None


class LeaderboardEntry(BaseModel):
    scenario: str
    threat_kind: str
    trial_kind: TrialKind
    rank: int
    version_id: int
    version: str
    prototype_id: int
    prototype_name: str
    prototype_kind: PrototypeKind
    organisation_id: int
    unit_cost_eur: EurOut
    reusable: bool
    score: ScorePublic
    baselines: list[Reference]

    @classmethod
    def of(cls, row: LeaderboardRow) -> Self:
        return cls(scenario=row.condition.scenario, threat_kind=row.condition.threat_kind,
                   trial_kind=TrialKind(row.condition.trial_kind), rank=row.rank,
                   version_id=row.version.id or 0, version=row.version.version,
                   prototype_id=row.prototype.id or 0, prototype_name=row.prototype.name,
                   prototype_kind=row.prototype.kind,
                   organisation_id=row.prototype.organisation_id,
                   unit_cost_eur=to_eur(row.version.unit_cost_cents),
                   reusable=row.version.reusable, score=ScorePublic.model_validate(row.score),
                   baselines=[Reference(
                       version_id=ref.version.id or 0, name=ref.prototype.name,
                       trial_kind=TrialKind(ref.condition.trial_kind), pk=ref.score.pk,
                       cost_per_intercept_eur=ref.score.cost_per_intercept_eur,
                       cost_exchange_ratio=ref.score.cost_exchange_ratio)
                       for ref in row.references])


@router.get("/versions/{version_id}/score", response_model=VersionScorePublic,
            summary="Score of a version by scenario, threat kind and trial kind, with roll-ups "
                    "across scenarios (any role; engineers: own company only)",
            description="`by_scenario[scenario][threat_kind][trial_kind]` holds one score per "
                        "condition: compare versions only there. `overall` and "
                        "`by_trial_kind` add up every scenario, to count evidence. Engineers "
                        "read soldiers' evidence as of the last feedback batch released for "
                        "the prototype, and scenario names of the simulator's library only "
                        "(any other is `other`); their company's simulations are live. "
                        "A `cuas_sensor` or `ew_system` version also carries `sensors`, "
                        "as `/versions/{id}/sensor-score` gives it.")
def version_score(version: VersionDep, session: SessionDep, settings: SettingsDep,
                  user: AnyUser) -> VersionScorePublic:
    view = score_view(user)
    scored = VersionScorePublic.of(version.id or 0, service.version_score(
        session=session, version=version, view=view))
    prototype = session.get(Prototype, version.prototype_id)
    if prototype is not None and prototype.kind in SENSING:
        scored.sensors = sensor_scores(session=session, version_id=version.id or 0,
                                       storage=settings.storage(),
                                       geoid_grid=settings.geoid_grid, view=view)
    return scored


SENSING = (PrototypeKind.cuas_sensor, PrototypeKind.ew_system)


@router.get("/scores", response_model=list[LeaderboardEntry],
            summary="Leaderboard by cost per intercept within each condition (any role; "
                    "engineers see their own versions and the reference baselines)",
            description="One entry per version and condition (scenario, threat kind, trial "
                        "kind), grouped by condition and ranked within it; the filters narrow "
                        "the conditions. Each entry lists the baselines scored on its scenario "
                        "and threat kind. Engineers: as for a version's score (soldiers' "
                        "evidence as released, scenario names of the library or `other`).")
def leaderboard(session: SessionDep, user: AnyUser, scenario: str | None = None,
                threat_kind: str | None = None, trial_kind: TrialKind | None = None,
                prototype_kind: PrototypeKind | None = None) -> list[LeaderboardEntry]:
    rows = service.leaderboard(session=session, by=user, where=BoardFilter(
        scenario=scenario, threat_kind=threat_kind, trial_kind=trial_kind,
        prototype_kind=prototype_kind), view=score_view(user))
    return [LeaderboardEntry.of(row) for row in rows]
