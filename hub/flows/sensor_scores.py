"""A version's sensor and jammer figures by scenario (sandbox.sensor_scores): each sensor
session and each jammer trial of the version scored from its stored detections and the
targets' telemetry, as the trial routes score them (which also refreshes the summaries
readiness keeps).

Only trials with a sensor session or a jammer activation are read: an interceptor's version
costs one query. A sensor trial costs reading its telemetry and detections again and scoring
them: measured 0.15-0.37 s wall, 0.1-0.15 s CPU, for a 30-minute flight at 10 Hz (18,000
positions) seen by one sensor with 18,000 detections, so a version's cost grows with its
sensor trials, not with the rest of its history.

Engineers see, as in their scores and feedback: soldiers' trials only once released (see
sandbox.feedback.released_trials), scenario names from the simulator's library, and figures
coarsened as their feedback is.
"""

from pathlib import Path

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from hub.flows.jammers import trial_ew_effect
from hub.flows.sensors import detection_score
from sandbox.errors import Conflict
from sandbox.feedback import released_trials
from sandbox.models import EwActivation, SensorSession, Trial, Version
from sandbox.score_view import EXACT, ScoreView
from sandbox.sensor_scores import SensorScores, TrialFigures, coarsened
from sandbox.sensor_scores import sensor_scores as pooled
from telemetry.objects import Storage


def trial_figures(session: Session, storage: Storage, trial: Trial, *,
                  geoid_grid: Path | None = None, view: ScoreView = EXACT) -> TrialFigures:
    """A trial's sensor sessions scored (those that cannot be scored yet only counted) and
    its jammer's effect, if it had one."""
    sensors = session.exec(select(SensorSession).where(SensorSession.trial_id == trial.id)
                           .order_by(col(SensorSession.id))).all()
    scores, unscored = [], 0
    for sensor in sensors:
        try:
            scores.append(detection_score(session=session, storage=storage, trial=trial,
                                          sensor=sensor, geoid_grid=geoid_grid).score)
        except Conflict:  # no position yet, or heights on datums that cannot be compared
            unscored += 1
    jammed = session.exec(select(EwActivation.id).where(EwActivation.trial_id == trial.id)
                          ).first() is not None
    return TrialFigures(
        trial_kind=str(trial.kind), scenario=view.shown(trial.scenario), detections=scores,
        effect=trial_ew_effect(session=session, storage=storage, trial=trial) if jammed
        else None, unscored_sensors=unscored)


def sensor_trials(session: Session, *where: ColumnElement[bool]) -> list[Trial]:
    """Trials (of those `where` selects) with a sensor session or a jammer activation."""
    return list(session.exec(select(Trial).where(
        *where, col(Trial.id).in_(select(SensorSession.trial_id))
        | col(Trial.id).in_(select(EwActivation.trial_id))).order_by(col(Trial.id))).all())


def sensor_scores(*, session: Session, version_id: int, storage: Storage,
                  geoid_grid: Path | None = None, view: ScoreView = EXACT) -> SensorScores:
    """The version's detection and jammer figures by scenario and trial kind, as `view`
    sees them."""
    trials = sensor_trials(session, col(Trial.version_id) == version_id)
    if view.released_only:
        version = session.get(Version, version_id)
        released = released_trials(session, version.prototype_id) if version else set()
        trials = [t for t in trials if t.unit_id is None or t.id in released]
    scores = pooled(version_id, [trial_figures(session, storage, trial, geoid_grid=geoid_grid,
                                               view=view) for trial in trials])
    return coarsened(scores) if view.released_only else scores
