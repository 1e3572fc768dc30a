"""Inline SVG charts of provider patterns. Every label and value is escaped here; the result is
``Markup`` so the report embeds it as is (see auditor.report.charts)."""

from __future__ import annotations

import math

from markupsafe import Markup, escape

FLAG = "#b42318"
DOT = "#1f4e79"
MUTED = "#98a2b3"
PEER = "#c2410c"


def _num(v) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return 0.0
    return f if math.isfinite(f) else 0.0


def _quantile(sorted_vals: list[float], q: float) -> float:
    if not sorted_vals:
        return 0.0
    pos = (len(sorted_vals) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (pos - lo)


def strip_plot(points: list[dict], *, title: str, value_format, peer_value: float | None = None,
               peer_label: str = "all providers", width: int = 720, max_points: int = 3000) -> Markup:
    """One dot per provider on a value axis, over the box (quartiles, median) of the tested providers.

    points: [{"label": npi, "value": x, "volume": n, "tested": bool, "flagged": bool}]; flagged
    providers are red and labelled. `peer_value` draws the pooled rate of everyone as a dashed line.
    """
    pts = sorted(points, key=lambda p: (p.get("flagged", False), p.get("tested", False)))[-max_points:]
    left, right, top = 20, 20, 34
    band = 70
    height = top + band + 46
    vals = [_num(p["value"]) for p in pts] + ([_num(peer_value)] if peer_value is not None else [])
    vmax = (max(vals) if vals else 1.0) * 1.08 or 1.0
    span = width - left - right

    def x(v):
        return left + _num(v) / vmax * span

    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{escape(title)}">', f"<title>{escape(title)}</title>"]
    tested = sorted(_num(p["value"]) for p in pts if p.get("tested"))
    if tested:
        q1, med, q3 = (_quantile(tested, q) for q in (0.25, 0.5, 0.75))
        out.append(f'<rect x="{x(q1):.1f}" y="{top}" width="{max(x(q3) - x(q1), 1):.1f}" height="{band}" '
                   f'fill="#e4e7ec"><title>{escape(f"middle half of tested providers: {value_format(q1)} to {value_format(q3)}")}</title></rect>')
        out.append(f'<line x1="{x(med):.1f}" y1="{top}" x2="{x(med):.1f}" y2="{top + band}" stroke="{MUTED}" '
                   f'stroke-width="2"><title>{escape(f"median {value_format(med)}")}</title></line>')
    if peer_value is not None:
        out.append(f'<line x1="{x(peer_value):.1f}" y1="{top - 6}" x2="{x(peer_value):.1f}" y2="{top + band + 4}" '
                   f'stroke="{PEER}" stroke-dasharray="4 3" stroke-width="1.5"/>'
                   f'<text x="{x(peer_value) + 4:.1f}" y="{top - 8}" class="val">'
                   f'{escape(f"{peer_label}: {value_format(peer_value)}")}</text>')
    labelled = 0
    for i, p in enumerate(pts):
        cy = top + 8 + ((i * 37) % (band - 16))          # deterministic jitter: the same picture every run
        v = _num(p["value"])
        tip = f'{p["label"]}: {value_format(v)} ({int(_num(p.get("volume"))):,})'
        if p.get("flagged"):
            out.append(f'<circle cx="{x(v):.1f}" cy="{cy}" r="5" fill="{FLAG}"><title>{escape(tip)} flagged</title></circle>')
            if labelled < 12:
                ly = top + band + 14 + (labelled % 2) * 12
                out.append(f'<text x="{x(v):.1f}" y="{ly}" text-anchor="middle" class="lbl" fill="{FLAG}">'
                           f'{escape(str(p["label"]))}</text>')
                labelled += 1
        elif p.get("tested"):
            out.append(f'<circle cx="{x(v):.1f}" cy="{cy}" r="3.5" fill="{DOT}" fill-opacity="0.6"><title>{escape(tip)}</title></circle>')
        else:
            out.append(f'<circle cx="{x(v):.1f}" cy="{cy}" r="3" fill="none" stroke="{MUTED}"><title>{escape(tip)} (not tested: low volume or few peers)</title></circle>')
    axis_y = top + band + 2
    out.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + span}" y2="{axis_y}" class="axis"/>')
    for k in range(5):
        v = vmax * k / 4
        out.append(f'<text x="{x(v):.1f}" y="{height - 4}" text-anchor="middle" class="val">{escape(value_format(v))}</text>')
    if not pts:
        out.append('<text x="10" y="20" class="lbl">No data</text>')
    out.append("</svg>")
    return Markup("".join(out))


def paired_bars(categories: list[str], provider: list[float], peers: list[float], *, title: str,
                names: tuple[str, str] = ("provider", "peers"), width: int = 720) -> Markup:
    """Two bars per category (shares 0..1): the provider against its peers, e.g. E/M levels."""
    left, right, top, bottom = 46, 16, 26, 30
    height = 190
    ph = height - top - bottom
    n = max(len(categories), 1)
    slot = (width - left - right) / n
    vmax = max([_num(v) for v in provider + peers] + [0.01])
    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{escape(title)}">', f"<title>{escape(title)}</title>",
           f'<rect x="{left}" y="6" width="10" height="10" fill="{FLAG}"/>'
           f'<text x="{left + 14}" y="15" class="lbl">{escape(names[0])}</text>'
           f'<rect x="{left + 140}" y="6" width="10" height="10" fill="{MUTED}"/>'
           f'<text x="{left + 154}" y="15" class="lbl">{escape(names[1])}</text>',
           f'<line x1="{left}" y1="{top + ph}" x2="{width - right}" y2="{top + ph}" class="axis"/>',
           f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" class="val">{vmax:.0%}</text>']
    bw = max(min(slot / 2 - 4, 28), 2)
    for i, cat in enumerate(categories):
        x0 = left + i * slot + slot / 2 - bw
        for j, (v, colour, who) in enumerate(((provider[i], FLAG, names[0]), (peers[i], MUTED, names[1]))):
            h = _num(v) / vmax * ph
            out.append(f'<rect x="{x0 + j * bw:.1f}" y="{top + ph - h:.1f}" width="{bw - 1:.1f}" height="{h:.1f}" '
                       f'fill="{colour}"><title>{escape(f"{cat} {who}: {_num(v):.1%}")}</title></rect>')
        out.append(f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - 12}" text-anchor="middle" class="lbl">'
                   f'{escape(str(cat))}</text>')
    out.append("</svg>")
    return Markup("".join(out))
