"""Proposal requests for small module-, function- and CUDA-convention problems, for optimize tests."""

from __future__ import annotations

from kernelwright.core.measure import DeviceKind
from kernelwright.core.site import Convention, Language, ModuleSpec, Range, Site, SiteKind
from kernelwright.optimize.request import CandidateFeedback, DeviceFacts, ProposalRequest

MODULE_FILE = """import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = torch.exp(x - x.max(dim=self.dim, keepdim=True).values)
        return e / e.sum(dim=self.dim, keepdim=True)


def get_inputs():
    return [torch.randn(64, 128)]


def get_init_inputs():
    return [1]
"""

MODULE_SITE = Site(
    kind=SiteKind.TORCH_MODULE,
    name="Model",
    language=Language.PYTHON,
    range=Range.of(4, 0, 11, 56),
    name_range=Range.of(4, 6, 4, 11),
    spec=ModuleSpec(),
)

H100 = DeviceFacts(
    name="NVIDIA H100 80GB HBM3",
    kind=DeviceKind.CUDA,
    sm_count=132,
    memory_bytes=80 * 2**30,
    bandwidth_bytes_per_s=3.35e12,
    peak_flops=(("bf16", 9.89e14),),
)


def site_text(file_text: str, site: Site) -> str:
    lines = file_text.splitlines(keepends=True)
    return "".join(lines[site.range.start.line : site.range.end.line + 1])


def module_request(
    count: int = 1, round: int = 1, history: tuple[CandidateFeedback, ...] = ()
) -> ProposalRequest:
    return ProposalRequest(
        site=MODULE_SITE,
        path="/work/softmax.py",
        site_source=site_text(MODULE_FILE, MODULE_SITE),
        file_text=MODULE_FILE,
        convention=Convention.MODULE,
        expected_symbol="ModelNew",
        device=H100,
        round=round,
        count=count,
        history=history,
        baseline_us=120.0 if history else None,
        best_us=80.0 if history else None,
    )


__all__ = ["H100", "MODULE_FILE", "MODULE_SITE", "module_request", "site_text"]
