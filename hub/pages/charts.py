"""Charts drawn by Plotly in the browser: axes with titles and units, a legend for every series,
hover values, zoom, and a PNG export from each chart's toolbar (for reports). The page carries
the figure as JSON; the hub serves plotly.js itself, so charts work on a network without
internet."""

import functools
import math
from dataclasses import dataclass
from importlib.resources import files
from itertools import count
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from fastapi import APIRouter
from fastapi.responses import FileResponse
from markupsafe import Markup, escape
from plotly.subplots import make_subplots

PLOTLY_JS = files("plotly") / "package_data" / "plotly.min.js"
TEMPLATE = "plotly_white"
BLUE, RED = "#1f6feb", "#c0392b"
COLOURS = ("#1f6feb", "#c0392b", "#2d8a4e", "#8e44ad", "#d35400", "#16a085")
OURS = tuple(colour for colour in COLOURS if colour != RED)  # red marks the baselines
_ids = count(1)

router = APIRouter(include_in_schema=False)


@router.get("/static/plotly.min.js")
def plotly_js() -> FileResponse:
    # Ahead of the /static mount; revalidated by its ETag, so an upgrade reaches browsers.
    return FileResponse(str(PLOTLY_JS), media_type="text/javascript",
                        headers={"Cache-Control": "no-cache"})


def html(figure: go.Figure | dict[str, Any], *, name: str, css: str = "plot") -> Markup:
    """A figure as a page fragment; /static/plots.js (a module, so run once a page however
    many charts it has) loads plotly.js and draws it. `name` names the PNG export.

    A figure given as a plain {"data", "layout"} dict is written without plotly's
    validation, which costs ~20 ms a trace: the dashboard draws one trace per version."""
    if isinstance(figure, dict):
        layout = {**figure["layout"], "template": _template()}
        text = pio.to_json({"data": figure["data"], "layout": layout}, validate=False)
    else:
        text = figure.to_json()
    return Markup('<div class="{}" id="plot-{}" data-filename="{}" data-figure="{}"></div>'
                  '<script type="module" src="/static/plots.js"></script>').format(
        css, next(_ids), name, text)


@functools.cache
def _template() -> dict[str, Any]:
    """The theme as plotly.js takes it (a name is resolved only by plotly's Python side)."""
    return pio.templates[TEMPLATE].to_plotly_json()


def notice(text: str) -> Markup:
    return Markup("<p class=\"empty\">{}</p>").format(text)


@dataclass(frozen=True)
class Point:
    label: str
    pk: float
    pk_low: float
    pk_high: float
    cost_eur: float
    baseline: bool = False


def cost_vs_pk(points: list[Point], *, name: str = "cost-vs-pk") -> Markup:
    """Cost per intercept (log scale) against Pk with its 95% interval; one legend entry per
    version, baselines in red."""
    layout = _layout(x_title="Pk, probability of intercept (95% interval)",
                     y_title="cost per intercept (EUR, log scale)")
    layout["xaxis"]["range"] = [-0.02, 1.02]
    layout["yaxis"].update(type="log", tickprefix="€", tickformat=",.0f")
    layout["legend"] = {"title": {"text": "version (baselines ◆ red)"}}
    data = [{
        "type": "scatter", "x": [point.pk], "y": [point.cost_eur], "mode": "markers",
        "name": str(escape(point.label)),
        "marker": {"size": 11, "symbol": "diamond" if point.baseline else "circle",
                   "color": RED if point.baseline else COLOURS[number % len(COLOURS)]},
        "error_x": {"type": "data", "symmetric": False, "array": [point.pk_high - point.pk],
                    "arrayminus": [point.pk - point.pk_low]},
        "hovertemplate": (f"{escape(point.label)}<br>Pk %{{x:.2f}} [{point.pk_low:.2f}–"
                          f"{point.pk_high:.2f}]<br>€%{{y:,.0f}} per intercept<extra></extra>")}
        for number, point in enumerate(points)]
    return html({"data": data, "layout": layout}, name=name)


def line(values: list[tuple[str, float]], *, label: str, name: str = "cost-by-version") -> Markup:
    """One series over versions (e.g. cost per intercept by version)."""
    if not values:
        return notice("No scored versions yet.")
    figure = go.Figure(go.Scatter(
        x=[version for version, _ in values], y=[value for _, value in values],
        mode="lines+markers+text", name="cost per intercept", text=[
            f"€{value:,.0f}" for _, value in values], textposition="top center",
        marker={"color": BLUE}, hovertemplate="version %{x}<br>€%{y:,.0f}<extra></extra>"),
        layout=_layout(x_title="version", y_title="cost per intercept (EUR)", title=label))
    figure.update_xaxes(type="category")
    figure.update_yaxes(tickprefix="€", tickformat=",.0f", rangemode="tozero")
    figure.update_layout(showlegend=True)
    return html(figure, name=name)


def track(vehicles: dict[int, tuple[list[float], list[float]]], *,
          name: str = "track") -> Markup:
    """Flight tracks in local metres (one line per vehicle), equal scale on both axes."""
    if not any(east for east, _ in vehicles.values()):
        return notice("No position telemetry in this session.")
    figure = track_figure({f"system {vehicle}": (east, north)
                           for vehicle, (east, north) in sorted(vehicles.items())})
    return html(figure, name=name)


