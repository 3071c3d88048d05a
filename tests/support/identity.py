"""An identity rewrite of a sample through the whole optimize loop: Claude's SDK against a scripted
Messages server proposes the reference itself, renamed; real workers verify and time it and the original
baseline. What a test of docs/PITFALLS.md 26 needs, on the CPU and on a GPU."""

from __future__ import annotations

from pathlib import Path

from kernelwright.analysis import analyze
from kernelwright.core.site import Convention
from kernelwright.engine.pool import WorkerPool
from kernelwright.optimize.budget import Budget
from kernelwright.optimize.events import Done, Event, VerdictReady
from kernelwright.optimize.loop import optimize
from kernelwright.optimize.providers.anthropic_provider import AnthropicProvider
from kernelwright.optimize.providers.retry import RetryPolicy
from kernelwright.store import Store

from support.scripted_servers import AnthropicServer, Scripted

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "samples" / "pytorch").glob("*.py"))


def identity(text: str, convention: Convention) -> str:
    """The reference, renamed where the convention asks for a new name; a comment makes it new text."""
    if convention is Convention.MODULE:
        text = text.replace("class Model(", "class ModelNew(")
    return text.rstrip("\n") + "\n# the reference itself, renamed: an identity rewrite\n"


async def identity_run(sample: Path, device: str, workspace: Path) -> tuple[list[VerdictReady], Done]:
    text = sample.read_text()
    sites = [s for s in analyze(text, str(sample)).sites if s.spec is not None]
    assert sites, sample
    site = sites[0]
    assert site.spec is not None
    code = identity(text, site.spec.convention)
    with AnthropicServer([Scripted(text=f"The same code.\n\n```python\n{code}```\n")]) as server:
        provider = AnthropicProvider(
            base_url=server.url, api_key="sk-test", retry=RetryPolicy(max_attempts=2, base_delay_s=0.01)
        )
        events: list[Event] = []
        with Store.for_workspace(workspace) as store:
            async with WorkerPool([device]) as pool:
                async for e in optimize(
                    site,
                    text,
                    str(sample),
                    provider,
                    Budget(rounds=1, candidates=1),
                    pool,
                    store,
                    device=device,
                ):
                    events.append(e)
        await provider.close()
    done = events[-1]
    assert isinstance(done, Done), events[-1]
    return [e for e in events if isinstance(e, VerdictReady)], done
