"""Reads a YAML file into a validated `ScorerConfig`; errors name the key, value and need.

Each problem is one line: `<file>: <key>: got <value>; expected: <need>`. A misspelt key
names the known key it resembles. Relative paths resolve against the file's folder (see
`stream_scorer.config.paths`).
"""

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from stream_scorer.config.keys import closest_key
from stream_scorer.config.paths import BASE_DIR
from stream_scorer.config.settings import ScorerConfig
from stream_scorer.errors import ConfigError
from stream_scorer.kafka.options import REDACTED, is_secret

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> ScorerConfig:
    """Load and validate the scorer config at `path`.

    String values may hold `${VAR}` or `${VAR:-default}`, read from `env` (default
    `os.environ`): hosts and secrets stay out of the file. Relative paths (checkpoint,
    model store, sink paths, log file) resolve against the file's folder.

    Raises
    ------
    ConfigError
        If the file is unreadable or not YAML, a variable is unset, or a value is invalid;
        the message names the file, each bad key, its value and what was expected.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        msg = f"{path}: cannot read config: {exc.strerror}"
        raise ConfigError(msg) from exc
    except yaml.YAMLError as exc:
        msg = f"{path}: not valid YAML: {exc}"
        raise ConfigError(msg) from exc
    if not isinstance(raw, dict):
        msg = f"{path}: expected a mapping of settings at top level, got {type(raw).__name__}"
        raise ConfigError(msg)
    values = _interpolate(raw, os.environ if env is None else env, path)
    return parse_config(values, origin=path, base_dir=path.absolute().parent)


def parse_config(
    raw: Mapping[str, Any], origin: str | Path = "<config>", base_dir: Path | None = None
) -> ScorerConfig:
    """Validate an already-parsed mapping; `origin` names it in errors.

    Relative paths resolve against `base_dir` when given, else stay relative to the
    working directory.
    """
    try:
        return ScorerConfig.model_validate(raw, context={BASE_DIR: base_dir})
    except ValidationError as exc:
        errors = exc.errors()
        hints = {
            tuple(err["loc"]): closest_key(str(err["loc"][-1]), err["loc"][:-1])
            for err in errors
            if err["type"] == "extra_forbidden"
        }
        # a misspelt required key also reports the key as missing: the hint says it all
        suggested = {(*loc[:-1], hint) for loc, hint in hints.items() if hint}
        problems = [
            f"{origin}: {_describe(err, hints.get(tuple(err['loc'])))}"
            for err in errors
            if not (err["type"] == "missing" and tuple(err["loc"]) in suggested)
        ]
        raise ConfigError("\n".join(problems)) from None


def _describe(err: Mapping[str, Any], hint: str | None) -> str:
    key = ".".join(str(part) for part in err["loc"]) or "<top level>"
    value = err.get("input")
    shown = REDACTED if any(is_secret(str(p)) for p in err["loc"]) else _short(value)
    if err["type"] == "missing":
        return f"{key}: missing; {err['msg'].lower()}"
    if err["type"] == "source_options":  # names the option, its value and the need itself
        return f"{key}: {err['msg']}"
    if err["type"] == "extra_forbidden":
        need = f"did you mean '{hint}'?" if hint else "see the configuration reference"
        return f"{key}: unknown key (value {shown}); {need}"
    return f"{key}: got {shown}; expected: {err['msg'].removeprefix('Value error, ')}"


def _short(value: object) -> str:
    text = repr(value) if not isinstance(value, dict) else "{...}"
    return text if len(text) <= 80 else text[:77] + "..."


def _interpolate(node: Any, env: Mapping[str, str], path: Path) -> Any:
    if isinstance(node, dict):
        return {k: _interpolate(v, env, path) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, env, path) for v in node]
    if not isinstance(node, str):
        return node

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        msg = f"{path}: environment variable {name} is not set (referenced as {match.group(0)})"
        raise ConfigError(msg)

    return _ENV_REF.sub(substitute, node)
