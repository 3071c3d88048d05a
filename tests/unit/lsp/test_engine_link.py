"""The editor's pool follows the cluster setting (issue 6: a setting and a CLI flag choose the backend)."""

from __future__ import annotations

import pytest
from kernelwright.core.errors import UsageError
from kernelwright.core.settings import Settings
from kernelwright.engine.pool import WorkerPool
from kernelwright.lsp.engine_link import EngineLink, PoolKey

pytestmark = pytest.mark.processes  # starts workers or subprocesses (support/tiers.py)


def test_the_pool_key_changes_with_the_cluster() -> None:
    assert PoolKey.of(Settings(cluster="local")) != PoolKey.of(Settings(cluster="ray"))


async def test_local_cluster_gives_the_local_pool_and_a_bad_one_says_why() -> None:
    link = EngineLink()
    try:
        pool = await link.pool(Settings(device="cpu", cluster="local"))
        assert isinstance(pool, WorkerPool)
        assert link.worker_pids() == pool.pids()
    finally:
        await link.close()
    with pytest.raises(UsageError, match="unknown cluster"):
        await EngineLink().pool(Settings(device="cpu", cluster="nowhere"))
