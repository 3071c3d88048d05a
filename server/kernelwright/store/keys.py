"""What a stored result is keyed by: the code measured, the device, and the library versions.

The code is named by its content key, `core.measure.content_key` of the whole file as the worker ran it:
the harness writes it into every Measurement (the harness may import only `core`, so the key lives there),
the optimize loop keys its attempts by it, and the editor compares the code it has now with it. A row is
written with the device and the versions beside it (docs/PITFALLS.md 21: baselines belong to one device
and one software stack).

Measurements have always carried this form. Attempts recorded by an older kernelwright carry another
(their site's text and its file hashed together); nothing looks an attempt up by its hash, so they stay
as history. Any row under another form simply does not match the code as it is: the editor shows it as
stale and the next profile measures afresh. A missed match costs one re-measure, never a wrong number,
so the store converts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernelwright.core.measure import Measurement


@dataclass(frozen=True)
class MeasurementKey:
    """The columns a measurement row is keyed by."""

    source_hash: str  # content_key of the source measured
    device: str  # DeviceInfo.label: the GPU's name, or "CPU (model)"
    torch: str = ""
    triton: str = ""
    cuda: str = ""

    @staticmethod
    def of(measurement: Measurement) -> MeasurementKey:
        versions = measurement.versions
        return MeasurementKey(
            measurement.source_hash,
            measurement.device.label,
            versions.torch or "",
            versions.triton or "",
            versions.cuda or "",
        )
