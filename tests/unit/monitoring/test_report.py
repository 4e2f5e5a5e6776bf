"""`stream-scorer report`: one self-contained HTML file from the history, or a clear refusal."""

import re

import pandas as pd

from stream_scorer.cli.main import main
from stream_scorer.monitoring.report import PLOTS, write_report
from stream_scorer.monitoring.report_data import MAX_COLUMNS, comparisons, psi_matrix
from tests.monitoring_helpers import baseline, history_rows, write_batch


def test_report_writes_every_plot_inline_and_nothing_to_fetch(
    tmp_path, config_file, history, capsys
):
    out = tmp_path / "report.html"

    assert main(["report", "--config", str(config_file), "--out", str(out)]) == 0

    assert capsys.readouterr().out.startswith(f"{out}: 300 batches from ")
    page = out.read_text()
    figure = r'<figure id="plot-([\w-]+)"><img alt="[\w-]+" src="data:image/png;base64,'
    ids = re.findall(figure, page)
    assert ids == list(PLOTS)
    assert not re.search(r"<script|<link|<iframe|(src|href)=\"(?!data:)", page)


def test_report_says_when_the_latest_version_has_no_baseline(tmp_path, config_file, history):
    (history / "baselines" / "v0002.json").unlink()
    out = tmp_path / "report.html"

    assert main(["report", "--config", str(config_file), "--out", str(out)]) == 0

    page = out.read_text()
    assert f"No baseline for v0002: {history}/baselines/v0002.json is missing." in page
    assert 'id="plot-baseline"' not in page


def test_report_without_a_history_names_the_path_and_exits_2(tmp_path, config_file, capsys):
    out = tmp_path / "report.html"

    assert main(["report", "--config", str(config_file), "--out", str(out)]) == 2

    history = tmp_path / "checkpoint" / "history"
    assert capsys.readouterr().err.startswith(f"error: no monitoring history at {history}:")
    assert not out.exists()


def test_the_heat_map_buckets_a_long_history_and_puts_the_worst_feature_first():
    frame = pd.DataFrame(history_rows(1000))

    names, values, starts = psi_matrix(frame)

    assert names[:2] == ["prediction", "f2"]
    assert values.shape == (6, MAX_COLUMNS) and len(starts) == MAX_COLUMNS
    last_bucket = history_rows(1000)[-3:]  # 1000 rows: 100 buckets of 4, then 200 of 3
    assert values[1, -1] == max(row["feature_psi"]["f2"] for row in last_bucket)


def test_the_comparison_shows_the_drifted_feature_against_its_baseline_first():
    frame = pd.DataFrame(history_rows(300))

    found = comparisons(frame, baseline())

    assert [c.feature for c in found] == ["f2", *[c.feature for c in found[1:3]], "prediction"]
    drifted = found[0]
    assert drifted.baseline == [0.1] * 10
    assert drifted.recent[-1] > 0.5  # two standard deviations up: most rows in the top bin
    assert drifted.bins[0] == "< -1.28" and drifted.bins[-1] == ">= 1.28"


def test_a_history_without_baselines_or_dead_letters_still_draws(tmp_path):
    for row in history_rows(20):
        row |= {"prediction_psi": None, "feature_psi": {}, "feature_counts": {}}
        write_batch(tmp_path, row | {"dead_letters": 0, "dead_letter_reasons": {}})
    out = tmp_path / "report.html"

    write_report(str(tmp_path), str(out))

    page = out.read_text()
    assert re.findall(r'<figure id="plot-([\w-]+)">', page) == list(PLOTS[:-1])
    assert "<th>worst feature now</th><td>n/a</td>" in page
    assert f"No baseline for v0002: {tmp_path}/baselines/v0002.json is missing." in page
