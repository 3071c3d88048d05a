"""Pure pieces of the harness, in-process: comparison, static tamper and fallback scans, roofline table,
timing statistics, job round-trips. (These import the harness alone; candidates run in subprocesses.)"""

from __future__ import annotations

import json

import pytest
import torch
from kernelwright.core.jobs import (
    BenchJob,
    CandidateRef,
    ProblemRef,
    VerifyJob,
    candidate_symbol,
    check_device,
)
from kernelwright.core.jsonable import from_json, to_json
from kernelwright.core.measure import CheckName, DeviceInfo, DeviceKind, TimingMethod
from kernelwright.core.site import FunctionSpec, ModuleSpec, SiteKind
from kernelwright.harness.compare import as_exact_as_reference, compare
from kernelwright.harness.cuda_build import first_error_line
from kernelwright.harness.roofline import beyond_roof, compute_dtype, count_flops, roofline, table_peaks
from kernelwright.harness.tamper import static_fallback, static_tamper
from kernelwright.harness.timing import summarize, suspicious


def test_zeros_pass_elementwise_but_fail_the_norm() -> None:
    ref = torch.full((1000,), 3e-5)
    m = compare(torch.zeros(1000), ref, None, None)
    assert m is not None and m.check is CheckName.ERROR_NORM


def test_compare_names_shape_dtype_structure_nan_and_subclass() -> None:
    ref = torch.ones(4, 4)
    checks = {
        "shape": compare(torch.ones(4, 5), ref, None, None),
        "dtype": compare(torch.ones(4, 4, dtype=torch.float64), ref, None, None),
        "structure": compare((ref, ref), ref, None, None),
        "unwritten": compare(torch.where(torch.eye(4) > 0, torch.nan, 1.0), ref, None, None),
        "value": compare(ref * 1.1, ref, None, None),
    }
    for name, m in checks.items():
        assert m is not None and m.check.value == name

    class Lazy(torch.Tensor):
        pass

    m = compare(ref.clone().as_subclass(Lazy), ref, None, None)
    assert m is not None and m.check is CheckName.LAZY_OUTPUT
    assert compare(ref + 1e-6, ref, None, None) is None
    assert compare(torch.tensor([1, 2]), torch.tensor([1, 3]), None, None) is not None


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        ("import time\ntime.perf_counter = lambda: 0\n", "timer-patch"),
        ("from time import perf_counter\nimport time as t\nt.perf_counter = None\n", "timer-patch"),
        ("import torch\ntorch.cuda.synchronize = lambda: None\n", "sync-patch"),
        ("import torch\nsetattr(torch.cuda, 'synchronize', print)\n", "sync-patch"),
        ("import statistics\nstatistics.median = min\n", "statistics-patch"),
        ("import torch\ntorch.Tensor.clone = lambda s: s\n", "tensor-patch"),
        ("import torch\ntorch.allclose = lambda *a, **k: True\n", "checker-patch"),
    ],
)
def test_static_tamper_rules(source: str, rule: str) -> None:
    hits = static_tamper(source)
    assert [h.rule for h in hits] == [rule]
    assert hits[0].rationale


def test_static_tamper_ignores_ordinary_code() -> None:
    src = "import time\nimport torch\nstart = time.perf_counter()\nx = torch.zeros(3)\nx.data = x\n"
    assert static_tamper(src) == []


def test_static_fallback() -> None:
    src = "from ref import f as g\ndef f(x):\n    try:\n        return k(x)\n    except Exception:\n        return g(x)\n"
    hits = static_fallback(src, {"f"}, own="f")
    assert hits and hits[0].line == 0
    assert static_fallback("def f(x):\n    return f(x - 1) if x else 0\n", {"f"}, own="f") == []
    assert static_fallback(
        "class ModelNew:\n    def forward(self, x):\n        return Model()(x)\n", {"Model"}, own="ModelNew"
    )


def test_roofline_table_and_floor() -> None:
    assert table_peaks("NVIDIA H100 80GB HBM3") is not None
    assert table_peaks("NVIDIA H100 PCIe").bandwidth == 2.0e12  # type: ignore[union-attr]
    assert table_peaks("NVIDIA A100-SXM4-80GB").bandwidth == 2.039e12  # type: ignore[union-attr]
    assert table_peaks("Some Unknown GPU") is None
    info = DeviceInfo("NVIDIA H100 80GB HBM3", DeviceKind.CUDA, 0)
    r = roofline(3_350_000, None, "float32", 2.0, info, None)  # 1 µs floor at 3.35 TB/s
    assert r is not None and abs(r.floor_us - 1.0) < 1e-9 and abs(r.fraction - 0.5) < 1e-9
    assert beyond_roof(r) is None
    too_fast = roofline(3_350_000, None, "float32", 0.5, info, None)
    assert beyond_roof(too_fast) is not None


