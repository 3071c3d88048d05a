"""Where no box can be made, an optimize run with a model provider does not start (not one request to
the model), and says why and how to fix it; with allow_unconfined it runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kernelwright.analysis import analyze
from kernelwright.engine import confinement
from kernelwright.engine.config import WorkerConfig
from kernelwright.engine.pool import WorkerPool
from kernelwright.optimize.budget import Budget
from kernelwright.optimize.events import Done, Error, Note, Status
from kernelwright.optimize.loop import optimize
from kernelwright.optimize.providers.anthropic_provider import AnthropicProvider
from kernelwright.optimize.providers.retry import RetryPolicy
from support.scripted_servers import AnthropicServer, Scripted

REFERENCE = Path(__file__).resolve().parents[3] / "samples" / "confinement" / "reference.py"


@pytest.fixture
def no_box(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(confinement.BWRAP_ENV, "/nonexistent/bwrap")
    confinement.support.cache_clear()
    yield
    monkeypatch.delenv(confinement.BWRAP_ENV)
    confinement.support.cache_clear()


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("allowed", [False, True])
async def test_a_model_run_without_a_box_needs_consent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_box: None, allowed: bool
) -> None:
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    text = REFERENCE.read_text()
    path = tmp_path / "problem.py"
    path.write_text(text)
    site = analyze(text, str(path)).site("Model")
    assert site is not None
    with AnthropicServer([Scripted(text="Nothing to try.")]) as server:
        provider = AnthropicProvider(
            base_url=server.url, api_key="sk-test", retry=RetryPolicy(max_attempts=1)
        )
        async with WorkerPool(["cpu"], config=WorkerConfig(allow_unconfined=allowed), standby=False) as pool:
            events = [
                e async for e in optimize(site, text, str(path), provider, Budget(rounds=1), pool, None)
            ]
        await provider.close()
    done = events[-1]
    assert isinstance(done, Done)
    if allowed:
        assert any(
            isinstance(e, Note) and e.message.startswith("candidates run unconfined: ") for e in events
        )
        assert server.received  # the model was asked
        return
    errors = [e for e in events if isinstance(e, Error)]
    assert [e.stage for e in errors] == ["setup"]
    assert "would run unconfined" in errors[0].message and "bubblewrap" in errors[0].message
    assert "--allow-unconfined" in errors[0].message
    assert done.result.status is Status.FAILED
    assert server.received == []  # nothing was sent, no token spent
