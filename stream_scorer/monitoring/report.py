"""The monitoring report: one self-contained HTML file (figures inlined as PNG, no script, no
network) drawn from the history.

Each figure stands in a `<figure id="plot-NAME">` (`PLOTS`), which the browser test finds.
"""

import base64
import html
from datetime import timedelta

import pandas as pd

from stream_scorer.errors import MissingExtraError
from stream_scorer.monitoring import report_plots as plots
from stream_scorer.monitoring.history_read import read_baseline, read_history
from stream_scorer.monitoring.report_data import comparisons, worst_features

PLOTS = ("throughput", "versions", "dead-letters", "psi", "baseline")
"""The ids of the figures (`plot-<id>`), in the report's order."""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1140px; color: #222; }
h1 { margin-bottom: 4px; } .where { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 12px 0 20px; }
td, th { padding: 3px 14px 3px 0; text-align: left; }
figure { margin: 8px 0 28px; } figure img { max-width: 100%; display: block; }
.note { color: #666; font-style: italic; }
"""


def write_report(location: str, out: str, since: timedelta | None = None) -> pd.DataFrame:
    """Read the history at `location` (the last `since` of it), write the report to `out`
    and return the frame it drew.

    Raises
    ------
    HistoryError
        If the history is missing or holds no batch (in the last `since`), naming its path.
    MissingExtraError
        If matplotlib (the `report` extra) is not installed.
    """
    _require_matplotlib()
    frame = read_history(location, since)
    version = frame["model_version"].iloc[-1]
    baseline = read_baseline(location, version) if isinstance(version, str) else None
    with open(out, "w", encoding="utf-8") as file:
        file.write(render(frame, location, baseline))
    return frame


def render(frame: pd.DataFrame, location: str, baseline: dict | None) -> str:
    """The report's HTML for `frame` (a non-empty history) and the last version's baseline."""
    version = frame["model_version"].iloc[-1]
    found = comparisons(frame, baseline) if baseline else []
    if found:
        recent = _img("baseline", plots.comparison(found))
    elif baseline is None:
        missing = f"{location}/baselines/{version}.json"
        recent = f'<p class="note">No baseline for {_e(version)}: {_e(missing)} is missing.</p>'
    else:
        recent = (
            f'<p class="note">The last batches of {_e(version)} hold no bin counts that match '
            "its baseline's bins.</p>"
        )
    sections = [
        ("Throughput, latency and lag", _img("throughput", plots.throughput(frame))),
        ("Model versions", _img("versions", plots.versions(frame))),
        ("Dead letters by reason", _img("dead-letters", plots.dead_letters(frame))),
        ("PSI per feature over time", _img("psi", plots.psi_heatmap(frame))),
        (f"Baseline against the last 10 batches of {version}", recent),
    ]
    body = "\n".join(f"<h2>{_e(title)}</h2>\n{content}" for title, content in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>stream-scorer report</title><style>{_STYLE}</style></head><body>\n"
        f'<h1>stream-scorer report</h1><p class="where">history: {_e(location)}</p>\n'
        f"{_summary(frame)}\n{body}\n</body></html>\n"
    )


def _summary(frame: pd.DataFrame) -> str:
    first, last = frame["time"].iloc[0], frame["time"].iloc[-1]
    worst = worst_features(frame, 1)
    rows = [
        ("from", f"{first:%Y-%m-%d %H:%M:%S} UTC"),
        ("to", f"{last:%Y-%m-%d %H:%M:%S} UTC"),
        ("batches", f"{len(frame):,} (ids {frame['batch_id'].min()}..{frame['batch_id'].max()})"),
        ("records", f"{frame['rows'].sum():,}, scored {frame['scored'].sum():,}"),
        ("dead letters", f"{frame['dead_letters'].sum():,}"),
        ("model versions", ", ".join(dict.fromkeys(frame["model_version"].fillna("none")))),
        (
            "reloads, refusals, fallbacks",
            ", ".join(_total(frame, c) for c in ("reloads", "refusals", "fallbacks")),
        ),
        ("worst feature now", "{} (PSI {:.3f})".format(*worst[0]) if worst else "n/a"),
    ]
    cells = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _total(frame: pd.DataFrame, column: str) -> str:
    return str(int(frame[column].fillna(0).sum()))


def _img(name: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure id="plot-{name}"><img alt="{name}" src="data:image/png;base64,{data}"></figure>'
    )


def _e(text: object) -> str:
    return html.escape(str(text))


def _require_matplotlib() -> None:
    from importlib.util import find_spec

    if find_spec("matplotlib") is None:
        msg = "stream-scorer report draws with matplotlib: pip install 'stream-scorer[report]'"
        raise MissingExtraError(msg)
