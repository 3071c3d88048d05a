"""Which factory draws the other shapes (harness/problem.py): the directive's `shapes=` for a function,
`get_other_shape_inputs` for a module, and on a CPU run with the CPU factories only
`get_cpu_other_shape_inputs`, since the GPU's other shapes fit the module the GPU sizes construct. The
verdicts these lead to are in samples/semantics (shapes_*, module_shapes_*)."""

from __future__ import annotations

import pytest
import torch
from kernelwright.analysis.pipeline import analyze
from kernelwright.core.site import ModuleSpec, SiteKind
from kernelwright.harness.problem import LoadError, Problem, build_python_problem

CPU = torch.device("cpu")

MODULE = """
import torch
from torch import nn

class Model(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.hidden = hidden

    def forward(self, x):
        assert x.shape[-1] == self.hidden
        return x * 2

def get_inputs():
    return [torch.randn(8, 4096)]

def get_init_inputs():
    return [4096]

def get_other_shape_inputs():
    return [torch.randn(int(torch.randint(1, 9, ())), 4096)]
"""
CPU_FACTORIES = """
def get_cpu_inputs():
    return [torch.randn(4, 16)]

def get_cpu_init_inputs():
    return [16]
"""
CPU_SHAPES = """
def get_cpu_other_shape_inputs():
    return [torch.randn(int(torch.randint(1, 9, ())), 16)]
"""


def _problem(source: str) -> Problem:
    site = analyze(source, "problem.py").site("Model")
    assert site is not None and isinstance(site.spec, ModuleSpec)
    return build_python_problem(
        path="problem.py",
        source=source,
        symbol="Model",
        spec=site.spec,
        kind=SiteKind.TORCH_MODULE,
        device=CPU,
        role="reference",
    )


def test_a_module_s_other_shapes_come_from_get_other_shape_inputs() -> None:
    problem = _problem(MODULE)
    assert problem.shapes_from == "get_other_shape_inputs" and problem.draw_shapes is not None
    (x,) = problem.draw_shapes(7)
    assert x.shape[-1] == 4096
    problem(problem.draw_shapes(8))  # they fit the module as constructed


def test_a_cpu_run_with_cpu_factories_draws_other_shapes_from_the_cpu_factory() -> None:
    problem = _problem(MODULE + CPU_FACTORIES + CPU_SHAPES)
    assert problem.shapes_from == "get_cpu_other_shape_inputs" and problem.draw_shapes is not None
    (x,) = problem.draw_shapes(7)
    assert x.shape[-1] == 16
    problem(problem.draw_shapes(8))


def test_a_cpu_run_without_a_cpu_other_shape_factory_says_the_other_shapes_are_not_checked() -> None:
    problem = _problem(MODULE + CPU_FACTORIES)
    assert problem.draw_shapes is None and problem.shapes_from == ""
    assert any("other shapes not checked" in n and "get_cpu_other_shape_inputs" in n for n in problem.notes)


def test_a_spec_naming_a_factory_the_file_lacks_is_refused_by_name() -> None:
    site = analyze(MODULE, "problem.py").site("Model")
    assert site is not None and isinstance(site.spec, ModuleSpec)
    with pytest.raises(LoadError, match="get_other_shape_inputs"):
        build_python_problem(
            path="problem.py",
            source=MODULE.replace("def get_other_shape_inputs", "def renamed"),
            symbol="Model",
            spec=site.spec,
            kind=SiteKind.TORCH_MODULE,
            device=CPU,
            role="reference",
        )
