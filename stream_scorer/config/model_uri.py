"""MLflow model URIs a scorer serves: `models:/NAME@ALIAS` or `models:/NAME/VERSION`.

Parsed without importing MLflow, so the config validates them on any install.
"""

import re
from dataclasses import dataclass

_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[\w-]+)|/(?P<number>\d+))$")
_ALIAS = re.compile(r"^@[\w-]+$")


@dataclass(frozen=True)
class ModelUri:
    """A registered model and an alias (re-resolved every batch) or a fixed version number."""

    name: str
    alias: str | None = None
    number: str | None = None

    def __str__(self) -> str:
        tail = f"@{self.alias}" if self.alias else f"/{self.number}"
        return f"models:/{self.name}{tail}"


def parse_model_uri(text: str) -> ModelUri:
    """Parse `models:/NAME@ALIAS` or `models:/NAME/VERSION`.

    Raises
    ------
    ValueError
        If `text` is neither.
    """
    match = _URI.match(text)
    if match is None:
        msg = f"{text!r} is not an MLflow model URI like 'models:/NAME@ALIAS' or 'models:/NAME/3'"
        raise ValueError(msg)
    return ModelUri(match["name"], match["alias"], match["number"])


def shadow_model_uri(served: ModelUri, shadow: str) -> ModelUri:
    """The challenger's URI: `@ALIAS` names an alias of the served model, else a full URI."""
    if _ALIAS.match(shadow):
        return ModelUri(served.name, alias=shadow[1:])
    return parse_model_uri(shadow)


def version_id(name: str, number: str | int) -> str:
    """Our version id of a registered model version: 'NAME/7'."""
    return f"{name}/{number}"
