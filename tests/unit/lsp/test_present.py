"""Wording of lenses, hovers and run findings, from values alone."""

from __future__ import annotations

import dataclasses

from kernelwright.core.measure import (
    Baseline,
    BaselineKind,
    Bound,
    LineCost,
    PeakSource,
    Roofline,
    TimingMethod,
)
from kernelwright.core.site import FunctionSpec, Language, Range, Severity, Site, SiteKind
from kernelwright.core.text import format_us
from kernelwright.lsp.command_ids import CommandId
from kernelwright.lsp.present import (
    how_to_add_spec,
    line_cost_label,
    measurement_table,
    measurement_title,
    short_device,
    site_lenses,
)
from kernelwright.lsp.results import RunFailure, SiteRecord, regression
from kernelwright.lsp.run_findings import run_findings
from support.measurements import CPU, GPU, measurement, timing

SITE = Site(
    kind=SiteKind.TORCH_FUNCTION,
    name="double",
    language=Language.PYTHON,
    range=Range.of(8, 0, 9, 16),
    name_range=Range.of(8, 4, 8, 10),
    spec=FunctionSpec(inputs="make_inputs"),
)


class Now:
    """CodeHashes stand-in: the site's own hash, and the content key of its file."""

    def __init__(self, site: str, content: str = "") -> None:
        self.site = site
        self.content = content

    def matches(self, source_hash: str) -> bool:
        return source_hash == self.content


def roofline(fraction: float) -> Roofline:
    return Roofline(
        bytes=1 << 20,
        flops=None,
        floor_us=183 * fraction,
        fraction=fraction,
        bound=Bound.MEMORY,
        peak_bandwidth=3e12,
        peak_flops=None,
        source=PeakSource.CALIBRATED,
    )


def test_the_result_lens_reads_like_the_design_says() -> None:
    m = dataclasses.replace(measurement(median_us=183.0, device=GPU), roofline=roofline(0.97))
    assert measurement_title(m) == "183 µs · 97% of memory roofline · H100"
    assert measurement_title(m, stale=True).endswith("(stale)")
    cpu = measurement(median_us=2.4, device=CPU)
    assert measurement_title(cpu) == "2.4 µs · CPU"
    interp = dataclasses.replace(cpu, timing=dataclasses.replace(cpu.timing, method=TimingMethod.NOT_TIMED))
    assert "not timed" in measurement_title(interp)


def test_units_and_devices() -> None:
    assert format_us(0.5) == "0.5 µs"
    assert format_us(1500) == "1.5 ms"
    assert format_us(2_500_000) == "2.5 s"
    assert short_device(GPU) == "H100"
    assert short_device(CPU) == "CPU"
    assert line_cost_label(LineCost(line=3, share=0.42, time_us=80.0)) == "42% · 80 µs"


def test_lenses_offer_profile_and_optimize_or_cancel_while_busy() -> None:
    idle = site_lenses(SITE, "file:///x.py", None, stale=False, busy=None)
    assert [(lens.title, lens.command) for lens in idle] == [
        ("Profile", CommandId.PROFILE),
        ("Optimize", CommandId.OPTIMIZE),
    ]
    busy = site_lenses(SITE, "file:///x.py", measurement(), stale=False, busy="optimizing: round 2")
    assert busy[0].command is CommandId.CANCEL and "round 2" in busy[0].title
    assert busy[-1].command is CommandId.SHOW_HISTORY


def test_hover_table_has_spread_baselines_roofline_device_and_age() -> None:
    m = dataclasses.replace(
        measurement(median_us=100.0, device=GPU, created_at=1000.0),
        roofline=roofline(0.5),
        baselines=(
            Baseline(BaselineKind.EAGER, timing(120.0), 1.2),
            Baseline(BaselineKind.COMPILE, None, None, error="compile failed"),
        ),
    )
    table = measurement_table(m, stale=False, now=1000.0 + 600)
    assert "| median | 100 µs (p10 97 µs, p90 104 µs, n=50) |" in table
    assert "| eager | 1.20×" in table
    assert "| torch.compile | not timed: compile failed |" in table
    assert "50% of memory floor" in table
    assert "NVIDIA H100" in table
    assert "10 min ago" in table
    assert "stale" not in table
    assert "stale" in measurement_table(m, stale=True, now=1600.0)


