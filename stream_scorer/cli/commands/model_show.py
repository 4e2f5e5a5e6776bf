"""`stream-scorer model show VERSION`: one version's manifest; a family's keys and metrics."""

import argparse

from stream_scorer.cli.commands.options import add_store_options, store_of
from stream_scorer.contract.family_info import FamilyInfo
from stream_scorer.contract.manifest import Manifest


def register(actions: argparse._SubParsersAction) -> None:
    """Add the `show` action to the `model` sub-command."""
    p = actions.add_parser(
        "show",
        help="describe one version; for a family, list its keys and their metrics",
    )
    p.add_argument("version", nargs="?", help="e.g. v0003 (default: CURRENT)")
    add_store_options(p)
    p.set_defaults(func=show)


def show(args: argparse.Namespace) -> int:
    """Print the version's description, then a family's keys, fallback and skipped keys."""
    store = store_of(args)
    manifest = store.manifest(args.version or store.current_version() or "none")
    print(describe(manifest))
    info = FamilyInfo.of(manifest)
    if info is not None:
        print(family_table(info))
    return 0


def describe(m: Manifest) -> str:
    """The version's kind, task, estimator, artefact, features and origin, one per line."""
    features = ", ".join(f"{n}:{m.feature_types[n]}" for n in m.feature_names)
    classes = f", classes {m.classes}" if m.classes else ""
    return "\n".join(
        [
            f"{m.version}: {m.kind} {m.task} {m.estimator}, predicts {m.prediction_type}{classes}",
            f"  artefact: {m.file} ({m.format}), sha256 {m.sha256}",
            f"  features: {features}",
            f"  created:  {m.created_at}; canary rows: {len(m.canary.rows)}",
        ]
    )


def family_table(info: FamilyInfo) -> str:
    """The family's training recipe, then one line per key, the fallback, the skipped keys."""
    lines = [
        f"  family:   {info.summary()}; key column {info.key_column!r}, target "
        f"{info.target!r}, {info.estimator}({info.params}), min rows {info.min_rows}",
        "  score:    the estimator's score() (R² for a regressor, accuracy for a classifier) on"
        " each key's own training rows, not on held-out data",
        f"  {'KEY':<24} {'ROWS':>8} {'SCORE':>8} {'FIT S':>8}  SHA256",
    ]
    entries = list(info.keys.items()) + ([("(fallback)", info.fallback)] if info.fallback else [])
    for key, stats in entries:
        score = "-" if stats.score is None else f"{stats.score:.4f}"
        lines.append(
            f"  {key:<24} {stats.rows:>8,} {score:>8} {stats.fit_seconds:>8.3f}  "
            f"{stats.sha256[:12]}"
        )
    lines += [f"  skipped {key!r}: {reason}" for key, reason in info.skipped.items()]
    return "\n".join(lines)
