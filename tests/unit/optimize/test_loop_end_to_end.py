"""The whole loop for real: Claude's SDK against a scripted Messages server, candidates verified and
timed by real CPU workers. Round 1's candidate computes softmax over the wrong axis and must be rejected
by verification; the rejection must reach round 2's prompt; round 2's candidate must pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from kernelwright.analysis import analyze
from kernelwright.core.measure import CheckName
from kernelwright.engine.pool import WorkerPool
from kernelwright.optimize.budget import Budget
from kernelwright.optimize.events import Done, Status, VerdictReady
from kernelwright.optimize.loop import optimize
from kernelwright.optimize.providers.anthropic_provider import AnthropicProvider
from kernelwright.optimize.providers.retry import RetryPolicy
from kernelwright.store import Store
from support.scripted_servers import AnthropicServer, Scripted

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

PROBLEM = """import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        e = torch.exp(x - x.amax(dim=1, keepdim=True))
        return e / e.sum(dim=1, keepdim=True)


def get_inputs():
    return [torch.randn(64, 256)]


def get_init_inputs():
    return []
"""


def reply(dim: str) -> str:
    return (
        "Use the fused kernel.\n\n```python\nimport torch\nimport torch.nn as nn\n\n\n"
        "class ModelNew(nn.Module):\n    def __init__(self):\n        super().__init__()\n\n"
        f"    def forward(self, x):\n        return torch.softmax(x, dim={dim})\n```\n"
    )


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_a_rejected_candidate_feeds_back_and_the_next_one_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    path = tmp_path / "softmax.py"
    path.write_text(PROBLEM)
    site = analyze(PROBLEM, str(path)).site("Model")
    assert site is not None
    with AnthropicServer([Scripted(text=reply("0")), Scripted(text=reply("1"))]) as server:
        provider = AnthropicProvider(
            base_url=server.url, api_key="sk-test", retry=RetryPolicy(max_attempts=2, base_delay_s=0.01)
        )
        with Store.for_workspace(tmp_path) as store:
            async with WorkerPool(["cpu"]) as pool:
                events = [
                    e
                    async for e in optimize(
                        site, PROBLEM, str(path), provider, Budget(rounds=2, candidates=2), pool, store
                    )
                ]
        await provider.close()
    verdicts = {e.candidate_id: e for e in events if isinstance(e, VerdictReady)}
    wrong = next(v for cid, v in verdicts.items() if cid.startswith("r1-anthropic"))
    right = next(v for cid, v in verdicts.items() if cid.startswith("r2-anthropic"))
    assert verdicts["r1-original"].verdict is not None and verdicts["r1-original"].verdict.passed
    assert wrong.verdict is not None and not wrong.verdict.passed
    assert wrong.verdict.check in (CheckName.VALUE, CheckName.ERROR_NORM)
    assert right.verdict is not None and right.verdict.passed, right.message
    assert right.median_us is not None  # timed on the CPU, labelled as such by the harness
    second_turn = server.received[1].body["messages"][0]["content"][1]["text"]
    assert wrong.candidate_id in second_turn and "check failed" in second_turn
    done = events[-1]
    assert isinstance(done, Done)
    # Whether dim=1 softmax beats the unfused chain on this CPU is the measurement's call, not ours.
    assert done.result.status in (Status.IMPROVED, Status.NO_IMPROVEMENT)
    if done.result.status is Status.IMPROVED:
        assert (
            done.result.new_file_text is not None and "torch.softmax(x, dim=1)" in done.result.new_file_text
        )
