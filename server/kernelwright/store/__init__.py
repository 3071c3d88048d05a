"""The results database: measurements, candidates, verdicts, attempts, calibrations and applied edits."""

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
