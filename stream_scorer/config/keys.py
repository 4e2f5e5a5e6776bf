"""The keys the settings model knows at a place in the config, for "did you mean" hints."""

import difflib
import typing
from collections.abc import Sequence

from pydantic import BaseModel

from stream_scorer.config.settings import ScorerConfig


def models_in(annotation: object) -> list[type[BaseModel]]:
    """The settings models an annotation holds: itself, or those of a list or union."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += [m for m in models_in(arg) if m not in found]
    return found


def known_keys(loc: Sequence[str | int]) -> list[str]:
    """The keys allowed in the mapping at `loc` (a pydantic error location), or []."""
    models: list[type[BaseModel]] = [ScorerConfig]
    for part in loc:
        if isinstance(part, int):
            continue
        tagged = [m for m in models if _kind(m) == part]  # a discriminated union's tag
        if tagged:
            models = tagged
            continue
        fields = {f.alias or name: f for m in models for name, f in m.model_fields.items()}
        if part not in fields:
            return []
        models = models_in(fields[part].annotation)
    return sorted({f.alias or name for m in models for name, f in m.model_fields.items()})


def closest_key(key: str, loc: Sequence[str | int]) -> str | None:
    """The known key at `loc` that `key` most resembles, or None."""
    close = difflib.get_close_matches(key, known_keys(loc), n=1, cutoff=0.6)
    return close[0] if close else None


def _kind(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("kind")
    if field is None or typing.get_origin(field.annotation) is not typing.Literal:
        return None
    return typing.get_args(field.annotation)[0]
