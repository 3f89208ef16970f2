"""A version's sensor and jammer figures as a page: Pd against range with its 95 % intervals,
the position-error distribution, and the figures by scenario and trial kind. Same access and
view as GET /api/v1/versions/{id}/sensor-score: anyone who may see the version; engineers,
their own company's, with soldiers' trials once released and figures coarsened."""

from typing import Annotated

import plotly.graph_objects as go
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from hub.deps import ANYONE, SessionDep, SettingsDep
from hub.flows.score_view import score_view
from hub.flows.sensor_scores import sensor_scores
from hub.pages import charts
from hub.pages.common import page
from hub.pages.session import require_page
from sandbox import service
from sandbox.models import Prototype, User
from sandbox.sensor_scores import DetectionFigures, SensorScores

router = APIRouter(include_in_schema=False)
AnyPageUser = Annotated[User, Depends(require_page(*ANYONE))]


def _layout(x_title: str, y_title: str) -> dict[str, object]:
    return {"template": charts.TEMPLATE, "xaxis": {"title": {"text": x_title}},
            "yaxis": {"title": {"text": y_title}}, "showlegend": True, "hovermode": "closest",
            "height": 420, "margin": {"l": 80, "r": 20, "t": 20, "b": 60}}


def _detections(scores: SensorScores) -> list[tuple[str, DetectionFigures]]:
    return [(f"{scenario}, {kind} trials", figures.detection)
            for scenario, kinds in scores.by_scenario.items()
            for kind, figures in kinds.items() if figures.detection is not None]


def pd_by_range(scores: SensorScores) -> Markup:
    """Pd in each 500 m bin with its Wilson interval; bins without truth epochs left out."""
    found = _detections(scores)
    if not found:
        return charts.notice("No sensor has been scored for this version yet.")
    figure = go.Figure(layout=_layout("range from the sensor (m), 500 m bins",
                                      "Pd, probability of detection (95% interval)"))
    for number, (label, d) in enumerate(found):
        bins = [b for b in d.pd_by_range if b.epochs and b.pd is not None]
        figure.add_trace(go.Scatter(
            x=[(b.range_m_from + b.range_m_to) / 2 for b in bins], y=[b.pd for b in bins],
            mode="lines+markers", name=str(escape(label)),
            marker={"color": charts.COLOURS[number % len(charts.COLOURS)], "size": 9},
            customdata=[[b.range_m_from, b.range_m_to, b.detected, b.epochs, b.pd_low,
                         b.pd_high] for b in bins],
            error_y={"type": "data", "symmetric": False,
                     "array": [(b.pd_high or 0) - (b.pd or 0) for b in bins],
                     "arrayminus": [(b.pd or 0) - (b.pd_low or 0) for b in bins]},
            hovertemplate="%{customdata[0]:,.0f}–%{customdata[1]:,.0f} m<br>Pd %{y:.2f} "
                          "[%{customdata[4]:.2f}–%{customdata[5]:.2f}]<br>%{customdata[2]:,} "
                          "of %{customdata[3]:,} target seconds<extra></extra>"))
    figure.update_yaxes(range=[-0.02, 1.05])
    figure.update_xaxes(rangemode="tozero", tickformat=",.0f")
    return charts.html(figure, name="pd-by-range")


def position_errors(scores: SensorScores) -> Markup:
    """Associated detections by position error, in 5 m bins, one bar series per condition."""
    found = [(label, d) for label, d in _detections(scores) if d.position_error_bins]
    if not found:
        return charts.notice("No detection with a position has been associated yet.")
    figure = go.Figure(layout=_layout("position error (m), 5 m bins", "detections"))
    for number, (label, d) in enumerate(found):
        figure.add_trace(go.Bar(
            x=[(b.error_m_from + b.error_m_to) / 2 for b in d.position_error_bins],
            y=[b.detections for b in d.position_error_bins],
            name=str(escape(label)),
            marker={"color": charts.COLOURS[number % len(charts.COLOURS)]},
            customdata=[[b.error_m_from, b.error_m_to] for b in d.position_error_bins],
            hovertemplate="%{customdata[0]:.0f}–%{customdata[1]:.0f} m: %{y:,} "
                          "detections<extra></extra>"))
    figure.update_layout(barmode="group")
    figure.update_xaxes(rangemode="tozero")
    return charts.html(figure, name="position-errors")


@router.get("/versions/{version_id}/sensors")
def sensors_page(request: Request, version_id: int, session: SessionDep,
                 settings: SettingsDep, user: AnyPageUser) -> Response:
    version = service.get_version(session=session, version_id=version_id, by=user)
    prototype = session.get(Prototype, version.prototype_id)
    view = score_view(user)
    scores = sensor_scores(session=session, version_id=version_id, storage=settings.storage(),
                           geoid_grid=settings.geoid_grid, view=view)
    return page(request, "sensors.html", user, prototype=prototype, version=version,
                scores=scores, engineer_view=view.released_only,
                pd_chart=pd_by_range(scores), error_chart=position_errors(scores))
