"""An Apache Iceberg table, written with `pyiceberg` through a catalog (SQL, REST...).

Each batch is one Iceberg snapshot: its data files added with `Table.add_files` (the files
the tasks wrote; their partition, the day of `scored_at`, read from their statistics), and
the application id and batch id in the snapshot's summary. A batch whose id the summary of
the latest snapshot of this application already holds is a replay and writes nothing.
"""

import logging
from collections.abc import Mapping

import pyarrow as pa
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import NoSuchTableError, TableAlreadyExistsError
from pyiceberg.table import Table
from pyiceberg.transforms import DayTransform

from stream_scorer.errors import SinkError
from stream_scorer.files import join
from stream_scorer.sinks.table import TableSink
from stream_scorer.sinks.table_files import DAY_OF, DataFile

log = logging.getLogger(__name__)

APP_ID = "stream-scorer.app-id"
"""Snapshot summary key of the application id that committed the snapshot."""
BATCH_ID = "stream-scorer.batch-id"
"""Snapshot summary key of the batch id the snapshot holds."""
DATA = "data"
"""Folder of the table's location holding the batches' files."""


class IcebergSink(TableSink[Table]):
    """Appends each batch to the Iceberg table `namespace.name` of a catalog, once per batch."""

    def __init__(
        self, catalog: Mapping[str, str], table: str, checkpoint: str, by_day: bool = True
    ) -> None:
        super().__init__(table, checkpoint, by_day)
        self.catalog_properties = dict(catalog)
        self._catalog: Catalog | None = None

    def catalog(self) -> Catalog:
        """The catalog, loaded once."""
        if self._catalog is None:
            properties = dict(self.catalog_properties)
            self._catalog = load_catalog(properties.pop("name", "default"), **properties)
        return self._catalog

    def _table(self) -> Table | None:
        try:
            return self.catalog().load_table(self.target)
        except NoSuchTableError:
            return None

    def _last_batch(self, app_id: str) -> int | None:
        table = self._table()
        snapshot = table.current_snapshot() if table is not None else None
        while snapshot is not None and table is not None:
            summary = snapshot.summary
            batch = summary.get(BATCH_ID) if summary is not None else None
            if summary is not None and summary.get(APP_ID) == app_id and batch is not None:
                return int(batch)
            parent = snapshot.parent_snapshot_id
            snapshot = table.snapshot_by_id(parent) if parent is not None else None
        return None

    def _data_folder(self) -> str | None:
        table = self._table()
        return None if table is None else join(table.location(), DATA)

    def _create(self, schema: pa.Schema) -> None:
        if self._table() is not None:
            return
        namespace = self.target.rsplit(".", 1)[0]
        try:
            self.catalog().create_namespace_if_not_exists(namespace)
            create = self.catalog().create_table_transaction(self.target, schema)
            if self._partitioned(schema):
                with create.update_spec() as spec:
                    spec.add_field(DAY_OF, DayTransform(), f"{DAY_OF}_day")
            create.commit_transaction()
        except TableAlreadyExistsError:  # another writer created it meanwhile
            return
        except (ValueError, OSError) as exc:
            msg = f"{self.describe()}: cannot create the table: {exc}"
            raise SinkError(msg) from exc

    def _evolve(self, schema: pa.Schema) -> None:
        table = self._existing()
        added = self._refuse_dropped([f.name for f in table.schema().fields], schema)
        if added:
            with table.update_schema() as update:
                update.union_by_name(pa.schema([schema.field(n) for n in added]))

    def _commit_files(
        self, files: list[DataFile], schema: pa.Schema, batch_id: int, app_id: str
    ) -> None:
        if not files:  # nothing to add: a snapshot of no files is refused
            return
        table = self._existing()
        summary = {APP_ID: app_id, BATCH_ID: str(batch_id)}
        try:
            table.add_files(
                [str(file.path) for file in files],
                snapshot_properties=summary,
                check_duplicate_files=False,
            )
        except Exception as exc:  # pyiceberg raises many kinds (commit conflict, bad files)
            msg = f"{self.describe()}: cannot commit batch {batch_id}: {exc}"
            raise SinkError(msg) from exc

    def state(self) -> dict[str, object] | None:
        """The table's current snapshot and the last batch this checkpoint committed to it."""
        table = self._table()
        snapshot = table.current_snapshot() if table is not None else None
        return {
            "table": self.target,
            "version": None if snapshot is None else snapshot.snapshot_id,
            "last_committed_batch": self.last_committed(),
        }
