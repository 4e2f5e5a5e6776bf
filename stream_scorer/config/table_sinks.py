"""Settings of the table sinks: Delta Lake (`kind: delta`) and Apache Iceberg (`kind: iceberg`).

Each writes with an optional extra's package; a config naming a kind whose package is not
installed fails at start, naming the extra that installs it.
"""

import re
from importlib.util import find_spec
from typing import Literal

from pydantic import Field, field_validator, model_validator

from stream_scorer.config.base import Settings
from stream_scorer.config.paths import TableDir

TABLE_NAME = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$")
"""`namespace.name` (namespaces may nest: `a.b.name`)."""

Partitioning = Literal["day", "none"]


def _require(kind: str, module: str, extra: str) -> None:
    if find_spec(module) is None:
        msg = (
            f"kind {kind} needs the {module} package, which comes with the {extra} extra: "
            f"pip install 'stream-scorer[{extra}]'"
        )
        raise ValueError(msg)


class DeltaSinkConfig(Settings):
    """A Delta Lake table at `path`, written with deltalake (delta-rs), once per batch id."""

    kind: Literal["delta"]
    path: TableDir
    """The table's directory, local (the scoring tasks write its files); not a URL yet."""
    partition_by: Partitioning = "day"
    """`day`: a table this sink creates is partitioned by `scored_date`, the UTC date of
    `scored_at` (a column the sink adds); `none`: not partitioned."""

    @model_validator(mode="after")
    def _installed(self) -> "DeltaSinkConfig":
        _require("delta", "deltalake", "delta")
        return self


class IcebergSinkConfig(Settings):
    """An Apache Iceberg table in a catalog, written with pyiceberg, once per batch id."""

    kind: Literal["iceberg"]
    catalog: dict[str, str] = Field(min_length=1)
    """pyiceberg catalog properties, e.g. `{type: sql, uri: 'sqlite:///cat.db', warehouse:
    'file:///data/wh'}` or `{type: rest, uri: 'http://host:8181'}`."""
    table: str
    """`namespace.name`; the namespace and the table are created on first write."""
    partition_by: Partitioning = "day"
    """`day`: a table this sink creates is partitioned by day(`scored_at`); `none`: not."""

    @field_validator("catalog", mode="before")
    @classmethod
    def _text(cls, catalog: object) -> object:
        return {k: str(v) for k, v in catalog.items()} if isinstance(catalog, dict) else catalog

    @field_validator("catalog")
    @classmethod
    def _catalog_kind(cls, catalog: dict[str, str]) -> dict[str, str]:
        if "type" not in catalog and "uri" not in catalog:
            msg = "catalog properties with a `type` (sql, rest...) or a `uri`"
            raise ValueError(msg)
        if catalog.get("type") == "sql" and not catalog.get("uri"):
            msg = "a sql catalog with its database `uri`, e.g. sqlite:////data/catalog.db"
            raise ValueError(msg)
        return catalog

    @field_validator("table")
    @classmethod
    def _table_name(cls, table: str) -> str:
        if not TABLE_NAME.match(table):
            msg = "a table name `namespace.name`, e.g. scoring.predictions"
            raise ValueError(msg)
        return table

    @model_validator(mode="after")
    def _installed(self) -> "IcebergSinkConfig":
        _require("iceberg", "pyiceberg", "iceberg")
        if self.catalog.get("type") == "sql":
            _require("iceberg with a sql catalog", "sqlalchemy", "iceberg")
        return self
