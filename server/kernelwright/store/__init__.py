"""The results database: measurements, candidates, verdicts, attempts and applied edits.

Device calibrations live per machine (engine.calibrations, written by `kernelwright calibrate`), not
here: migration 0004 drops the `calibrations` table that migration 0002 made and nothing ever used."""

from kernelwright.store.database import StoreError
from kernelwright.store.records import AppliedEdit, AttemptRecord, AttemptStatus, StoredMeasurement
from kernelwright.store.store import Store, store_path, workspace_root

__all__ = [
    "AppliedEdit",
    "AttemptRecord",
    "AttemptStatus",
    "Store",
    "StoreError",
    "StoredMeasurement",
    "store_path",
    "workspace_root",
]
