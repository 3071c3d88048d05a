"""The results database: measurements, candidates, verdicts, attempts and applied edits.

Device calibrations live per machine (engine.calibrations, written by `kernelwright calibrate`), not
here; the `calibrations` table of migration 0002 is unused and stays only because migrations are never
rewritten."""

from kernelwright.store.database import StoreError
from kernelwright.store.keys import MeasurementKey, site_source_hash
from kernelwright.store.records import AppliedEdit, AttemptRecord, AttemptStatus, StoredMeasurement
from kernelwright.store.store import Store, store_path, workspace_root

__all__ = [
    "AppliedEdit",
    "AttemptRecord",
    "AttemptStatus",
    "MeasurementKey",
    "Store",
    "StoreError",
    "StoredMeasurement",
    "site_source_hash",
    "store_path",
    "workspace_root",
]
