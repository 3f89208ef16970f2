"""Server-drawn SVG charts: no script and no CDN, so pages work fully offline."""

import math
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT, PAD = 640, 360, 76


@dataclass(frozen=True)
class Point:
    label: str
    pk: float
    pk_low: float
    pk_high: float
    cost_eur: float
    baseline: bool = False


def _y(cost: float, low: float, high: float) -> float:
    span = math.log10(high) - math.log10(low)
    share = (math.log10(max(cost, low)) - math.log10(low)) / span
    return HEIGHT - PAD - share * (HEIGHT - 2 * PAD)


def _x(pk: float) -> float:
    return PAD + pk * (WIDTH - 2 * PAD)


def cost_vs_pk(points: list[Point]) -> str:
    """Cost per intercept (log scale) against Pk, with Pk intervals; baselines in red."""
    costs = [p.cost_eur for p in points if p.cost_eur > 0] or [1.0]
    low = 10 ** math.floor(math.log10(min(costs)))
    high = 10 ** math.ceil(math.log10(max(costs)) + 1e-9)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" aria-label="cost per intercept against Pk" class="chart">',
             f'<rect x="{PAD}" y="{PAD}" width="{WIDTH - 2 * PAD}" height="{HEIGHT - 2 * PAD}" '
             'fill="none" stroke="#999"/>']
    decade = low
    while decade <= high:
        y = _y(decade, low, high)
        parts.append(f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#eee"/><text x="{PAD - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end" font-size="11">€{decade:,.0f}</text>')
        decade *= 10
    for tick in range(0, 11, 2):
        x = _x(tick / 10)
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - PAD + 16}" text-anchor="middle" '
                     f'font-size="11">{tick / 10:.1f}</text>')
    parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT - 12}" text-anchor="middle" '
                 'font-size="12">Pk (95% interval)</text>')
    for point in points:
        x, y = _x(point.pk), _y(point.cost_eur, low, high)
        colour = "#c0392b" if point.baseline else "#1f6feb"
        parts.append(f'<line x1="{_x(point.pk_low):.1f}" x2="{_x(point.pk_high):.1f}" '
                     f'y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}"/>'
                     f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}">'
                     f'<title>{escape(point.label)}</title></circle>'
                     f'<text x="{x + 7:.1f}" y="{y - 7:.1f}" font-size="11" fill="{colour}">'
                     f'{escape(point.label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def line(values: list[tuple[str, float]], *, label: str) -> str:
    """One series over categories (e.g. cost per intercept by version), linear scale."""
    if not values:
        return "<p>No scored versions yet.</p>"
    top = max(v for _, v in values) * 1.15 or 1.0
    step = (WIDTH - 2 * PAD) / max(len(values) - 1, 1)
    coords = [(PAD + i * step, HEIGHT - PAD - v / top * (HEIGHT - 2 * PAD))
              for i, (_, v) in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    marks = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#1f6feb"/>'
                    f'<text x="{x:.1f}" y="{HEIGHT - PAD + 16}" text-anchor="middle" '
                    f'font-size="11">{escape(name)}</text>'
                    f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" font-size="11">'
                    f'€{value:,.0f}</text>' for (x, y), (name, value) in zip(coords, values,
                                                                             strict=True))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'role="img" aria-label="{escape(label)}" class="chart">'
            f'<polyline points="{path}" fill="none" stroke="#1f6feb" stroke-width="2"/>{marks}'
            f'<text x="{WIDTH / 2}" y="{PAD / 2}" text-anchor="middle" font-size="12">'
            f'{escape(label)}</text></svg>')


def track(vehicles: dict[int, tuple[list[float], list[float]]]) -> str:
    """Flight tracks in local metres (one line per vehicle), equal scale on both axes."""
    points = [(e, n) for east, north in vehicles.values() for e, n in zip(east, north,
                                                                          strict=True)]
    if not points:
        return "<p>No position telemetry in this session.</p>"
    west, south = min(e for e, _ in points), min(n for _, n in points)
    span = max(max(e for e, _ in points) - west, max(n for _, n in points) - south, 1.0)
    scale = (HEIGHT - 2 * PAD) / span
    colours = ("#2d8a4e", "#c0392b", "#1f6feb", "#8e44ad", "#d35400", "#16a085")
    lines = []
    for number, (vehicle, (east, north)) in enumerate(sorted(vehicles.items())):
        coords = " ".join(f"{PAD + (e - west) * scale:.1f},{HEIGHT - PAD - (n - south) * scale:.1f}"
                          for e, n in zip(east, north, strict=True))
        lines.append(f'<polyline points="{coords}" fill="none" stroke-width="2" '
                     f'stroke="{colours[number % len(colours)]}"><title>system {vehicle}'
                     '</title></polyline>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
            'role="img" aria-label="flight tracks, local metres" class="chart">'
            + "".join(lines) + f'<text x="{PAD}" y="{PAD / 2}" font-size="12">tracks, metres '
            f'from the trial\'s local origin (span {span:,.0f} m)</text></svg>')
