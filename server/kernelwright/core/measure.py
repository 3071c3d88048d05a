"""What the harness reports: devices, timings, rooflines, line costs, measurements, verdicts, calibrations.

Frozen values that round-trip through `core.jsonable`. Times are microseconds, sizes bytes, rates per
second. Every timing names the device and method that produced it: a CPU figure is never a GPU one.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field

from kernelwright.core.jsonable import JsonValue, renamed_from, to_json
from kernelwright.core.protocol import ErrorCode


class DeviceKind(enum.StrEnum):
    CPU = "cpu"
    CUDA = "cuda"


@dataclass(frozen=True)
class DeviceInfo:
    name: str  # "NVIDIA H100 80GB HBM3", or the CPU's model name
    kind: DeviceKind
    index: int | None = None  # CUDA ordinal
    sm_count: int | None = None
    memory_bytes: int | None = None
    free_memory_bytes: int | None = None
    l2_bytes: int | None = None
    compute_capability: str | None = None  # "9.0"
    sm_clock_mhz: int | None = None  # max SM clock, where readable
    memory_clock_mhz: int | None = None

    @property
    def label(self) -> str:
        return self.name if self.kind is DeviceKind.CUDA else f"CPU ({self.name})"


@dataclass(frozen=True)
class Versions:
    python: str
    torch: str | None = None
    triton: str | None = None
    cuda: str | None = None  # the CUDA runtime torch was built with
    driver: str | None = None


class TimingMethod(enum.StrEnum):
    CUDA_EVENTS = "cuda_events"  # events around each call, L2 flushed, synchronised between calls
    CPU_PERF_COUNTER = "cpu_perf_counter"  # time.perf_counter around each call on the CPU
    NOT_TIMED = "not_timed"  # ran for correctness only (the Triton interpreter)


@dataclass(frozen=True)
class TimingStats:
    median_us: float
    p10_us: float
    p90_us: float
    mean_us: float
    min_us: float
    max_us: float
    repeats: int
    method: TimingMethod
    # Host wall time per call around a full synchronise: the cross-check against device events.
    host_median_us: float | None = None
    l2_flushed: bool = False
    l2_not_reset: str = ""  # why persisting L2 was not released before each flush ("" when it was)
    l2_set_aside_removed: int = 0  # bytes of L2 the timed code set aside for persisting lines (given back)
    input_sets: int = 1  # distinct input sets rotated through the timed calls
    host_late: int = 0  # CUDA calls dropped: the host was still enqueueing when the GPU reached them
    inference_mode: bool = True

    @property
    def spread(self) -> float:
        """(p90 - p10) / median: the relative spread."""
        return (self.p90_us - self.p10_us) / self.median_us if self.median_us > 0 else 0.0


class Bound(enum.StrEnum):
    MEMORY = "memory"
    COMPUTE = "compute"


class PeakSource(enum.StrEnum):
    TABLE = "table"  # the datasheet table in harness/roofline.py
    CALIBRATED = "calibrated"  # measured by `kernelwright calibrate` on this device


@dataclass(frozen=True)
class Roofline:
    bytes: int  # inputs read once + outputs written once
    flops: int | None  # None where unknown (CUDA kernels): the floor is then the memory floor
    floor_us: float  # the time the device's peaks allow at best
    fraction: float  # floor_us / measured median: 1.0 is at the roof
    bound: Bound
    peak_bandwidth: float  # bytes/s
    peak_flops: float | None  # flop/s for `dtype`
    source: PeakSource
    dtype: str | None = None  # the dtype whose compute peak applies


@dataclass(frozen=True)
class KernelTime:
    name: str
    time_us: float  # total over one call of the site
    calls: int  # launches per call of the site


@dataclass(frozen=True)
class LineCost:
    line: int  # 0-based, in the person's file
    share: float  # of the site's device (or CPU) time, 0..1
    time_us: float
    kernels: tuple[str, ...] = ()


@dataclass(frozen=True)
class KernelMetrics:
    """Nsight Compute metrics of one kernel: throughputs in percent of peak, occupancy, top stalls."""

    kernel: str
    metrics: dict[str, float] = field(default_factory=dict)
    stalls: tuple[str, ...] = ()  # top stall reasons, largest first


class BaselineKind(enum.StrEnum):
    EAGER = "eager"  # the reference as written
    COMPILE = "compile"  # torch.compile of the reference


@dataclass(frozen=True)
class Baseline:
    kind: BaselineKind
    timing: TimingStats | None
    ratio: float | None  # baseline median / measured median: > 1 means the measured code is faster
    error: str | None = None  # why it could not be timed (torch.compile failed, ...)


def content_key(source: str) -> str:
    """The content key: sha256 of the source text a result was taken over, the whole module as the
    worker ran it (a person's file, a candidate's text).

    The one form of `Measurement.source_hash`, of a candidate's and of an attempt's: the harness writes
    it, the store keys its rows by it (store/keys.py) and the editor compares the code it has now with it.
    The whole file is the context on purpose: input factories, helpers, constants and imports elsewhere
    in it change what a site computes and how fast, so any change to the file errs towards re-measuring.
    """
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Measurement:
    symbol: str
    source_hash: str  # content_key of the source text measured
    device: DeviceInfo
    timing: TimingStats
    versions: Versions
    created_at: float  # unix time
    problem_size: str  # "x: float32[4096, 4096]; w: float32[4096]" (what was fed in)
    roofline: Roofline | None = None
    baselines: tuple[Baseline, ...] = ()
    kernels: tuple[KernelTime, ...] = ()
    line_costs: tuple[LineCost, ...] = ()
    kernel_metrics: tuple[KernelMetrics, ...] = ()
    notes: tuple[str, ...] = ()  # "not timed (Triton interpreter)", "ncu not available", ...
    # Wall seconds per job phase (load, timing, roofline, ...), exclusive: they sum to the job's time.
    phase_seconds: dict[str, float] = field(default_factory=dict, metadata=renamed_from("stage_seconds"))

    def to_json(self) -> JsonValue:
        return to_json(self)


class CheckName(enum.StrEnum):
    """Each verification check; a rejection names the one that failed."""

    LOAD = "load"  # the source runs as a module and defines the expected symbol
    COMPILE = "compile"  # CUDA / load_inline builds
    RUN = "run"  # the call raises
    MEMORY = "memory"  # the problem does not fit on this device
    NO_GPU = "no_gpu"  # the problem needs a GPU this machine lacks
    MACHINE = "machine"  # the candidate's build needs what this machine lacks (a CUDA toolkit, a compiler)
    PROBLEM = "problem"  # the reference itself cannot be used (no outputs, null outputs pass, ...)
    STRUCTURE = "structure"  # number / nesting of outputs
    LAZY_OUTPUT = "lazy_output"  # outputs must be plain torch.Tensor
    SHAPE = "shape"
    DTYPE = "dtype"
    DEVICE = "device"  # outputs on another device than the inputs
    VALUE = "value"  # elementwise tolerance
    ERROR_NORM = "error_norm"  # relative error norm (catches zeros where outputs are tiny)
    UNWRITTEN = "unwritten"  # NaN poison survived in the output: elements never written
    OTHER_SHAPES = "other_shapes"  # wrong or failing on the directive's `shapes=` inputs (other shapes)
    REPLAY = "replay"  # the same buffers refilled with new values gave stale results
    INPUT_MUTATION = "input_mutation"
    PRECISION = "precision"  # error far above the reference's own error: computed in lower precision
    TAMPER = "tamper"  # timers, synchronisation or torch internals patched
    FALLBACK = "fallback"  # calls the reference (flag; rejected only where the job says so)
    TIMING = "timing"  # a clock outside the candidate's process disagrees with the times it reported
    TIMED_OUTPUT = "timed_output"  # the outputs of timed calls do not match (less work while timed)
    REPLY = "reply"  # the candidate's process sent a reply the judge did not ask for (forged, malformed)
    ROOFLINE = "roofline"  # faster than the device's peaks allow


class Flag(enum.StrEnum):
    FALLBACK = "fallback"
    NON_DETERMINISTIC = "non_deterministic"  # the reference: two runs on the same inputs differ
    CANDIDATE_NON_DETERMINISTIC = "candidate_non_deterministic"  # the candidate: the same, within tolerance
    PRECISION_DOWNGRADE = "precision_downgrade"
    SUSPICIOUS_TIMING = "suspicious_timing"
    TAMPER = "tamper"
    INTERPRETER = "interpreter"  # ran under the Triton interpreter: correctness only
    CPU_ONLY = "cpu_only"  # verified on the CPU, not on a GPU
    RNG_DEPENDENT = "rng_dependent"  # the reference's outputs depend on torch's random generator
    NOISE_LEVEL = "noise_level"  # the reference's output is rounding noise: compared against float64


class JobPhase(enum.StrEnum):
    """The phases of a verify or bench job whose wall time `phase_seconds` reports (keys are values)."""

    STATIC = "static"  # tamper and fallback scans of the candidate's text
    LOAD = "load"  # bench: load the site (compiles CUDA; Triton compiles on the first call)
    LOAD_REFERENCE = "load_reference"
    LOAD_CANDIDATE = "load_candidate"  # imports it; NVRTC/nvcc/load_inline builds happen here
    REFERENCE_CHECKS = "reference_checks"  # the reference twice (determinism); Triton compiles here
    NULL_CHECK = "null_check"
    TRIALS = "trials"  # candidate and reference on fresh inputs (the candidate's first call compiles)
    POISON = "poison"  # NaN-filling free memory before each candidate call
    PRECISION = "precision"  # the float64 reference and the comparison with it
    REFILL = "refill"  # the in-place refill (replay) check
    INPUTS = "inputs"  # drawing the rotated input sets
    FIRST_CALL = "first_call"
    TIMING = "timing"  # the measured code's timed calls (the candidate's, in a verify job)
    TIMING_REFERENCE = "timing_reference"  # the reference timed in the same run (eager baseline)
    TIMING_CANDIDATE = "timing_candidate"  # a verify job: the candidate's blocks, seen from the judge
    TIMED_OUTPUT_CHECK = "timed_output_check"  # sampled outputs of each candidate block, compared
    TIMING_COMPILE = "timing_compile"  # the torch.compile baseline
    ROOFLINE = "roofline"  # bytes moved and the flop count
    PROFILE = "profile"  # per-line costs
    NCU = "ncu"


@dataclass(frozen=True)
class SpeedupEstimate:
    """The reference's time over the candidate's, from interleaved blocks timed in one run.

    `ratio` is the geometric mean of the per-block ratios of medians, [low, high] its 95% interval (a
    t-interval over the blocks, widened to at least `floor` either side in log terms: what two processes
    running the same code differ by on their own)."""

    ratio: float
    low: float
    high: float
    blocks: int
    calls_per_block: int
    floor: float = 0.0

    def clears(self, threshold: float) -> bool:
        """Whether the whole interval lies at or above `threshold`: only then is a speedup claimed."""
        return self.low >= threshold

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Verdict:
    passed: bool
    check: CheckName | None  # the failed check; None when passed
    message: str  # names the check and the numbers (or "passed N trials on DEVICE")
    flags: tuple[Flag, ...] = ()
    details: dict[str, float] = field(default_factory=dict)  # max_abs_err, rel_err_norm, atol, trial, ...
    device: DeviceInfo | None = None
    trials: int = 0
    measurement: Measurement | None = None  # the candidate's, when timed
    reference_measurement: Measurement | None = None  # the reference's, timed in the same run
    speedup: SpeedupEstimate | None = None  # from the interleaved run, when timed
    traceback_tail: str | None = None  # for LOAD / RUN / COMPILE
    line: int | None = None  # 0-based line of the error in the candidate's file, where known
    notes: tuple[str, ...] = ()
    # Set when a worker died instead of answering (a crash, a time-out, out of memory, a CUDA fault):
    # the candidate's own worker, or the judge's while it ran the reference.
    worker_error: ErrorCode | None = None
    # Wall seconds per phase of verify (and of the timing after it), exclusive: see harness.timing.PhaseClock.
    phase_seconds: dict[str, float] = field(default_factory=dict, metadata=renamed_from("stage_seconds"))

    def to_json(self) -> JsonValue:
        return to_json(self)


class ErrorStage(enum.StrEnum):
    """Where a bench stopped."""

    JOB = "job"  # the job itself is malformed
    LOAD = "load"
    COMPILE = "compile"
    INPUTS = "inputs"
    RUN = "run"
    MEMORY = "memory"
    NO_GPU = "no_gpu"
    REFUSED = "refused"  # e.g. Triton under the interpreter without cpu_inputs
    TIMING = "timing"


@dataclass(frozen=True)
class BenchFailure:
    stage: ErrorStage
    message: str  # cause and fix
    traceback_tail: str | None = None
    log: str | None = None  # compiler log
    line: int | None = None  # 0-based line in the person's file, where known


@dataclass(frozen=True)
class BenchReply:
    """The answer to a bench job: a measurement, or why there is none."""

    measurement: Measurement | None = None
    failure: BenchFailure | None = None


@dataclass(frozen=True)
class Calibration:
    device_name: str
    bandwidth_bytes_per_s: float  # device-to-device copy, bytes read + written
    matmul_flops_per_s: dict[str, float]  # by dtype name: "bfloat16", "float16", "float32"
    measured_at: float  # unix time


@dataclass(frozen=True)
class CalibrateReply:
    calibration: Calibration | None = None
    failure: BenchFailure | None = None


@dataclass(frozen=True)
class PingReply:
    device: DeviceInfo
    versions: Versions
    devices: tuple[DeviceInfo, ...] = ()  # every CUDA device this worker can see
    nvcc: str | None = None  # path of nvcc, if found
    ncu: str | None = None  # path of ncu, if found
