"""Results that survive restarts: each workspace root's store (<root>/.kernelwright/results.sqlite3).

The server writes every measurement it takes, and reads a site's last two measurements (for its lens
and for regressions) the first time a document with that site opens.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from kernelwright.core.measure import Measurement
from kernelwright.lsp.results import Results, SiteKey, SiteRecord, comparable
from kernelwright.lsp.roots import root_for

if TYPE_CHECKING:
    from kernelwright.store import AttemptRecord, Store, StoredMeasurement

log = logging.getLogger("kernelwright.lsp.store")


class Stores:
    def __init__(self) -> None:
        self._open: dict[Path, Store] = {}
        self.roots: list[Path] = []
        self.messages: list[str] = []  # recoveries and failures, for the client's log

    def root_for(self, path: Path) -> Path:
        return root_for(self.roots, path)

    def for_path(self, path: Path) -> Store | None:
        root = self.root_for(path)
        store = self._open.get(root)
        if store is None:
            # Imported at the first open document: start-up does not pay for sqlite.
            from kernelwright.store import Store, StoreError

            try:
                store = Store.for_workspace(root)
            except (StoreError, OSError) as exc:
                self.messages.append(
                    f"results store under {root} cannot be opened ({exc}); results are kept in memory"
                )
                return None
            if store.message:
                self.messages.append(store.message)
            self._open[root] = store
        return store

    def save(self, key: SiteKey, measurement: Measurement) -> None:
        from kernelwright.store import StoreError

        store = self.for_path(key.path)
        if store is None:
            return
        try:
            store.record_measurement(str(key.path), measurement)
        except StoreError as exc:
            self.messages.append(f"could not save the measurement of {key.name}: {exc}")

    def history(self, key: SiteKey, limit: int = 50) -> list[StoredMeasurement]:
        store = self.for_path(key.path)
        return store.history(str(key.path), key.name, limit) if store is not None else []

    def attempts(self, key: SiteKey) -> list[AttemptRecord]:
        """The site's optimize runs, newest first."""
        store = self.for_path(key.path)
        return store.attempts(str(key.path), key.name) if store is not None else []

    def load_into(self, results: Results, key: SiteKey) -> None:
        """Fill a site's record from the store, unless this session already has one."""
        if results.known(key):
            return
        found = self.history(key, limit=2)
        if not found:
            return
        latest = found[0].measurement
        previous = comparable(latest, found[1].measurement) if len(found) > 1 else None
        results.put(key, SiteRecord(measurement=latest, previous=previous))

    def forget(self, path: Path | None) -> int:
        stores = [self.for_path(path)] if path is not None else list(self._open.values())
        total = 0
        for store in stores:
            if store is not None:
                total += store.forget(str(path) if path is not None else None)
        return total

    def take_messages(self) -> list[str]:
        taken, self.messages = self.messages, []
        return taken

    def close(self) -> None:
        for store in self._open.values():
            store.close()
        self._open.clear()
