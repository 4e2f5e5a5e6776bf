"""`stream-scorer model publish | list | promote | rollback | show | train`: manage a store."""

import argparse
import sys
from pathlib import Path
from typing import Any, TypeVar

from stream_scorer.cli.commands import model_show, train
from stream_scorer.cli.commands.model_kind import KINDS, kind_of
from stream_scorer.cli.commands.options import (
    NOT_CURRENT,
    add_store_options,
    advance_current,
    json_object,
    parse_schema,
    store_of,
)
from stream_scorer.config import load_config
from stream_scorer.config.model_settings import (
    DEFAULT_MAPPED_ABOVE_MB,
    OnnxModelConfig,
    TreesModelConfig,
)
from stream_scorer.config.paths import command_line_path
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.contract.family_info import FamilyInfo
from stream_scorer.contract.manifest import Manifest
from stream_scorer.errors import ConfigError, ModelRejectedError, ModelStoreError, ScorerError
from stream_scorer.flavors.sklearn.fitted_types import FittedTypes, fitted_types
from stream_scorer.flavors.sklearn.formats import format_of, load_model_bytes
from stream_scorer.versions.baseline import read_reference
from stream_scorer.versions.publish import TREE_KINDS, publish_onnx, publish_sklearn, publish_trees
from stream_scorer.versions.store import ModelStore


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `model` sub-command and its `publish`, `list`, `promote`, `rollback`, `show`
    and `train` actions."""
    p = subparsers.add_parser("model", help="publish, list, promote or roll back model versions")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    pub = actions.add_parser(
        "publish",
        help="store a model file as a new version and make it CURRENT",
        description="Verify a model (scikit-learn, ONNX, or an XGBoost, LightGBM or CatBoost "
        "model in its own format) against the feature schema, store it "
        "with its manifest and canary rows, then point CURRENT at it unless a concurrent "
        f"publish already made a newer version CURRENT (then exit {NOT_CURRENT}). A running "
        "scorer switches to it at the next micro-batch. Without --config or --features, the "
        "model's fitted feature names are typed by its encoders and text vectorizers, then by "
        "--canary values, else as double; the publish prints which.",
    )
    pub.add_argument(
        "model_file",
        help="model file: .joblib, .pkl, .skops, .onnx, XGBoost .json/.ubj, LightGBM text "
        "model (.txt), CatBoost .cbm",
    )
    pub.add_argument(
        "--kind",
        choices=KINDS,
        help="what the file is; default: told by its name or first bytes where that is "
        "unambiguous (.ubj xgboost, .cbm catboost, a JSON with XGBoost's 'learner', a "
        "LightGBM text model's header)",
    )
    add_store_options(pub, with_config=False)
    schema = pub.add_mutually_exclusive_group()
    schema.add_argument(
        "--config",
        help="scorer YAML config: features.schema is the signature; its model.store is the "
        "store unless --store names one",
    )
    schema.add_argument("--features", help="feature schema, e.g. 'f0:double,f1:double'")
    pub.add_argument("--canary", help="JSON-lines file of canary input rows (default: synthetic)")
    pub.add_argument(
        "--baseline",
        metavar="DATA",
        help="Parquet or CSV of reference (e.g. training) rows: stored with the version as "
        "its baseline (per feature bins, null rates, the model's predictions on them), which "
        "the scorer's monitoring compares the stream with",
    )
    pub.add_argument(
        "--no-promote",
        action="store_true",
        help="leave CURRENT as it is: the version is a challenger (model.shadow: latest)",
    )
    pub.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="MODULE.NAME",
        help="admit this global beyond the allowlist (e.g. a class of your own); repeatable; "
        "adds to the config's model.trusted_types",
    )
    pub.add_argument(
        "--trust-all",
        action="store_true",
        help="load with no allowlist, so any code in the file runs: only for a file you vouch "
        "for (recorded in the manifest)",
    )
    pub.add_argument(
        "--force",
        action="store_true",
        help="store the file even if a version already holds the same artefact (sha256)",
    )
    pub.add_argument(
        "--classes",
        help="classifier labels in score order, e.g. 'cat,dog' (else the config's): ONNX, and "
        "boosters whose file records none (default 0, 1, ...)",
    )
    pub.set_defaults(func=_guarded(publish))

    lst = actions.add_parser("list", help="list the versions of a model store")
    add_store_options(lst)
    lst.set_defaults(func=_guarded(list_versions))
    model_show.register(actions)
    train.register(actions)

    promote = actions.add_parser(
        "promote", help="point CURRENT at VERSION, older or newer than the current one"
    )
    promote.add_argument("version", metavar="VERSION", help="version to serve, e.g. v0002")
    add_store_options(promote)
    promote.set_defaults(func=_guarded(promote_version))

    back = actions.add_parser(
        "rollback", help="point CURRENT at the previous valid version (or --to one)"
    )
    add_store_options(back)
    back.add_argument("--to", metavar="VERSION", help="version to serve, e.g. v0002")
    back.set_defaults(func=_guarded(rollback))


def publish(args: argparse.Namespace) -> int:
    """Publish `args.model_file`; print its manifest summary and the new CURRENT.

    With `--no-promote` the version is stored and CURRENT is left alone (a challenger).
    """
    store = store_of(args)
    previous = store.current_version()
    kind = args.kind or kind_of(args.model_file)
    args.baseline_rows = read_reference(command_line_path(args.baseline)) if args.baseline else None
    if kind == "onnx":
        manifest = _publish_onnx(store, args)
    elif kind in TREE_KINDS:
        manifest = _publish_trees(store, kind, args)
    else:
        manifest = _publish_pickled(store, args)
    print(_summary(manifest))
    if args.no_promote:
        print(
            f"CURRENT stays {previous or 'unset'}; "
            f"`stream-scorer model promote {manifest.version}` would serve this one"
        )
        return 0
    return advance_current(store, manifest.version, previous)


def _publish_pickled(store: ModelStore, args: argparse.Namespace) -> Manifest:
    """Store a joblib, pickle or skops file, typed by --config, --features or its fit (then
    the typing is printed: what the model or canary rows told, and what was assumed)."""
    trusted, unsafe = list(args.trust), args.trust_all
    mapped_above_mb = DEFAULT_MAPPED_ABOVE_MB
    canary = _read_canary(Path(args.canary)) if args.canary else None
    if args.config:
        config = load_config(args.config)
        feature_types = dict(config.features.feature_schema)
        trusted = [*config.model.trusted_types, *trusted]
        unsafe = unsafe or config.model.unsafe_load
        mapped_above_mb = config.model.mapped_above_mb
    elif args.features:
        feature_types = parse_schema(args.features)
    else:
        fitted = _fitted_feature_types(Path(args.model_file), trusted, unsafe, canary)
        print(fitted.describe())
        feature_types = dict(fitted.types)
    return publish_sklearn(
        store,
        args.model_file,
        feature_types,
        canary,
        trusted,
        unsafe,
        advance=False,
        force=args.force,
        mapped_above_bytes=mapped_above_mb * 2**20,
        baseline=args.baseline_rows,
    )


def list_versions(args: argparse.Namespace) -> int:
    """Print one row per version; `*` marks CURRENT."""
    store = store_of(args)
    versions = store.versions()
    if not versions:
        print(f"no versions in {store.location}")
        return 0
    current = store.current_version()
    print(f"  {'VERSION':<8} {'CREATED (UTC)':<25} {'TASK':<10} {'SHA256':<12}  ESTIMATOR")
    for version in versions:
        mark = "*" if version == current else " "
        try:
            m = store.manifest(version)
        except ModelStoreError:
            print(f"{mark} {version:<8} (manifest unreadable)")
            continue
        family = FamilyInfo.of(m)
        estimator = m.estimator + (f" per key: {family.summary()}" if family else "")
        print(f"{mark} {version:<8} {m.created_at:<25} {m.task:<10} {m.sha256[:12]}  {estimator}")
    return 0


def promote_version(args: argparse.Namespace) -> int:
    """Point CURRENT at `args.version` if it is valid; print the switch."""
    return _switch(store_of(args), args.version)


def rollback(args: argparse.Namespace) -> int:
    """Point CURRENT at `--to` or at the previous valid version; print the switch."""
    store = store_of(args)
    if args.to:
        return _switch(store, args.to)
    previous = store.current_version()
    print(f"CURRENT -> {store.rollback()} (was {previous or 'none'})")
    return 0


def _switch(store: ModelStore, version: str) -> int:
    """Point CURRENT at a valid `version`; print the switch."""
    previous = store.current_version()
    if not store.is_valid(version):
        msg = f"{store.location}: {version} is missing or invalid (manifest, sha256); not switching"
        raise ModelStoreError(msg)
    store.set_current(version)
    print(f"CURRENT -> {version} (was {previous or 'none'})")
    return 0


def _guarded(command):
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ScorerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2

    return run


def _publish_onnx(store: ModelStore, args: argparse.Namespace) -> Manifest:
    """Publish an .onnx file against the config's features (or --features, JSON input)."""
    features, options = _described_by(args, "onnx", OnnxModelConfig(), "an ONNX graph")
    if args.classes:
        options = options.model_copy(update={"classes": args.classes.split(",")})
    canary = _read_canary(Path(args.canary)) if args.canary else None
    return publish_onnx(
        store, args.model_file, features, options, canary, False, args.force, args.baseline_rows
    )


