"""No secret reaches the model or the store, even when a candidate's error message tries to carry one:
Claude's SDK against a scripted Messages server proposes samples/confinement/leak_secrets_at_run.py
(it reads what it can and raises with it, raw, reversed and spaced out); its rejection goes into the
next prompt and into the store. Both must be free of the person's secrets."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from kernelwright.analysis import analyze
from kernelwright.engine import confinement
from kernelwright.engine.pool import WorkerPool
from kernelwright.optimize.budget import Budget
from kernelwright.optimize.events import VerdictReady
from kernelwright.optimize.loop import optimize
from kernelwright.optimize.providers.anthropic_provider import AnthropicProvider
from kernelwright.optimize.providers.retry import RetryPolicy
from kernelwright.store import Store
from support.scripted_servers import AnthropicServer, Scripted

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)

SAMPLES = Path(__file__).resolve().parents[3] / "samples" / "confinement"


def _reply(code: str) -> str:
    return f"This reads faster.\n\n```python\n{code}```\n"


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.skipif(not confinement.support().available, reason="no box can be made here")
async def test_the_next_prompt_and_the_store_carry_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = uuid.uuid4().hex
    secrets = {
        "ssh": f"SSHKEY{token}",
        "env": f"APPKEY{token}",
        "api": f"sk-ant-{token}",
        "git": f"GIT{token}",
    }
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(secrets["ssh"])
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(f"url = https://x:{secrets['git']}@h\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MYAPP_KEY", secrets["env"])
    monkeypatch.setenv("ANTHROPIC_API_KEY", secrets["api"])
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    problem = (SAMPLES / "reference.py").read_text()
    path = tmp_path / "problem.py"
    path.write_text(problem)
    site = analyze(problem, str(path)).site("Model")
    assert site is not None
    guesses = [
        str(home / ".ssh" / "id_rsa"),
        str(tmp_path / ".git" / "config"),
        str(tmp_path / ".kernelwright"),
    ]
    leak = (
        (SAMPLES / "leak_secrets_at_run.py")
        .read_text()
        .replace("SETUP: dict = {}", f"SETUP: dict = {{'files': {guesses!r}}}", 1)
    )
    script = [Scripted(text=_reply(leak)), Scripted(text="Nothing more to try.")]
    with AnthropicServer(script) as server:
        provider = AnthropicProvider(
            base_url=server.url, api_key=secrets["api"], retry=RetryPolicy(max_attempts=1, base_delay_s=0.01)
        )
        with Store.for_workspace(tmp_path) as store:
            async with WorkerPool(["cpu"]) as pool:
                events = [
                    e
                    async for e in optimize(
                        site, problem, str(path), provider, Budget(rounds=2, candidates=2), pool, store
                    )
                ]
        await provider.close()
    leaked = next(
        e for e in events if isinstance(e, VerdictReady) and e.candidate_id.startswith("r1-anthropic")
    )
    assert leaked.verdict is not None and not leaked.verdict.passed
    assert "shape mismatch; debug" in leaked.verdict.message  # its words came back...
    assert len(server.received) == 2
    prompt = str(server.received[1].body)
    assert "shape mismatch; debug" in prompt  # ...and went into round 2's prompt...
    stored = b"".join(p.read_bytes() for p in (tmp_path / ".kernelwright").rglob("*") if p.is_file())
    assert b"shape mismatch; debug" in stored  # ...and into the store,
    for name, value in secrets.items():  # with none of the person's secrets, in any form the sample uses
        for form in (value, value[::-1], " ".join(value)):
            assert form not in prompt, f"{name} reached the prompt"
            assert form.encode() not in stored, f"{name} reached the store"
