"""Python sites: torch modules, KernelBench's convention, Triton kernels and launchers, directives."""

from __future__ import annotations

from textwrap import dedent

import pytest
from kernelwright.analysis import analyze, language_for
from kernelwright.core.site import FunctionSpec, Language, ModuleSpec, Range, SiteKind


def sites(src: str) -> dict[str, tuple[SiteKind, object, tuple[str, ...]]]:
    r = analyze(dedent(src), "t.py")
    return {s.name: (s.kind, s.spec, s.links) for s in r.sites}


def test_language_for() -> None:
    assert language_for("a/b.py") is Language.PYTHON
    assert language_for("x.PYI") is Language.PYTHON
    assert language_for("k.cu") is Language.CUDA
    assert language_for("k.cuh") is Language.CUDA
    assert language_for("notes.txt") is None


@pytest.mark.parametrize(
    ("imports", "base"),
    [
        ("import torch.nn as nn", "nn.Module"),
        ("import torch", "torch.nn.Module"),
        ("from torch import nn", "nn.Module"),
        ("import torch.nn as tnn", "tnn.Module"),
        ("from torch.nn import Module as M", "M"),
        ("from torch.nn import Module", "Module"),
    ],
)
def test_module_aliases(imports: str, base: str) -> None:
    src = f"{imports}\nclass Net({base}):\n    def forward(self, x):\n        return x\n"
    assert sites(src) == {"Net": (SiteKind.TORCH_MODULE, None, ())}


def test_non_module_class_is_not_a_site_and_unrelated_module_is_not_torch() -> None:
    src = "import mylib\nclass A(mylib.Module):\n    pass\nclass B:\n    pass\n"
    assert sites(src) == {}


def test_subclass_of_earlier_module_class() -> None:
    src = """
    from torch import nn
    class Base(nn.Module):
        pass
    class Child(Base):
        pass
    """
    assert sites(src)["Child"][0] is SiteKind.TORCH_MODULE


KERNELBENCH = """
import torch
import torch.nn as nn

class Model(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return torch.softmax(x, dim=self.dim)

batch_size = 16
dim = 16384

def get_inputs():
    x = torch.randn(batch_size, dim)
    return [x]

def get_init_inputs():
    return [1]
"""


def test_kernelbench_module_convention() -> None:
    r = analyze(KERNELBENCH, "level1.py")
    (model,) = r.sites
    assert model.kind is SiteKind.TORCH_MODULE
    assert model.spec == ModuleSpec(model="Model", inputs="get_inputs", init="get_init_inputs")
    assert model.range == Range.of(4, 0, 10, 45)
    assert model.name_range == Range.of(4, 6, 4, 11)
    assert r.findings == ()


def test_kernelbench_without_init_inputs_and_candidate() -> None:
    src = KERNELBENCH.replace("def get_init_inputs():\n    return [1]\n", "")
    src += "\nclass ModelNew(nn.Module):\n    def forward(self, x):\n        return x\n"
    got = sites(src)
    assert got["Model"][1] == ModuleSpec(init=None)
    assert got["ModelNew"][1] == ModuleSpec(model="ModelNew", init=None)


def test_the_module_convention_s_optional_factories_are_found_by_name() -> None:
    src = KERNELBENCH + "".join(
        f"\ndef {name}():\n    return [torch.randn(2, 3)]\n"
        for name in ("get_cpu_inputs", "get_other_shape_inputs", "get_cpu_other_shape_inputs")
    )
    got = sites(src)
    assert got["Model"][1] == ModuleSpec(
        init="get_init_inputs",
        cpu_inputs="get_cpu_inputs",
        shapes="get_other_shape_inputs",
        cpu_shapes="get_cpu_other_shape_inputs",
    )


def test_model_new_without_get_inputs_has_no_spec() -> None:
    src = "from torch import nn\nclass ModelNew(nn.Module):\n    pass\n"
    assert sites(src) == {"ModelNew": (SiteKind.TORCH_MODULE, None, ())}


def test_function_convention_all_keys() -> None:
    src = """
    import torch

    def make(): ...
    def small(): ...
    def other(): ...
    def ref(x): ...
    def args(): ...

    # kernelwright: bench inputs=make cpu_inputs=small shapes=other reference=ref atol=1e-3 rtol=0.5
    def f(x):
        return x * 2

    # kernelwright: bench inputs=make init=args
    class Quant:
        def __call__(self, x):
            return x
    """
    got = sites(src)
    assert got["f"] == (
        SiteKind.TORCH_FUNCTION,
        FunctionSpec(inputs="make", cpu_inputs="small", shapes="other", reference="ref", atol=1e-3, rtol=0.5),
        (),
    )
    assert got["Quant"] == (SiteKind.BENCH_CLASS, FunctionSpec(inputs="make", init="args"), ())