def _publish_trees(store: ModelStore, kind: str, args: argparse.Namespace) -> Manifest:
    """Publish a booster file against the config's features (or --features); --classes
    that are whole numbers are labels of type long."""
    features, options = _described_by(args, "trees", TreesModelConfig(), f"a {kind} model")
    if args.classes:
        labels: list[str | int] = [
            int(c) if c.lstrip("-").isdigit() else c for c in args.classes.split(",")
        ]
        options = options.model_copy(update={"classes": labels})
    canary = _read_canary(Path(args.canary)) if args.canary else None
    return publish_trees(
        store,
        args.model_file,
        kind,
        features,
        options,
        canary,
        False,
        args.force,
        args.baseline_rows,
    )


_Options = TypeVar("_Options", OnnxModelConfig, TreesModelConfig)


def _described_by(
    args: argparse.Namespace, section: str, default: _Options, what: str
) -> tuple[FeaturesConfig, _Options]:
    """The features and `model.<section>` options of --config, or --features (JSON input)
    and `default` options."""
    if args.config:
        config = load_config(args.config)
        return config.features, getattr(config.model, section)
    if args.features:
        return FeaturesConfig(schema=parse_schema(args.features)), default
    msg = f"{args.model_file}: {what} needs --config (or --features for JSON input)"
    raise ConfigError(msg)


