"""The report's plotting library: matplotlib (PNG inlined, what `stream-scorer report` uses)
against Plotly (its JS inlined once, no CDN) on the same panels of a 10k-batch history.

Writes a synthetic history by the monitoring contract (`tests.monitoring_helpers`), reads it
once (`read_history`, timed apart: the same for both), then, taking turns over `--rounds`,
builds each contender's HTML from the frame (Python seconds), measures the file, and times a
headless Chromium screenshot of it (wall seconds, minus the same screenshot of an empty page:
the browser's own start). Run: `.venv/bin/python -m bench.report_render --batches 10000`.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from stream_scorer.monitoring.history_read import read_baseline, read_history
from stream_scorer.monitoring.report import render
from stream_scorer.monitoring.report_data import (
    comparisons,
    dead_letters_by_reason,
    psi_matrix,
    utc_times,
    versions_in_order,
)
from tests.browser_helpers import chromium, screenshot
from tests.monitoring_helpers import write_history

WIDTH, HEIGHT = 1200, 3000


def plotly_report(frame: pd.DataFrame, baseline: dict) -> str:
    """The same five panels drawn with Plotly, its JS inlined once in the file."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    times = utc_times(frame)
    figures = []
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True)
    fig.add_scatter(x=times, y=frame["records_per_second"], name="records / s", row=1, col=1)
    fig.add_scatter(x=times, y=frame["duration_ms"] / 1000, name="latency (s)", row=2, col=1)
    fig.add_scatter(x=times, y=frame["lag"], name="lag", row=3, col=1)
    figures.append(fig)
    fig = go.Figure()
    fig.add_scatter(x=times, y=frame["model_version"], line_shape="hv", name="serving")
    for column in ("reloads", "refusals", "fallbacks"):
        hit = frame[column] > 0
        fig.add_scatter(x=times[hit], y=frame["model_version"][hit], mode="markers", name=column)
    fig.update_yaxes(categoryorder="array", categoryarray=versions_in_order(frame))
    figures.append(fig)
    table = dead_letters_by_reason(frame)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.7, 0.3])
    for reason in table.columns:
        fig.add_scatter(x=table.index, y=table[reason], stackgroup="dl", name=reason)
    fig.add_bar(x=table.sum().to_numpy(), y=list(table.columns), orientation="h", row=1, col=2)
    figures.append(fig)
    names, values, starts = psi_matrix(frame)
    figures.append(go.Figure(go.Heatmap(z=values, x=starts, y=names, colorscale="YlOrRd")))
    found = comparisons(frame, baseline)
    fig = make_subplots(rows=1, cols=len(found), subplot_titles=[c.feature for c in found])
    for i, item in enumerate(found, start=1):
        fig.add_bar(x=item.bins, y=item.baseline, name="baseline", row=1, col=i)
        fig.add_bar(x=item.bins, y=item.recent, name="recent", row=1, col=i)
    figures.append(fig)
    divs = [
        f.to_html(full_html=False, include_plotlyjs=i == 0, div_id=f"plot-{i}")
        for i, f in enumerate(figures)
    ]
    return "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>" + "".join(divs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    browser, reason = chromium()
    if browser is None:
        raise SystemExit(f"needs headless Chromium: {reason}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        history = str(write_history(root / "history", args.batches))
        started = time.perf_counter()
        frame = read_history(history)
        read_s = time.perf_counter() - started
        baseline = read_baseline(history, frame["model_version"].iloc[-1]) or {}
        (root / "empty.html").write_text("<html><body></body></html>")
        contenders = {
            "matplotlib": lambda: render(frame, history, baseline),
            "plotly": lambda: plotly_report(frame, baseline),
        }
        rows: dict[str, list[tuple[float, int, float]]] = {name: [] for name in contenders}
        for _ in range(args.rounds):
            empty = _timed(
                lambda: screenshot(browser, root / "empty.html", root / "e.png", 800, 600)
            )
            for name, build in contenders.items():
                build_s, page = _timed_value(build)
                path = root / f"{name}.html"
                path.write_text(page)
                browse = _timed(
                    lambda p=path: screenshot(browser, p, root / "s.png", WIDTH, HEIGHT)
                )
                rows[name].append((build_s, path.stat().st_size, browse - empty))
    print(f"history: {args.batches} batches read in {read_s:.1f}s; load {os.getloadavg()}")
    print(f"{'contender':<12}{'build s':>10}{'file KB':>10}{'browser s':>11}")
    medians = {}
    for name, samples in rows.items():
        medians[name] = [statistics.median(column) for column in zip(*samples, strict=True)]
        build_s, size, browse = medians[name]
        print(f"{name:<12}{build_s:>10.2f}{size / 1024:>10.0f}{browse:>11.2f}")
    mpl, ply = medians["matplotlib"], medians["plotly"]
    print(
        f"plotly / matplotlib: build {ply[0] / mpl[0]:.2f}x, file {ply[1] / mpl[1]:.1f}x, "
        f"browser {ply[2] / max(mpl[2], 1e-3):.2f}x"
    )


def _timed(call) -> float:
    return _timed_value(call)[0]


def _timed_value(call):
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


if __name__ == "__main__":
    main()
