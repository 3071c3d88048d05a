"""The Claude provider, for real through the anthropic SDK, against a scripted Messages API server."""

from __future__ import annotations

import pytest
from kernelwright.optimize.providers.anthropic_provider import AnthropicProvider
from kernelwright.optimize.providers.base import ProviderError
from kernelwright.optimize.providers.retry import RetryPolicy
from kernelwright.optimize.request import CandidateFeedback, Outcome
from support.optimize_requests import module_request
from support.scripted_servers import AnthropicServer, Scripted

FAST = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)

GOOD_REPLY = """The reference computes max, exp and sum in separate passes; torch.softmax does it in one fused
kernel with the same numerics.

```python
import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=self.dim)
```

This should be memory bound at one read and one write.
"""


@pytest.fixture(autouse=True)
def _no_ambient_anthropic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL"):
        monkeypatch.delenv(name, raising=False)


async def test_streaming_reply_becomes_a_candidate_with_usage_and_cached_context() -> None:
    script = [Scripted(text=GOOD_REPLY, input_tokens=900, output_tokens=250, cache_write_tokens=3000)]
    with AnthropicServer(script) as server:
        provider = AnthropicProvider(
            model="claude-sonnet-5-5", base_url=server.url, api_key="sk-test", max_tokens=4096, retry=FAST
        )
        proposal = await provider.propose(module_request())
        await provider.close()
    (candidate,) = proposal.candidates
    assert "class ModelNew" in candidate.source and "torch.softmax" in candidate.source
    assert candidate.symbol == "ModelNew" and candidate.round == 1
    assert candidate.rationale.startswith("The reference computes max")
    assert proposal.rejected == ()
    u = proposal.usage
    assert (u.input_tokens, u.output_tokens, u.cache_write_tokens, u.cache_read_tokens, u.requests) == (
        900,
        250,
        3000,
        0,
        1,
    )
    # claude-sonnet-5-5: $2/MTok in, $10/MTok out, 5-minute cache writes at 1.25x input ($2.50).
    assert u.cost_usd == pytest.approx((900 * 2 + 250 * 10 + 3000 * 2.5) / 1e6)

    (req,) = server.received
    assert req.path == "/v1/messages"
    # anthropic 2.14 sends the key as a bearer token; older SDKs used x-api-key.
    assert req.headers.get("authorization") == "Bearer sk-test" or req.headers.get("x-api-key") == "sk-test"
    assert "anthropic-version" in req.headers
    body = req.body
    assert body["model"] == "claude-sonnet-5-5"
    assert body["max_tokens"] == 4096
    assert body["stream"] is True
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    context, turn = body["messages"][0]["content"]
    assert context["cache_control"] == {"type": "ephemeral"}
    assert "class Model(nn.Module)" in context["text"] and "NVIDIA H100" in context["text"]
    assert "cache_control" not in turn and "Round 1" in turn["text"]


async def test_the_fixed_context_is_identical_across_rounds_so_the_cache_hits() -> None:
    history = (
        CandidateFeedback(
            "r1-c1", 1, Outcome.CHECK_FAILED, "value: max abs error 0.3 > atol 1e-5", check="value"
        ),
    )
    script = [Scripted(text=GOOD_REPLY), Scripted(text=GOOD_REPLY, cache_read_tokens=3000)]
    with AnthropicServer(script) as server:
        provider = AnthropicProvider(base_url=server.url, api_key="k", retry=FAST)
        await provider.propose(module_request(round=1))
        second = await provider.propose(module_request(round=2, history=history))
        await provider.close()
    first_ctx = server.received[0].body["messages"][0]["content"][0]["text"]
    second_ctx, second_turn = server.received[1].body["messages"][0]["content"]
    assert first_ctx == second_ctx["text"]
    assert server.received[0].body["system"] == server.received[1].body["system"]
    assert "max abs error 0.3" in second_turn["text"] and "Round 2" in second_turn["text"]
    assert second.usage.cache_read_tokens == 3000


async def test_429_with_retry_after_then_success() -> None:
    script = [
        Scripted(status=429, error_type="rate_limit_error", headers={"retry-after": "0"}),
        Scripted(text=GOOD_REPLY),
    ]
    with AnthropicServer(script) as server:
        provider = AnthropicProvider(base_url=server.url, api_key="k", retry=FAST)
        proposal = await provider.propose(module_request())
        await provider.close()
    assert len(server.received) == 2
    assert len(proposal.candidates) == 1
    assert any("429" in note and "retrying in 0.00 s" in note for note in proposal.notes)