def _fitted_feature_types(
    path: Path, trusted: list[str], unsafe: bool, canary: list[dict[str, Any]] | None
) -> FittedTypes:
    """Feature names the model was fitted with, typed as `fitted_types` tells."""
    try:
        model = load_model_bytes(path.read_bytes(), format_of(path), trusted, unsafe)
    except OSError as exc:
        msg = f"{path}: cannot read model file: {exc.strerror}"
        raise ModelStoreError(msg) from exc
    except ScorerError:
        raise
    except Exception as exc:
        msg = f"{path}: cannot load the model: {exc!r}"
        raise ModelRejectedError(msg) from exc
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        msg = f"{path}: the model has no feature_names_in_; give --config or --features"
        raise ConfigError(msg)
    return fitted_types(model, names, canary)


def _read_canary(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        msg = f"{path}: cannot read canary rows: {exc.strerror}"
        raise ConfigError(msg) from exc
    expected = "one JSON object of feature values per line"
    return [
        json_object(line, f"{path}:{number}", expected)
        for number, line in enumerate(lines, start=1)
        if line.strip()
    ]


def _summary(m: Manifest) -> str:
    features = ", ".join(f"{n}:{m.feature_types[n]}" for n in m.feature_names)
    features = features or m.input_signature
    lines = [
        f"published {m.version}: {m.task} {m.estimator} ({m.format}, sha256 {m.sha256[:12]})",
        f"  features: {features}",
        f"  predicts: {m.prediction_type}" + (f", classes {m.classes}" if m.classes else ""),
        f"  canary: {len(m.canary.rows)} rows -> {m.canary.predictions}",
        f"  baseline: {'stored' if m.extra.get('baseline') else 'none'}",
        f"  libraries: {', '.join(f'{k} {v}' for k, v in sorted(m.library_versions.items()))}",
    ]
    if m.trees is not None:
        cats = ", ".join(f"{n} ({len(c) or 'hashed'})" for n, c in m.trees.categories.items())
        lines.append(
            f"  booster: {m.trees.library} objective {m.trees.objective}, "
            f"{m.trees.threads} thread(s), categorical: {cats or 'none'}"
        )
    if m.unsafe_load:
        lines.append("  trusted: every global (--trust-all): any code in it runs when loaded")
    elif m.trusted_types:
        lines.append(f"  trusted: {', '.join(m.trusted_types)}")
    return "\n".join(lines)
