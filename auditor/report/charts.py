"""Inline SVG charts for the HTML report. Every label and value is escaped here, so the result is
returned as ``Markup`` and embedded as is. Later features use these to draw their own charts."""

from __future__ import annotations

from markupsafe import Markup, escape

PALETTE = ["#1f4e79", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490", "#a16207", "#475569"]
SEVERITY_COLOURS = {"error": "#b42318", "warning": "#b54708", "info": "#175cd3"}


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def bar_chart(labels: list, values: list, *, title: str = "", value_format=None,
              colours: list | None = None, max_bars: int = 25, width: int = 720) -> Markup:
    """Horizontal bar chart; one bar per (label, value), at most `max_bars` (the largest first as given)."""
    fmt = value_format or (lambda v: f"{v:,.0f}")
    pairs = [(str(lb if lb is not None else "(none)"), float(v or 0)) for lb, v in zip(labels, values)][:max_bars]
    bar_h, gap, left, right, top = 20, 6, 210, 110, 8
    height = top * 2 + len(pairs) * (bar_h + gap)
    top_v = max([v for _, v in pairs] + [0.0]) or 1.0
    span = width - left - right
    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {max(height, 30)}" '
           f'role="img" aria-label="{escape(title)}">', f"<title>{escape(title)}</title>"]
    for i, (label, v) in enumerate(pairs):
        y = top + i * (bar_h + gap)
        w = max(v, 0.0) / top_v * span
        colour = (colours[i] if colours and i < len(colours) else None) or PALETTE[0]
        out.append(
            f'<g><title>{escape(label)}: {escape(fmt(v))}</title>'
            f'<text x="{left - 8}" y="{y + 14}" text-anchor="end" class="lbl">{escape(_short(label, 30))}</text>'
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="2" fill="{escape(colour)}"/>'
            f'<text x="{left + w + 6:.1f}" y="{y + 14}" class="val">{escape(fmt(v))}</text></g>')
    if not pairs:
        out.append('<text x="10" y="20" class="lbl">No data</text>')
    out.append("</svg>")
    return Markup("".join(out))


def line_chart(x_labels: list, series: dict, *, title: str = "", value_format=None,
               width: int = 720, height: int = 260) -> Markup:
    """Line chart of several series over the same x labels (e.g. 12 review periods)."""
    fmt = value_format or (lambda v: f"{v:,.0f}")
    left, right, top, bottom = 70, 150, 12, 36
    xs = [str(x) for x in x_labels]
    vals = [float(v or 0) for s in series.values() for v in s] or [0.0]
    top_v = max(vals) or 1.0
    pw, ph = width - left - right, height - top - bottom
    step = pw / max(len(xs) - 1, 1)
    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="{escape(title)}">', f"<title>{escape(title)}</title>",
           f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" class="axis"/>',
           f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" class="val">{escape(fmt(top_v))}</text>',
           f'<text x="{left - 6}" y="{top + ph}" text-anchor="end" class="val">0</text>']
    for i, x in enumerate(xs):
        out.append(f'<text x="{left + i * step:.1f}" y="{height - 14}" text-anchor="middle" class="lbl">'
                   f'{escape(_short(x, 10))}</text>')
    for k, (name, s) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        pts = " ".join(f"{left + i * step:.1f},{top + ph - float(v or 0) / top_v * ph:.1f}"
                       for i, v in enumerate(s))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>'
                   f'<rect x="{left + pw + 12}" y="{top + k * 18}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{left + pw + 26}" y="{top + k * 18 + 9}" class="lbl">'
                   f'{escape(_short(str(name), 18))}</text>')
    out.append("</svg>")
    return Markup("".join(out))