def track_figure(tracks: dict[str, tuple[list[float], list[float]]], *,
                 title: str = "track, metres from the trial's local origin") -> go.Figure:
    """East against north in metres, 1:1, with a scale bar of a round length."""
    figure = go.Figure(layout=_layout(x_title="east (m)", y_title="north (m)", title=title))
    for number, (label, (east, north)) in enumerate(tracks.items()):
        figure.add_trace(go.Scatter(
            x=east, y=north, mode="lines", name=str(escape(label)),
            line={"color": COLOURS[number % len(COLOURS)], "width": 2},
            hovertemplate=f"east %{{x:,.1f}} m<br>north %{{y:,.1f}} m<extra>{escape(label)}"
                          "</extra>"))
    every = [(e, n) for east, north in tracks.values() for e, n in zip(east, north, strict=True)]
    _scale_bar(figure, [e for e, _ in every], [n for _, n in every])
    figure.update_yaxes(scaleanchor="x", scaleratio=1)
    figure.update_xaxes(tickformat=",.6~r")  # metres in full, never "1.2k" or "1.6M"
    figure.update_yaxes(tickformat=",.6~r")
    return figure


def _scale_bar(figure: go.Figure, east: list[float], north: list[float]) -> None:
    west, south = min(east), min(north)
    span = max(max(east) - west, max(north) - south, 0.04)
    length = _round_length(span / 4)
    y = south - span * 0.06
    figure.add_shape(type="line", x0=west, x1=west + length, y0=y, y1=y,
                     line={"color": "#1c2128", "width": 3})
    figure.add_annotation(x=west + length / 2, y=y, text=f"{length:,g} m", showarrow=False,
                          yshift=10, name="scale")


def _round_length(metres: float) -> float:
    """1, 2 or 5 times a power of ten, at most `metres` (a bench log moves centimetres)."""
    power = 10.0 ** math.floor(math.log10(max(metres, 0.01)))
    return round(max(step * power for step in (1, 2, 5) if step * power <= max(metres, 0.01)),
                 2)


def _layout(*, x_title: str, y_title: str, title: str = "") -> dict[str, Any]:
    return {"template": TEMPLATE, "title": {"text": str(escape(title))},
            "xaxis": {"title": {"text": x_title}}, "yaxis": {"title": {"text": y_title}},
            "showlegend": True, "hovermode": "closest", "height": 420,
            "margin": {"l": 80, "r": 20, "t": 60, "b": 60}}  # the toolbar sits above the plot


def time_series(panels: list[Any], *, name: str) -> Markup:
    """Panels (a title with its unit, and series of label, t_s, values) stacked on one time
    axis: zooming one zooms all, and the range slider under the last picks the time range."""
    if not panels:
        return notice("No telemetry to plot in this session.")
    rows = len(panels)
    figure = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.03)
    for row, panel in enumerate(panels, start=1):
        legend = "legend" if row == 1 else f"legend{row}"
        for number, series in enumerate(panel.series):
            figure.add_trace(go.Scatter(
                x=series.t_s, y=series.values, mode="lines", name=str(escape(series.label)),
                legend=legend, showlegend=True,
                line={"color": COLOURS[number % len(COLOURS)], "width": 1.5},
                hovertemplate="%{y:.3~f} at %{x:.1f} s<extra>" + str(escape(series.label))
                + "</extra>"), row=row, col=1)
        figure.update_yaxes(title={"text": str(escape(panel.title)), "font": {"size": 11}},
                            row=row, col=1)
        top = figure.get_subplot(row, 1).yaxis.domain[1]
        figure.update_layout({legend: {"y": top, "yanchor": "top", "x": 1.01, "xanchor": "left",
                                       "font": {"size": 11}}})
    figure.update_xaxes(title={"text": "time from the session's start (s)"}, row=rows, col=1)
    figure.update_xaxes(rangeslider={"visible": True, "thickness": 0.05}, row=rows, col=1)
    figure.update_layout(template=TEMPLATE, height=190 * rows + 120, hovermode="x unified",
                         showlegend=True,
                         margin={"l": 80, "r": 190, "t": 20, "b": 40})
    return html(figure, name=name, css="plot series")


def timed_track(t_s: list[float], east: list[float], north: list[float], *,
                name: str, title: str) -> Markup:
    """A track whose second trace, the selected time range, the page's time axis redraws."""
    figure = track_figure({"whole flight": (east, north)}, title=title)
    figure.update_traces(customdata=t_s, line={"color": "#b8c4d0"},
                         hovertemplate="east %{x:,.1f} m<br>north %{y:,.1f} m<br>"
                                       "at %{customdata:.1f} s<extra></extra>")
    figure.add_trace(go.Scatter(x=east, y=north, mode="lines", name="selected time range",
                                line={"color": BLUE, "width": 3}, hoverinfo="skip"))
    figure.update_layout(height=520)
    return html(figure, name=name, css="plot track")
