"""What the model providers share: one request per wanted candidate, code extraction, usage totals."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from kernelwright.core.candidate import Candidate, Usage
from kernelwright.core.measure import content_key
from kernelwright.core.settings import ProviderName
from kernelwright.optimize.extract import Extracted, extract_candidate
from kernelwright.optimize.prompting import RenderedPrompt, render
from kernelwright.optimize.request import Proposal, ProposalRequest

# Requests of one round in flight at once: enough to overlap streaming, few enough not to trip rate limits.
MAX_CONCURRENT_REQUESTS = 4


@dataclass(frozen=True)
class Reply:
    text: str
    usage: Usage
    stop_reason: str = ""


Ask = Callable[[RenderedPrompt, list[str]], Awaitable[Reply]]


def rationale_of(reply: str) -> str:
    """The prose before the first fence, shortened: the model's own account of its idea."""
    prose = reply.split("```", 1)[0].strip()
    return prose if len(prose) <= 600 else prose[:597] + "..."


async def propose_with(ask: Ask, request: ProposalRequest, provider: ProviderName) -> Proposal:
    gate = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)

    async def one(index: int) -> tuple[Reply, list[str]]:
        notes: list[str] = []
        async with gate:
            return await ask(render(request, index), notes), notes

    replies = await asyncio.gather(*(one(i) for i in range(1, request.count + 1)))
    candidates: list[Candidate] = []
    rejected: list[str] = []
    notes: list[str] = []
    usage = Usage()
    for index, (reply, reply_notes) in enumerate(replies, start=1):
        usage = usage + reply.usage
        notes.extend(reply_notes)
        extracted = extract_candidate(reply.text, request.expected_symbol, request.language)
        if not isinstance(extracted, Extracted):
            suffix = f" (stopped: {reply.stop_reason})" if reply.stop_reason else ""
            rejected.append(extracted.reason + suffix)
            continue
        if extracted.note:
            notes.append(f"candidate {index}: {extracted.note}")
        candidates.append(
            Candidate(
                id=f"r{request.round}-{provider.value}-{index}-{content_key(extracted.source)[:8]}",
                source=extracted.source,
                symbol=request.expected_symbol,
                provider=provider,
                round=request.round,
                rationale=rationale_of(reply.text),
            )
        )
    return Proposal(tuple(candidates), usage, tuple(rejected), tuple(notes))


def endpoint_words(url: str, set_by: str | None) -> str:
    """How an unreachable endpoint is named: its URL and what set it, so the fix is plain."""
    origin = f"set by {set_by}" if set_by else "the provider's default endpoint"
    return f"the model server at {url} ({origin}); check that it runs and the URL is right"
