"""The report's figures, drawn with matplotlib (Agg, no display) into PNG bytes.

Each function takes the history frame (and what `report_data` derives from it) and returns
one PNG; nothing here reads files.
"""

import io
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from stream_scorer.monitoring.report_data import (
    Comparison,
    dead_letters_by_reason,
    psi_matrix,
    utc_times,
    versions_in_order,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH = 11.0
"""Inches; at `DPI` a figure is 1100 pixels wide."""
DPI = 100
PSI_WARN = 0.2
EVENTS = (
    ("reloads", "reload", "^", "tab:green"),
    ("refusals", "refusal", "X", "tab:red"),
    ("fallbacks", "fallback", "D", "tab:orange"),
)


def throughput(frame: pd.DataFrame) -> bytes:
    """Records per second, batch latency and lag over time, one panel each."""
    fig = _figure(6.5, rows=3)
    times = utc_times(frame)
    series = (
        (frame["records_per_second"], "records / s", "tab:blue"),
        (frame["duration_ms"] / 1000, "batch latency (s)", "tab:purple"),
        (frame["lag"], "lag (records)", "tab:gray"),
    )
    for ax, (values, label, color) in zip(fig.axes, series, strict=True):
        ax.plot(times, values, color=color, linewidth=0.8)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    fig.axes[-1].set_xlabel("time (UTC)")
    return _png(fig)


def versions(frame: pd.DataFrame) -> bytes:
    """The serving model version over time; reloads, refusals and fallbacks marked."""
    fig = _figure(3.2)
    ax = fig.axes[0]
    names = versions_in_order(frame)
    level = frame["model_version"].fillna("none").map({v: i for i, v in enumerate(names)})
    times = utc_times(frame)
    ax.step(times, level, where="post", color="tab:blue", linewidth=1.5, label="serving")
    for column, label, marker, color in EVENTS:
        hit = frame[column].fillna(0) > 0
        count = int(frame[column].fillna(0).sum())
        if hit.any():
            ax.scatter(times[hit], level[hit], marker=marker, s=90, color=color, zorder=3,
                       label=f"{label} ({count})")  # fmt: skip
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.set_xlabel("time (UTC)")
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
    return _png(fig)


def dead_letters(frame: pd.DataFrame) -> bytes:
    """Dead letters per reason: stacked over time (left), totals (right)."""
    fig = _figure(3.6, cols=2, widths=(3, 1.4))
    over_time, totals = fig.axes
    table = dead_letters_by_reason(frame)
    if table.empty:
        for ax in fig.axes:
            ax.text(0.5, 0.5, "no dead letters", ha="center", va="center", fontsize=14)
            ax.set_axis_off()
        return _png(fig)
    labels = [_short(reason) for reason in table.columns]
    over_time.stackplot(table.index, table.T.to_numpy(), labels=labels, alpha=0.85)
    over_time.set_ylabel("dead letters")
    over_time.set_xlabel("time (UTC)")
    over_time.legend(loc="upper left", fontsize="small")
    over_time.grid(alpha=0.3)
    sums = table.sum()
    totals.barh(labels[::-1], sums.to_numpy()[::-1], color="tab:red", alpha=0.8)
    totals.set_xlabel("rows in total")
    totals.tick_params(axis="y", labelsize="small")
    return _png(fig)


def psi_heatmap(frame: pd.DataFrame) -> bytes:
    """PSI per feature (and the prediction's) over time; the warning level marked."""
    import matplotlib.dates as mdates

    names, values, starts = psi_matrix(frame)
    fig = _figure(1.2 + 0.35 * len(names))
    ax = fig.axes[0]
    end = utc_times(frame).iloc[-1]
    left, right = mdates.date2num(starts.iloc[0]), mdates.date2num(end)
    right = right if right > left else left + 1 / 86400
    image = ax.imshow(
        np.ma.masked_invalid(values),
        aspect="auto",
        interpolation="nearest",
        cmap="YlOrRd",
        vmin=0.0,
        vmax=max(0.5, float(np.nanmax(values, initial=0.0))),
        extent=(left, right, len(names) - 0.5, -0.5),
    )
    ax.xaxis_date()
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("time (UTC)")
    bar = fig.colorbar(image, ax=ax, pad=0.01)
    bar.set_label("PSI")
    bar.ax.axhline(PSI_WARN, color="black", linewidth=1.5)
    return _png(fig)


def comparison(found: list[Comparison]) -> bytes:
    """Baseline against recent fractions per bin, one panel per feature."""
    fig = _figure(3.4, cols=max(1, len(found)))
    for ax, item in zip(fig.axes, found, strict=False):
        x = np.arange(len(item.bins))
        ax.bar(x - 0.2, item.baseline, width=0.4, label="baseline", color="tab:gray")
        ax.bar(x + 0.2, item.recent, width=0.4, label="recent", color="tab:red", alpha=0.8)
        ax.set_xticks(x, item.bins, rotation=60, ha="right", fontsize="x-small")
        psi = "n/a" if item.psi is None or np.isnan(item.psi) else f"{item.psi:.3f}"
        ax.set_title(f"{item.feature} (PSI {psi})", fontsize="medium")
    fig.axes[0].set_ylabel("fraction of rows")
    fig.axes[0].legend(fontsize="x-small")
    return _png(fig)


def _figure(height: float, rows: int = 1, cols: int = 1, widths: tuple = ()) -> "Figure":
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
    kw = {"width_ratios": list(widths)} if widths else {}
    fig.subplots(rows, cols, sharex=rows > 1, squeeze=False, gridspec_kw=kw)
    return fig


def _png(fig: "Figure") -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _short(text: str, most: int = 40) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"
