"""What the model providers share: one request per wanted candidate, code extraction, usage totals, and
`SdkProvider`, the frame of a provider that talks to a model server through its SDK."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from kernelwright.core.candidate import Candidate, Usage
from kernelwright.core.measure import content_key
from kernelwright.core.settings import ProviderName
from kernelwright.optimize.extract import Extracted, extract_candidate
from kernelwright.optimize.prompting import RenderedPrompt, render
from kernelwright.optimize.providers.base import ProviderError
from kernelwright.optimize.providers.retry import RetryDecision, RetryPolicy, with_retries
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


class SdkProvider:
    """A provider behind a model SDK (anthropic, openai): the Provider protocol's name, model, propose
    (one request per wanted candidate, `propose_with`) and close, each request under the shared retry
    policy, and an SDK error that ends it as a ProviderError naming the endpoint. A subclass sets `name`
    and supplies `_request` (one streamed request) and `_classify` (retry or not, or raise ProviderError);
    `_detail` is how the SDK's error reads (its message, by default)."""

    name: ProviderName

    def __init__(
        self,
        sdk: Any,
        client: Any,
        model: str,
        endpoint: str,
        failed: str,
        max_tokens: int,
        retry: RetryPolicy | None,
    ) -> None:
        self._sdk = sdk  # the SDK module: its APIError and APIConnectionError classes
        self._client = client
        self._model = model
        self._endpoint = endpoint
        self._failed = failed  # how a failed request is named: "Anthropic request failed"
        self._max_tokens = max_tokens
        self._retry = retry or RetryPolicy()

    @property
    def model(self) -> str:
        return self._model

    async def propose(self, request: ProposalRequest) -> Proposal:
        return await propose_with(self._ask, request, self.name)

    async def close(self) -> None:
        await self._client.close()

    async def _ask(self, prompt: RenderedPrompt, notes: list[str]) -> Reply:
        try:
            return await with_retries(lambda: self._request(prompt), self._classify, self._retry, notes)
        except ProviderError:
            raise
        except self._sdk.APIConnectionError as exc:
            raise ProviderError(f"cannot reach {self._endpoint}: {self._detail(exc)}") from exc
        except self._sdk.APIError as exc:
            raise ProviderError(f"{self._failed}: {self._detail(exc)}") from exc

    async def _request(self, prompt: RenderedPrompt) -> Reply:
        raise NotImplementedError

    def _classify(self, exc: BaseException) -> RetryDecision:
        raise NotImplementedError

    def _detail(self, exc: Exception) -> str:
        return str(getattr(exc, "message", exc))