def test_how_to_add_a_spec_per_convention() -> None:
    assert "get_inputs" in how_to_add_spec(dataclasses.replace(SITE, kind=SiteKind.TORCH_MODULE, spec=None))
    cuda = how_to_add_spec(dataclasses.replace(SITE, kind=SiteKind.CUDA_KERNEL, language=Language.CUDA))
    assert "// kernelwright: bench" in cuda and "grid=" in cuda and "block=" in cuda
    triton = how_to_add_spec(dataclasses.replace(SITE, kind=SiteKind.TRITON_KERNEL, links=("launch",)))
    assert "`launch`" in triton and "cpu_inputs=" in triton


def test_regression_needs_the_same_device_and_more_than_noise() -> None:
    before = measurement(median_us=100.0)
    assert regression(before, measurement(median_us=103.0)) is None  # inside the spread
    assert regression(before, measurement(median_us=130.0)) == 1.3
    assert regression(before, measurement(median_us=130.0, device=GPU)) is None


def test_run_findings() -> None:
    slow_far = dataclasses.replace(measurement(median_us=150.0, source_hash="h"), roofline=roofline(0.1))
    record = SiteRecord(measurement=slow_far, previous=measurement(median_us=100.0), site_hash="h")
    found = {f.rule: f for f in run_findings(SITE, record, Now("h"))}
    assert found["KW900"].severity is Severity.HINT and "10%" in found["KW900"].message
    assert found["KW901"].severity is Severity.WARNING and "+50%" in found["KW901"].message
    # Stale: the code changed since, so the numbers say nothing about it.
    assert run_findings(SITE, record, Now("other")) == []
    failed = SiteRecord(failure=RunFailure("run", "crash: worker died of SIGABRT", line=9))
    (f,) = run_findings(SITE, failed, Now("h"))
    assert f.rule == "KW902" and f.severity is Severity.ERROR and f.range.start.line == 9
    changed = SiteRecord(mismatch="value: max abs err 1.0 > atol 1e-5")
    (g,) = run_findings(SITE, changed, Now("h"))
    assert g.rule == "KW903" and "max abs err" in g.message


def test_store_measurements_are_stale_by_hash_not_by_time() -> None:
    stored = SiteRecord(measurement=measurement(source_hash="file-hash"))
    assert not stored.stale(Now("site-hash", content="file-hash"))
    assert stored.stale(Now("site-hash", content="another-file-hash"))
    assert stored.stale(Now("file-hash", content="another-file-hash"))  # never the site's own hash


def test_the_cuda_hint_names_every_parameter_of_the_kernel() -> None:
    kernel = "__global__ void scale(const float* __restrict__ x, float* y, int n, float alpha) {\n}"
    site = dataclasses.replace(SITE, kind=SiteKind.CUDA_KERNEL, language=Language.CUDA, spec=None)
    text = how_to_add_spec(site, kernel)
    assert "// kernelwright: bench n=1<<20 x=randn(n) y=empty(n) alpha=1.0 grid=(n+255)/256 block=256" in text


def test_the_function_hint_returns_the_arguments_in_order() -> None:
    hint = how_to_add_spec(dataclasses.replace(SITE, spec=None), "def double(x, w: int = 3, *rest):\n    ...")
    assert "def make_double_inputs():" in hint
    assert "return (x, w)" in hint
    assert "# kernelwright: bench inputs=make_double_inputs" in hint


def test_the_suggested_directives_are_accepted_by_analysis() -> None:
    from kernelwright.analysis import analyze
    from kernelwright.lsp.spec_hint import cuda_directive, function_directive

    kernel = (
        "__global__ void scale(const float* x, float* y, int n, float alpha) {\n"
        "    int i = blockIdx.x * blockDim.x + threadIdx.x;\n    if (i < n) y[i] = x[i] * alpha;\n}\n"
    )
    directive = cuda_directive(kernel)
    assert directive is not None
    cu = analyze(directive + "\n" + kernel, "k.cu")
    assert cu.sites[0].spec is not None and cu.findings == ()
    py = (
        "import torch\n\n"
        + function_directive("double", "def double(x, w):")
        + "\ndef double(x, w):\n    return x * w\n"
    )
    result = analyze(py, "f.py")
    assert result.site("double") is not None and result.site("double").spec is not None  # type: ignore[union-attr]
    assert result.findings == ()
