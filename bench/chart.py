#!/usr/bin/env python3
"""Turns one harness result (bench/results/<time>.json) into the README's table and an SVG chart.

usage: bench/chart.py bench/results/<time>.json [--svg docs/performance.svg] [--targets portal portal-pg nginx portkey]

Prints a Markdown table of the figures the targets are judged by (issue 18) and writes a chart with
one panel per figure, a bar per target, on a log scale (the targets differ by orders of magnitude).
Standard library only: there is no plotting package on these machines.
"""
import argparse
import html
import json
import math

# (summary key, title, unit, format, target line or None, "lower" or "higher" is better)
FIGURES = [
    ("add_c1_p50", "Added latency, p50 at c=1", "ms", "{:+.2f}", 0.2, "lower"),
    ("gw_cpu_us_req", "Gateway CPU per request, c=32", "µs", "{:,.0f}", 80, "lower"),
    ("rps_c32", "Requests per second, c=32", "req/s", "{:,.0f}", None, "higher"),
    ("p99_c32", "p99 latency, c=32", "ms", "{:,.1f}", 10, "lower"),
    ("add_stream_c1_ttfb", "Stream first byte added, c=1", "ms", "{:+.2f}", 0.5, "lower"),
    ("add_stream_c32_ttfb", "Stream first byte added, c=32", "ms", "{:+.2f}", 0.5, "lower"),
    ("rss_peak_mb", "Peak RSS", "MB", "{:,.0f}", 200, "lower"),
]
LABELS = {"portal": "Portal (SQLite)", "portal-pg": "Portal (PostgreSQL)", "portal-tuned": "Portal (SQLite, warm JIT)",
          "nginx": "nginx (no auth, no billing)", "portkey": "Portkey (no auth, no billing)", "direct": "direct (no gateway)",
          "floor-yarp": "YARP (relay only)", "floor-aspnet": "Kestrel + HttpClient (relay only)"}
COLORS = {"portal": "#2563eb", "portal-pg": "#7c3aed", "portal-tuned": "#60a5fa", "nginx": "#16a34a", "portkey": "#ea580c",
          "direct": "#6b7280", "floor-yarp": "#a3a3a3", "floor-aspnet": "#737373"}


def median(summary, target, key):
    value = summary.get(target, {}).get(key)
    if isinstance(value, dict):
        value = value.get("median")
    return value


def table(result, targets):
    summary = result["summary"]
    head = "| target | " + " | ".join(f"{title} ({unit})" for _, title, unit, *_ in FIGURES) + " |"
    rows = [head, "|---" * (len(FIGURES) + 1) + "|"]
    for t in targets:
        cells = []
        for key, _, _, fmt, _, _ in FIGURES:
            v = median(summary, t, key)
            cells.append("—" if v is None else fmt.format(v))
        rows.append(f"| {LABELS.get(t, t)} | " + " | ".join(cells) + " |")
    goals = []
    for key, _, _, fmt, goal, _ in FIGURES:
        goals.append("—" if goal is None else "≤ " + fmt.format(goal).lstrip("+"))
    rows.append("| *target (issue 18)* | " + " | ".join(goals) + " |")
    return "\n".join(rows)


def svg(result, targets):
    summary = result["summary"]
    width, panel_h, bar_h, left, right = 900, 40 + 26 * len(targets), 18, 230, 120
    height = 80 + (panel_h + 14) * len(FIGURES)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           'font-family="system-ui, sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           f'<text x="16" y="26" font-size="16" font-weight="bold">Gateway overhead, one run on 2 shared cores '
           f'({html.escape(result["meta"]["timestamp"])})</text>',
           '<text x="16" y="46" fill="#555">Log scale. Medians of the run; dashed line = issue 18 target. '
           'nginx and Portkey do no authentication or billing.</text>']
    y = 70
    for key, title, unit, fmt, goal, better in FIGURES:
        values = {t: median(summary, t, key) for t in targets}
        present = [v for v in values.values() if v is not None and v > 0]
        if goal:
            present.append(goal)
        lo = 10 ** math.floor(math.log10(min(present))) if present else 0.01
        hi = 10 ** math.ceil(math.log10(max(present))) if present else 1
        hi = max(hi, lo * 10)
        scale = lambda v: left + (width - left - right) * (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        out.append(f'<text x="16" y="{y + 14}" font-weight="bold">{html.escape(title)} ({html.escape(unit)}), '
                   f'{"lower" if better == "lower" else "higher"} is better</text>')
        exp = math.floor(math.log10(lo))
        while 10 ** exp <= hi:
            x = scale(10 ** exp)
            out.append(f'<line x1="{x:.1f}" y1="{y + 22}" x2="{x:.1f}" y2="{y + panel_h - 8}" stroke="#e5e7eb"/>')
            out.append(f'<text x="{x:.1f}" y="{y + panel_h + 2}" fill="#888" font-size="10" text-anchor="middle">{10 ** exp:g}</text>')
            exp += 1
        for i, t in enumerate(targets):
            by = y + 26 + i * 26
            out.append(f'<text x="{left - 8}" y="{by + 13}" text-anchor="end">{html.escape(LABELS.get(t, t))}</text>')
            v = values[t]
            if v is None:
                out.append(f'<text x="{left + 4}" y="{by + 13}" fill="#888">no data</text>')
                continue
            x = scale(v) if v > 0 else left  # an added time can come out negative (noise): no bar
            out.append(f'<rect x="{left}" y="{by}" width="{max(1.0, x - left):.1f}" height="{bar_h}" fill="{COLORS.get(t, "#999")}"/>')
            out.append(f'<text x="{max(x, left) + 6:.1f}" y="{by + 13}">{html.escape(fmt.format(v))}</text>')
        if goal:
            x = scale(goal)
            out.append(f'<line x1="{x:.1f}" y1="{y + 20}" x2="{x:.1f}" y2="{y + panel_h - 6}" stroke="#dc2626" stroke-dasharray="4 3"/>')
        y += panel_h + 14
    out.append("</svg>")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("result")
    parser.add_argument("--svg", default=None, help="where to write the chart")
    parser.add_argument("--targets", nargs="+", default=["portal", "portal-pg", "nginx", "portkey"])
    args = parser.parse_args()
    result = json.load(open(args.result))
    targets = [t for t in args.targets if t in result["summary"]]
    print(table(result, targets))
    if args.svg:
        with open(args.svg, "w") as f:
            f.write(svg(result, targets) + "\n")
        print(f"\nchart: {args.svg}")


if __name__ == "__main__":
    main()