def test_float32_convolutions_are_bounded_by_the_tf32_peak_where_cudnn_takes_them() -> None:
    # cuDNN runs float32 convolutions as TF32 by default: against the float32 peak, an H200 ran the
    # reference of samples/suite/conv2d_bias_relu.py "1.81x faster than the floor" and it was rejected.
    x, w = torch.randn(1, 4, 16, 16), torch.randn(8, 4, 3, 3)
    conv = count_flops(lambda: torch.nn.functional.conv2d(x, w))
    assert conv is not None and conv.conv == conv.total > 0
    mm = count_flops(lambda: x.flatten(1) @ torch.randn(1024, 8))
    assert mm is not None and mm.conv == 0
    flags = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    try:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = True, False
        assert compute_dtype((x, w), conv) == "tf32"
        assert compute_dtype((x,), mm) == "float32"
        torch.backends.cudnn.allow_tf32 = False
        assert compute_dtype((x, w), conv) == "float32"
        assert compute_dtype((x.half(),), conv) == "float16"
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = flags


def test_timing_summary_and_side_stream_detection() -> None:
    s = summarize([10.0] * 9 + [100.0], TimingMethod.CUDA_EVENTS, [200.0] * 10)
    assert s.median_us == 10.0 and s.repeats == 10 and s.max_us == 100.0
    assert suspicious(s) is not None
    honest = summarize([100.0] * 10, TimingMethod.CUDA_EVENTS, [130.0] * 10)
    assert suspicious(honest) is None
    assert suspicious(summarize([1.0] * 10, TimingMethod.CPU_PERF_COUNTER)) is None


def test_nvrtc_and_nvcc_logs_give_the_line() -> None:
    assert first_error_line('kernel.cu(12): error: identifier "y" is undefined') == 11
    assert first_error_line("no line here") is None


def test_jobs_round_trip_through_json() -> None:
    ref = ProblemRef("/w/a.py", "src", "Model", SiteKind.TORCH_MODULE, ModuleSpec())
    job = VerifyJob(ref, CandidateRef("/w/b.py", "src2"), device="cuda:1", trials=5)
    assert from_json(VerifyJob, json.loads(json.dumps(to_json(job)))) == job
    assert candidate_symbol(ref, job.candidate) == "ModelNew"
    fn = ProblemRef("/w/a.py", "s", "f", SiteKind.TORCH_FUNCTION, FunctionSpec("mk", cpu_inputs="small"))
    bench = BenchJob(fn)
    assert from_json(BenchJob, json.loads(json.dumps(to_json(bench)))) == bench
    assert candidate_symbol(fn, CandidateRef("/w/b.py", "")) == "f"
    assert check_device(" CUDA:0 ") == "cuda:0"
    with pytest.raises(Exception, match="auto, cpu, cuda"):
        check_device("gpu")


def test_cloned_outputs_keep_their_container_types() -> None:
    """A candidate that returns what the reference returns (torch.max's return type, a namedtuple, a
    dict subclass) must not fail the structure check because our own clone changed the container."""
    from collections import OrderedDict, namedtuple

    from kernelwright.harness.compare import clone_tree

    pair = namedtuple("pair", "a b")
    x = torch.randn(4, 8)
    for out in (torch.max(x, dim=1), pair(x, x + 1), OrderedDict(y=x), [x, (x, x)]):
        cloned = clone_tree(out)
        assert type(cloned) is type(out)
        assert compare(cloned, out, None, None) is None


def test_as_exact_as_reference_holds_each_element_to_float64() -> None:
    torch.manual_seed(0)
    exact = torch.randn(256, 64, dtype=torch.float64)
    reference = exact.float().bfloat16().float()  # a reference at reduced precision
    better = exact.float()
    assert as_exact_as_reference(better, reference, exact, None, None) is None
    off = better.clone()
    off[3, 7] += 0.5
    assert "1 elements" in (as_exact_as_reference(off, reference, exact, None, None) or "")
    # bfloat16 noise is not "as exact" as a float32-exact reference
    assert as_exact_as_reference(reference, better, exact, None, None) is not None
    # one badly wrong element of the reference widens nothing for the others
    ref_one_bad = better.clone()
    ref_one_bad[0, 0] += 10.0
    assert as_exact_as_reference(exact.float() * 1.01, ref_one_bad, exact, None, None) is not None
    assert as_exact_as_reference((1, better), (1, reference), (1, exact), None, None) is not None


def test_as_exact_as_reference_counts_absolute_rounding_near_zero() -> None:
    """A TF32 convolution's rounding is absolute (a long sum), so near zero, after a ReLU, it is large
    relative to the value: two such results, each as far from float64 as the other, both pass, and a
    candidate three times as noisy does not (numbers as measured on an H200's conv2d_bias_relu)."""
    torch.manual_seed(0)
    exact = torch.relu(torch.randn(1_000_000, dtype=torch.float64) * 0.6)

    def rounded(seed: int, noise: float) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        return torch.relu(exact + torch.randn(exact.shape, generator=g, dtype=torch.float64) * noise).float()

    reference = rounded(1, 2.5e-5)
    assert compare(rounded(2, 2.5e-5), reference, None, None) is not None  # misses the plain tolerance
    assert as_exact_as_reference(rounded(2, 2.5e-5), reference, exact, None, None) is None
    noisier = as_exact_as_reference(rounded(3, 1.5e-4), reference, exact, None, None)
    assert noisier is not None and "tolerance widths" in noisier