def test_directive_above_decorators_and_on_module_class() -> None:
    src = """
    import functools
    from torch import nn
    def mk(): ...
    # kernelwright: bench inputs=mk
    @functools.lru_cache
    def g(x):
        return x
    # kernelwright: bench inputs=mk
    class Net(nn.Module):
        pass
    """
    got = sites(src)
    assert got["g"] == (SiteKind.TORCH_FUNCTION, FunctionSpec(inputs="mk"), ())
    assert got["Net"] == (SiteKind.TORCH_MODULE, FunctionSpec(inputs="mk"), ())


TRITON = """
import torch
import triton
import triton.language as tl

@triton.autotune(configs=[triton.Config({"BLOCK": 64})], key=["n"])
@triton.jit
def add_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)

@triton.heuristics({"EVEN": lambda a: a["n"] % 64 == 0})
@triton.jit(do_not_specialize=["n"])
def copy_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)

def inputs():
    return (torch.randn(8),)

# kernelwright: bench inputs=inputs
def add(x):
    out = torch.empty_like(x)
    add_kernel[(1,)](x, out, x.numel())
    copy_kernel[(1,)](x, out, x.numel(), BLOCK=8)
    return out

def helper(x):
    out = torch.empty_like(x)
    add_kernel[(1,)](x, out, x.numel())
    return out

def not_a_launcher(x, table):
    return table[0](x)
"""


def test_triton_kernels_and_launchers() -> None:
    got = sites(TRITON)
    assert got == {
        "add_kernel": (SiteKind.TRITON_KERNEL, None, ("add", "helper")),
        "copy_kernel": (SiteKind.TRITON_KERNEL, None, ("add",)),
        "add": (SiteKind.TRITON_LAUNCHER, FunctionSpec(inputs="inputs"), ("add_kernel", "copy_kernel")),
        "helper": (SiteKind.TRITON_LAUNCHER, None, ("add_kernel",)),
    }
    r = analyze(TRITON, "t.py")
    assert r.findings == ()
    kernel = r.site("add_kernel")
    assert kernel is not None and kernel.range.start.line == 5  # decorators included


@pytest.mark.parametrize(
    ("imports", "decorator"),
    [
        ("from triton import jit", "@jit"),
        ("import triton as tr", "@tr.jit"),
        ("import triton as tr", "@tr.jit(debug=True)"),
    ],
)
def test_triton_jit_aliases(imports: str, decorator: str) -> None:
    src = f"{imports}\n{decorator}\ndef k(x):\n    pass\n"
    assert sites(src) == {"k": (SiteKind.TRITON_KERNEL, None, ())}


def test_other_decorators_are_not_kernels() -> None:
    src = "import numba\n@numba.jit\ndef k(x):\n    pass\n"
    assert sites(src) == {}


def test_method_launcher_is_qualified() -> None:
    src = """
    import triton
    import torch.nn as nn
    @triton.jit
    def k(x_ptr):
        pass
    class ModelNew(nn.Module):
        def forward(self, x):
            k[(1,)](x)
            return x
    """
    r = analyze(dedent(src), "t.py")
    launcher = r.site("ModelNew.forward")
    assert launcher is not None
    assert launcher.kind is SiteKind.TRITON_LAUNCHER
    assert launcher.parent == "ModelNew"
    assert launcher.links == ("k",)
    assert r.site("k") is not None and r.site("k").links == ("ModelNew.forward",)  # type: ignore[union-attr]


def test_utf16_columns_after_non_ascii() -> None:
    # "é" is 2 bytes and 1 UTF-16 unit; "𝔵" is 4 bytes and 2 units: 6 bytes, 3 units before `x.cpu()`.
    src = "import torch.nn as nn\nclass M(nn.Module):\n    def forward(self, x):\n        s = 'é𝔵'; return x.cpu()\n"
    (f,) = analyze(src, "t.py").findings
    col = len("        s = 'é𝔵'; return ") + 1
    assert f.rule == "KW101"
    assert f.range == Range.of(3, col, 3, col + 7)
    src2 = "import torch.nn as nn\nclass Mé(nn.Module):\n    pass\n"
    (m,) = analyze(src2, "t.py").sites
    assert m.name_range == Range.of(1, 6, 1, 8)


def test_utf16_column_of_directive_error() -> None:
    src = "def mk(): ...\n# kernelwright: bench inputs=mk atol=é𝔵 rtol=1\ndef f(x):\n    return x\n"
    (f,) = analyze(src, "t.py").findings
    col = len("# kernelwright: bench inputs=mk atol=")
    assert f.range == Range.of(1, col, 1, col + 3)  # é (1 unit) + 𝔵 (2 units)


def test_imports_are_listed() -> None:
    r = analyze("import torch\nfrom . import helpers\nfrom .kernels import k\nimport a.b as c\n", "t.py")
    assert r.imports == ("torch", ".", ".kernels", "a.b")