async def test_overloaded_529_then_success() -> None:
    script = [
        Scripted(status=529, error_type="overloaded_error", error_message="Overloaded"),
        Scripted(text=GOOD_REPLY),
    ]
    with AnthropicServer(script) as server:
        provider = AnthropicProvider(base_url=server.url, api_key="k", retry=FAST)
        proposal = await provider.propose(module_request())
        await provider.close()
    assert len(server.received) == 2 and len(proposal.candidates) == 1
    assert any("overloaded_error" in note for note in proposal.notes)


async def test_overloaded_error_in_the_middle_of_a_stream_is_retried() -> None:
    script = [
        Scripted(text=GOOD_REPLY, error_mid_stream=True, error_type="overloaded_error"),
        Scripted(text=GOOD_REPLY),
    ]
    with AnthropicServer(script) as server:
        provider = AnthropicProvider(base_url=server.url, api_key="k", retry=FAST)
        proposal = await provider.propose(module_request())
        await provider.close()
    assert len(server.received) == 2 and len(proposal.candidates) == 1


async def test_a_reply_without_code_is_rejected_not_a_crash() -> None:
    script = [Scripted(text="I would fuse the softmax, but I cannot show code right now.")]
    with AnthropicServer(script) as server:
        provider = AnthropicProvider(base_url=server.url, api_key="k", retry=FAST)
        proposal = await provider.propose(module_request())
        await provider.close()
    assert proposal.candidates == ()
    (reason,) = proposal.rejected
    assert reason.startswith("no code in reply")


async def test_401_is_a_clear_error_without_retries() -> None:
    script = [
        Scripted(status=401, error_type="authentication_error", error_message="invalid x-api-key"),
        Scripted(text=GOOD_REPLY),
    ]
    with AnthropicServer(script) as server:
        provider = AnthropicProvider(base_url=server.url, api_key="bad", retry=FAST)
        with pytest.raises(ProviderError, match=r"refused the API key \(401\).*invalid x-api-key"):
            await provider.propose(module_request())
        await provider.close()
    assert len(server.received) == 1


async def test_persistent_overload_gives_up_after_the_policy_attempts() -> None:
    script = [Scripted(status=529, error_type="overloaded_error")] * 5
    with AnthropicServer(script) as server:
        provider = AnthropicProvider(base_url=server.url, api_key="k", retry=FAST)
        with pytest.raises(ProviderError, match="request failed"):
            await provider.propose(module_request())
        await provider.close()
    assert len(server.received) == FAST.max_attempts


def test_missing_key_is_reported_before_any_request() -> None:
    with (
        AnthropicServer([Scripted(text=GOOD_REPLY)]) as server,
        pytest.raises(ProviderError, match="ANTHROPIC_API_KEY"),
    ):
        AnthropicProvider(base_url=server.url)
    assert server.received == []


async def test_environment_key_base_url_and_model_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    with AnthropicServer([Scripted(text=GOOD_REPLY)]) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-from-env")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_MODEL", "claude-haiku-4-5")
        provider = AnthropicProvider(retry=FAST)
        assert provider.model == "claude-haiku-4-5"
        proposal = await provider.propose(module_request())
        await provider.close()
    assert len(proposal.candidates) == 1
    headers = server.received[0].headers
    assert headers.get("authorization") == "Bearer sk-from-env" or headers.get("x-api-key") == "sk-from-env"
    assert server.received[0].body["model"] == "claude-haiku-4-5"


async def test_several_candidates_per_round_each_get_a_request() -> None:
    with AnthropicServer([Scripted(text=GOOD_REPLY)] * 3) as server:
        provider = AnthropicProvider(base_url=server.url, api_key="k", retry=FAST)
        proposal = await provider.propose(module_request(count=3))
        await provider.close()
    assert len(server.received) == 3 and len(proposal.candidates) == 3
    turns = sorted(r.body["messages"][0]["content"][1]["text"] for r in server.received)
    assert all("of 3" in t for t in turns) and len(set(turns)) == 3
    assert proposal.usage.requests == 3
