"""The builtin search: launch configurations for Triton and CUDA; rewrites and compile modes for torch.

It is stateful per run: it remembers which configuration each candidate id stands for and reads the
loop's feedback (medians of verified candidates, failures) to choose the next round around the best
so far. Every candidate is the person's whole file with one rewrite (`Candidate.file_text`), so the
code that is verified and timed is exactly the edit that is offered.

For torch sites (torch_search.py): the source rewrites that apply (attention -> SDPA, matmul
epilogues, fused Triton or liger-kernel norms), torch.compile's modes and a CUDA graph capture of the
original, the other launch configurations of the fused kernels, and then compile modes and the graph
capture stacked on the best verified rewrite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kernelwright.core.candidate import Candidate
from kernelwright.core.measure import content_key
from kernelwright.core.settings import ProviderName
from kernelwright.core.site import CudaSpec, ModuleSpec, SiteKind
from kernelwright.optimize.providers.builtin.cuda_launch import CudaPlan, plan_cuda
from kernelwright.optimize.providers.builtin.space import Config, next_configs
from kernelwright.optimize.providers.builtin.torch_search import TorchSearch
from kernelwright.optimize.providers.builtin.triton_search import TritonPlan, plan_triton
from kernelwright.optimize.request import Outcome, Proposal, ProposalRequest

TORCH_KINDS = (SiteKind.TORCH_MODULE, SiteKind.TORCH_FUNCTION, SiteKind.BENCH_CLASS)
BASELINE_ID = "r1-original"  # the loop's id for the original code


@dataclass
class _Search:
    """One site's search across the rounds of a run."""

    plan: TritonPlan | CudaPlan | None = None
    torch: TorchSearch | None = None
    reason: str = ""  # why there is nothing to search, when there is nothing
    by_id: dict[str, Config] = field(default_factory=dict)
    results: dict[Config, float | None] = field(default_factory=dict)
    tried: set[Config] = field(default_factory=set)


def _slug(config: Config) -> str:
    return "-".join(f"{re.sub(r'[^A-Za-z]', '', k)[:6].lower()}{v}" for k, v in config)


class BuiltinProvider:
    def __init__(self) -> None:
        self._searches: dict[tuple[str, str, str], _Search] = {}

    @property
    def name(self) -> ProviderName:
        return ProviderName.BUILTIN

    @property
    def model(self) -> str:
        return ""

    async def close(self) -> None:
        self._searches.clear()

    async def propose(self, request: ProposalRequest) -> Proposal:
        key = (request.path, request.site.name, content_key(request.file_text))
        search = self._searches.get(key)
        if search is None:
            search = self._searches[key] = self._plan(request)
        if search.plan is not None:
            return self._propose_configs(request, search, search.plan)
        if search.torch is not None:
            return self._propose_torch(request, search.torch)
        return Proposal(
            (), notes=(f"builtin search: nothing to search in `{request.site.name}`: {search.reason}",)
        )

    def _plan(self, request: ProposalRequest) -> _Search:
        site = request.site
        if site.kind is SiteKind.CUDA_KERNEL and isinstance(site.spec, CudaSpec):
            cuda = plan_cuda(request.file_text, site.spec, site.range.start.line)
            return _Search(plan=cuda) if isinstance(cuda, CudaPlan) else _Search(reason=cuda)
        if site.kind is SiteKind.TRITON_LAUNCHER:
            triton = plan_triton(request.file_text, site.name)
            return _Search(plan=triton) if isinstance(triton, TritonPlan) else _Search(reason=triton)
        if site.kind in TORCH_KINDS:
            torch = TorchSearch.plan(request.file_text, site.name, site.kind, on_gpu=request.device.is_gpu)
            return _Search(torch=torch) if isinstance(torch, TorchSearch) else _Search(reason=torch)
        return _Search(reason=f"{site.kind.value} sites are not searched by the builtin provider")

    def _learn(self, request: ProposalRequest, search: _Search, start: Config | None) -> None:
        for fb in request.history:
            config = search.by_id.get(fb.candidate_id)
            if config is None and fb.candidate_id == BASELINE_ID and start is not None:
                config = start
            if config is None:
                continue
            search.results[config] = fb.median_us if fb.outcome is Outcome.PASSED else None

    def _propose_configs(
        self, request: ProposalRequest, search: _Search, plan: TritonPlan | CudaPlan
    ) -> Proposal:
        start = None if isinstance(plan, TritonPlan) and plan.autotuned else plan.space.start
        if start is not None:
            search.tried.add(start)
        if isinstance(plan, TritonPlan):
            search.tried.update(plan.existing)
        self._learn(request, search, start)
        configs = next_configs(plan.space, request.count, search.results, search.tried)
        if not configs:
            return Proposal((), notes=("builtin search: every configuration near the best was tried",))
        candidates = []
        for config in configs:
            search.tried.add(config)
            cid = f"r{request.round}-builtin-{_slug(config)}"
            search.by_id[cid] = config
            file_text = plan.render(request.file_text, config)
            candidates.append(
                Candidate(
                    id=cid,
                    source=_as_candidate(request, file_text),
                    symbol=request.expected_symbol,
                    provider=self.name,
                    round=request.round,
                    rationale=plan.describe(config),
                    file_text=file_text,
                )
            )
        return Proposal(tuple(candidates))

    def _propose_torch(self, request: ProposalRequest, search: TorchSearch) -> Proposal:
        search.learn(request.history)
        steps = search.next(request.count)
        if not steps:
            return Proposal((), notes=("builtin search: every rewrite and compile mode was tried",))
        candidates = []
        for step in steps:
            candidates.append(
                Candidate(
                    id=f"r{request.round}-builtin-{step.slug}",
                    source=_as_candidate(request, step.file_text),
                    symbol=request.expected_symbol,
                    provider=self.name,
                    round=request.round,
                    rationale=step.why,
                    file_text=step.file_text,
                )
            )
        return Proposal(tuple(candidates))


def _as_candidate(request: ProposalRequest, file_text: str) -> str:
    """The candidate module: the rewritten file, plus `ModelNew = Model` for the module convention."""
    spec = request.site.spec
    if isinstance(spec, ModuleSpec):
        return file_text.rstrip("\n") + f"\n\n\n{spec.candidate} = {request.site.name}\n"
    return file_text
