"""LightGBM's text model read before LightGBM sees it: the header's fields, and the layout
its loader trusts. LightGBM parses trees in parallel at the offsets `tree_sizes` gives, and a
truncated or shifted tree aborts the whole process there (not an exception), so a file whose
trees are not where the header says is refused first."""

import json
import re

from stream_scorer.errors import ModelRejectedError

HEADER_START = "tree\nversion="
"""How a LightGBM text model begins."""
END_OF_TREES = "end of trees"
PARAMETERS = "\nparameters:\n"
END_OF_PARAMETERS = "\nend of parameters"
PANDAS_CATEGORICAL = "pandas_categorical:"
_UNNAMED = re.compile(r"Column_\d+")


def header_of(text: str) -> dict[str, str]:
    """The header's `key=value` fields, once the trees are where `tree_sizes` says.

    Raises
    ------
    ModelRejectedError
        If the text is not a LightGBM model, or its trees are missing, truncated or moved.
    """
    if not text.startswith(HEADER_START):
        raise ModelRejectedError(f"not a LightGBM text model: it does not begin {HEADER_START!r}")
    first_tree = text.find("\nTree=") + 1
    if first_tree == 0:
        raise ModelRejectedError("the LightGBM model holds no trees (truncated?)")
    header = dict(line.split("=", 1) for line in text[:first_tree].splitlines() if "=" in line)
    try:
        sizes = [int(size) for size in header.get("tree_sizes", "").split()]
    except ValueError as exc:
        raise ModelRejectedError(f"the LightGBM header's tree_sizes are not sizes: {exc}") from exc
    offset = first_tree
    for i, size in enumerate(sizes):
        if not text.startswith(f"Tree={i}\n", offset):
            msg = f"tree {i} is not where the header's tree_sizes put it: the file is truncated "
            raise ModelRejectedError(msg + "or edited")
        offset += size
    ends = text.startswith(END_OF_TREES, offset) if sizes else f"\n{END_OF_TREES}" in text
    if not ends:
        msg = f"no '{END_OF_TREES}' after the {len(sizes)} trees: the file is truncated or edited"
        raise ModelRejectedError(msg)
    _check_tail(text[offset:])
    return header


def _check_tail(tail: str) -> None:
    """The parameters LightGBM reads back after the trees must end where they say, and all
    that follows them is one whole `pandas_categorical` JSON line, or nothing."""
    start = tail.find(PARAMETERS)
    if start < 0:
        return
    end = tail.find(END_OF_PARAMETERS, start)
    if end < 0:
        msg = f"the parameters after the trees have no '{END_OF_PARAMETERS.strip()}': the file "
        raise ModelRejectedError(msg + "is truncated or edited")
    rest = tail[end + len(END_OF_PARAMETERS) :].strip()
    if not rest:
        return
    problem = f"what follows the parameters is not one '{PANDAS_CATEGORICAL}' line"
    if rest.startswith(PANDAS_CATEGORICAL) and "\n" not in rest:
        try:
            json.loads(rest[len(PANDAS_CATEGORICAL) :])
            return
        except ValueError as exc:
            problem = f"its {PANDAS_CATEGORICAL} line is not whole JSON ({exc})"
    raise ModelRejectedError(f"{problem}: the file is truncated or edited")


def feature_names(header: dict[str, str]) -> list[str] | None:
    """The feature names, or None when LightGBM named them itself (Column_0, ...)."""
    names = header.get("feature_names", "").split()
    if all(_UNNAMED.fullmatch(name) for name in names):
        return None
    return names


def categorical(header: dict[str, str]) -> list[bool]:
    """Per feature: True when its `feature_infos` entry lists category codes (`0:1:2`, where
    a numeric one is a `[min:max]` range or `none`)."""
    infos = header.get("feature_infos", "").split()
    return [not (info.startswith("[") or info == "none") for info in infos]
