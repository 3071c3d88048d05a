"""The builtin search for torch sites: source rewrites, compile modes, a CUDA graph, and their stacks.

Order of trial (a round takes the next `count` steps):
1. every source rewrite that applies (rewrites/), the combined one first, each fused kernel
   at its expected best launch configuration;
2. torch.compile's modes and the direct CUDA graph capture of the original (torch_variants.py);
3. the fused kernels' other launch configurations;
4. once a rewrite has verified, compile modes and the graph capture on top of the fastest one.
The loop evaluates the original as its baseline, so the best of all of these and eager is kept.
Without a GPU there are no fused-kernel candidates (rewrites/__init__.py says why).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kernelwright.core.site import SiteKind
from kernelwright.optimize.providers.builtin import rewrites, torch_variants
from kernelwright.optimize.request import CandidateFeedback, Outcome

# Compile modes stacked on the best rewrite: the ones that fuse what the rewrite left.
STACKED = ("default", "max-autotune", "cuda-graph")


@dataclass(frozen=True)
class Step:
    slug: str  # the candidate id's tail: "sdpa", "compile-default", "sdpa+compile-default"
    why: str
    file_text: str


@dataclass
class TorchSearch:
    queue: list[Step]
    later: list[Step]  # launch-configuration steps, after the compile modes
    on_gpu: bool
    site_name: str
    kind: SiteKind
    given: dict[str, Step] = field(default_factory=dict)  # the candidate id's tail -> its step
    stacked: bool = False

    @staticmethod
    def plan(file_text: str, site_name: str, kind: SiteKind, on_gpu: bool) -> TorchSearch | str:
        """The search, or why there is nothing to search."""
        target = torch_variants.compile_target(file_text, site_name, kind)
        if isinstance(target, str):
            return target
        first: list[Step] = []
        later: list[Step] = []
        for rewrite in rewrites.rewrites(file_text, site_name, kind, on_gpu=on_gpu):
            is_config = rewrite.slug.startswith("triton-") and rewrite.slug != "triton-c0"
            (later if is_config else first).append(Step(rewrite.slug, rewrite.why, rewrite.file_text))
        variants = torch_variants.variants(on_gpu=on_gpu)
        if on_gpu:
            variants.append(torch_variants.CUDA_GRAPH)
        for variant in variants:
            slug = variant.slug if variant.decorator else f"compile-{variant.slug}"
            first.append(Step(slug, variant.why, torch_variants.render(file_text, target, variant)))
        return TorchSearch(first, later, on_gpu, site_name, kind)

    def next(self, count: int) -> list[Step]:
        if not self.queue:
            self.queue, self.later = self.later, []
        steps, self.queue = self.queue[:count], self.queue[count:]
        for step in steps:
            self.given[step.slug] = step
        return steps

    def learn(self, history: tuple[CandidateFeedback, ...]) -> None:
        """After a rewrite has verified, queue compile modes and the graph capture on the fastest one."""
        if self.stacked:
            return
        best: tuple[float, Step] | None = None
        for fb in history:
            step = self.given.get(fb.candidate_id.split("-builtin-", 1)[-1])
            if step is None or fb.outcome is not Outcome.PASSED or fb.median_us is None:
                continue
            if step.slug.startswith(("compile-", "cuda-graph", "fullgraph")):
                continue
            if best is None or fb.median_us < best[0]:
                best = (fb.median_us, step)
        if best is None:
            return
        self.stacked = True
        base = best[1]
        target = torch_variants.compile_target(base.file_text, self.site_name, self.kind)
        if isinstance(target, str):
            return
        by_slug = {v.slug: v for v in torch_variants.variants(on_gpu=self.on_gpu)}
        if self.on_gpu:
            by_slug["cuda-graph"] = torch_variants.CUDA_GRAPH
        for name in STACKED:
            variant = by_slug.get(name)
            if variant is None:
                continue
            slug = f"{base.slug}+{name if variant.decorator else 'compile-' + name}"
            text = torch_variants.render(base.file_text, target, variant)
            self.queue.insert(0, Step(slug, f"{base.why}; then {variant.why}", text))
