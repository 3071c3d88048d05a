"""What a stored result is keyed by: the code measured, the device, and the library versions.

A measurement answers a later lookup only when all three match: the same source (docs/PITFALLS.md 21:
baselines belong to one device and one software stack), so a changed file, another GPU or a torch upgrade
is measured afresh rather than answered with a stale number.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kernelwright.core.measure import DeviceInfo, Measurement, Versions


def site_source_hash(site_source: str, file_text: str) -> str:
    """sha256 of the site's own text plus its file.

    The whole file is the site's context on purpose: input factories, helpers, constants and imports
    elsewhere in it change what the site computes and how fast. This errs towards re-measuring.
    """
    digest = hashlib.sha256()
    digest.update(site_source.encode())
    digest.update(b"\0")
    digest.update(file_text.encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class MeasurementKey:
    source_hash: str
    device: str  # DeviceInfo.label: the GPU's name, or "CPU (model)"
    torch: str = ""
    triton: str = ""
    cuda: str = ""

    @staticmethod
    def of(source_hash: str, device: DeviceInfo, versions: Versions) -> MeasurementKey:
        return MeasurementKey(
            source_hash,
            device.label,
            versions.torch or "",
            versions.triton or "",
            versions.cuda or "",
        )

    @staticmethod
    def of_measurement(measurement: Measurement) -> MeasurementKey:
        return MeasurementKey.of(measurement.source_hash, measurement.device, measurement.versions)
