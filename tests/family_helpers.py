"""Test-side helpers for per-key model families: keyed training data and its records, and a
family with a hostile member."""

import dataclasses
import hashlib
import os
import pickle

import numpy as np
import pandas as pd

from stream_scorer.contract.family_info import FamilyInfo
from stream_scorer.contract.manifest import MANIFEST_FILE
from stream_scorer.flavors.family.artefact import FALLBACK_KEY, FamilyArtefact, pack
from stream_scorer.flavors.family.build import FittedKey, TrainSpec
from stream_scorer.flavors.family.members import MEMBER_FORMATS, classes_of
from stream_scorer.versions.store import ModelStore
from tests.hostile_pickle import Calls
from tests.scorer_helpers import NUMERIC

FEATURES = list(NUMERIC)


def keyed_frame(keys: int, rows_per_key: int, seed: int = 0) -> pd.DataFrame:
    """Training rows of `keys` keys 'k0000'...: `store`, f0..f3, a regression target `y`
    (its own weights per key, plus noise) and a binary `label` (y > 0)."""
    rng = np.random.default_rng(seed)
    names = [f"k{i:04d}" for i in range(keys)]
    features = rng.normal(size=(keys * rows_per_key, len(FEATURES)))
    weights = np.repeat(rng.normal(size=(keys, len(FEATURES))), rows_per_key, axis=0)
    target = (features * weights).sum(axis=1) + rng.normal(scale=0.1, size=len(features))
    frame = pd.DataFrame(features, columns=FEATURES)
    frame.insert(0, "store", np.repeat(names, rows_per_key))
    frame["y"] = target
    frame["label"] = (target > 0).astype(np.int64)
    return frame


def fit_locally(
    frame: pd.DataFrame,
    estimator: type,
    target: str = "y",
    fallback: bool = False,
    params: dict | None = None,
) -> tuple[TrainSpec, list[FittedKey], dict[str, object]]:
    """Fit one `estimator(**params)` per store of `frame` in this process, stored in the
    spec's member format, as the executors would.

    Returns the spec, the fitted keys and the models by key (FALLBACK_KEY for the fallback).
    """
    path = f"{estimator.__module__}.{estimator.__name__}"
    spec = TrainSpec("store", target, dict(NUMERIC), path, params or {}, fallback=fallback)
    fmt = spec.member_format
    groups = [(str(k), rows) for k, rows in frame.groupby("store")]
    if fallback:
        groups.append((FALLBACK_KEY, frame))
    fitted, models = [], {}
    for key, rows in groups:
        inputs = rows[FEATURES].to_numpy(dtype=np.float64)
        model = estimator(**spec.params).fit(inputs, rows[target].to_numpy())
        canary = rows[FEATURES].head(2).to_dict("records")
        payload = MEMBER_FORMATS[fmt].dump(model)
        classes = classes_of(model, fmt)
        fitted.append(FittedKey(key, payload, len(rows), 1.0, 0.01, canary, classes))
        models[key] = model
    return spec, fitted, models


def hostile_pickle(marker) -> bytes:
    """A pickle that, if ever unpickled without the allowlist, creates the file `marker`."""
    return pickle.dumps(Calls(os.system, f"touch {marker}"))


def swap_in_hostile_member(store: ModelStore, version: str, key: str, marker) -> None:
    """Replace `key`'s model in `version` by `hostile_pickle(marker)` and fix every sha256
    (the family index, the key's listing, the artefact's), as a writer of the store could."""
    manifest = store.manifest(version)
    artefact = FamilyArtefact(store.read_artifact(version))
    members = {k: artefact.member_bytes(k, m) for k, m in artefact.members.items()}
    members[key] = hostile_pickle(marker)
    fallback = artefact.fallback and artefact.member_bytes(FALLBACK_KEY, artefact.fallback)
    payload = pack(members, fallback or None)
    info = FamilyInfo.of(manifest)
    assert info is not None
    stats = dataclasses.replace(info.keys[key], sha256=hashlib.sha256(members[key]).hexdigest())
    fixed = dataclasses.replace(
        manifest,
        sha256=hashlib.sha256(payload).hexdigest(),
        extra={"family": dataclasses.replace(info, keys={**info.keys, key: stats}).to_extra()},
    )
    (store.root / version / manifest.file).write_bytes(payload)
    (store.root / version / MANIFEST_FILE).write_text(fixed.to_json())
