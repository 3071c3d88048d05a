"""The OpenAI-compatible provider, for real through the openai SDK, against a scripted chat server."""

from __future__ import annotations

import pytest
from kernelwright.optimize.providers.base import ProviderError
from kernelwright.optimize.providers.openai_provider import OpenAIProvider
from kernelwright.optimize.providers.retry import RetryPolicy
from support.optimize_requests import module_request
from support.scripted_servers import OpenAIServer, Scripted

FAST = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)

REPLY = """Use the fused op.

```python
import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return torch.softmax(x, dim=self.dim)
```
"""


@pytest.fixture(autouse=True)
def _no_ambient_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)


async def test_streamed_chunks_become_a_candidate_with_usage() -> None:
    with OpenAIServer(
        [Scripted(text=REPLY, input_tokens=700, output_tokens=120, cache_read_tokens=500)]
    ) as server:
        provider = OpenAIProvider(
            model="qwen3-coder", base_url=server.url + "/v1", max_tokens=2048, retry=FAST
        )
        proposal = await provider.propose(module_request())
        await provider.close()
    (candidate,) = proposal.candidates
    assert "torch.softmax" in candidate.source and candidate.provider.value == "openai"
    assert (proposal.usage.input_tokens, proposal.usage.cache_read_tokens, proposal.usage.output_tokens) == (
        700,
        500,
        120,
    )
    assert proposal.usage.cost_usd == 0.0  # a local model has no price
    (req,) = server.received
    assert req.path == "/v1/chat/completions"
    assert req.body["model"] == "qwen3-coder"
    assert req.body["max_tokens"] == 2048
    assert req.body["stream"] is True and req.body["stream_options"] == {"include_usage": True}
    system, user = req.body["messages"]
    assert system["role"] == "system" and "GPU performance engineer" in system["content"]
    assert user["content"].index("class Model(nn.Module)") < user["content"].index("Round 1")
    assert req.headers["authorization"] == "Bearer not-needed"


async def test_429_then_success_and_500_then_success() -> None:
    script = [
        Scripted(status=429, headers={"retry-after": "0"}),
        Scripted(text=REPLY),
        Scripted(status=500, error_message="boom"),
        Scripted(text=REPLY),
    ]
    with OpenAIServer(script) as server:
        provider = OpenAIProvider(model="m", base_url=server.url + "/v1", retry=FAST)
        first = await provider.propose(module_request())
        second = await provider.propose(module_request())
        await provider.close()
    assert len(server.received) == 4
    assert len(first.candidates) == 1 and len(second.candidates) == 1
    assert any("429" in n for n in first.notes) and any("500" in n for n in second.notes)


async def test_no_code_reply_is_rejected() -> None:
    with OpenAIServer([Scripted(text="Sorry, I can't help with that.")]) as server:
        provider = OpenAIProvider(model="m", base_url=server.url + "/v1", retry=FAST)
        proposal = await provider.propose(module_request())
        await provider.close()
    assert proposal.candidates == () and proposal.rejected[0].startswith("no code in reply")


async def test_401_is_a_clear_error() -> None:
    with OpenAIServer([Scripted(status=401, error_message="Incorrect API key")]) as server:
        provider = OpenAIProvider(model="m", base_url=server.url + "/v1", api_key="bad", retry=FAST)
        with pytest.raises(ProviderError, match=r"refused the API key \(401\).*Incorrect API key"):
            await provider.propose(module_request())
        await provider.close()
    assert len(server.received) == 1


def test_base_url_and_model_are_required_with_a_clear_message() -> None:
    with pytest.raises(ProviderError, match="--base-url"):
        OpenAIProvider(model="m")
    with pytest.raises(ProviderError, match="--model"):
        OpenAIProvider(base_url="http://127.0.0.1:9/v1")


async def test_environment_base_url_and_model(monkeypatch: pytest.MonkeyPatch) -> None:
    with OpenAIServer([Scripted(text=REPLY)]) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        monkeypatch.setenv("OPENAI_MODEL", "llama-3.3")
        provider = OpenAIProvider(retry=FAST)
        proposal = await provider.propose(module_request())
        await provider.close()
    assert len(proposal.candidates) == 1 and server.received[0].body["model"] == "llama-3.3"
