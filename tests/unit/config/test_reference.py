"""The README's configuration reference is the one generated from the settings model."""

from pathlib import Path

from stream_scorer.config.reference import BEGIN, END, reference_markdown

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_config_reference_matches_settings_model():
    text = README.read_text()
    section = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert section == reference_markdown(), (
        "README config reference is stale: regenerate with "
        "`python -m stream_scorer.config.reference`"
    )
