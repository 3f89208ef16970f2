"""A version's sensor and jammer figures by scenario and trial kind."""

from fastapi import APIRouter

from hub.deps import AnyUser, SessionDep, SettingsDep, VersionDep
from hub.flows.score_view import score_view
from hub.flows.sensor_scores import sensor_scores
from sandbox.sensor_scores import SensorScores

router = APIRouter(tags=["scores"])


@router.get("/versions/{version_id}/sensor-score", response_model=SensorScores,
            summary="Detection and jammer figures of a version by scenario and trial kind "
                    "(any role; engineers: own company only)",
            description="`by_scenario[scenario][trial_kind]` pools the trials' sensor sessions "
                        "(Pd with its 95 % Wilson interval, by 500 m range bin too; position "
                        "error median, 90th percentile and counts in 5 m bins; false alarms "
                        "per hour) and jammer activations (link loss and GPS degradation on "
                        "and off, median time to effect, largest effective range). Engineers "
                        "read soldiers' trials once a feedback batch has released them, "
                        "scenario names of the simulator's library only, ranges to 10 m and "
                        "times to the second.")
def version_sensor_score(version: VersionDep, session: SessionDep, settings: SettingsDep,
                         user: AnyUser) -> SensorScores:
    return sensor_scores(session=session, version_id=version.id or 0,
                         storage=settings.storage(), geoid_grid=settings.geoid_grid,
                         view=score_view(user))
