"""The one protocol every provider implements, and the errors it raises."""

from __future__ import annotations

from typing import Protocol

from kernelwright.core.errors import KernelwrightError
from kernelwright.core.settings import ProviderName
from kernelwright.optimize.request import Proposal, ProposalRequest


class ProviderError(KernelwrightError):
    """A provider cannot work as configured (no key, key refused, server unreachable after retries)."""


class Provider(Protocol):
    """Proposes candidates for a site. Implementations never run the code they propose."""

    @property
    def name(self) -> ProviderName: ...

    @property
    def model(self) -> str:
        """The model's name, or "" for providers without one."""
        ...

    async def propose(self, request: ProposalRequest) -> Proposal:
        """Up to `request.count` candidates for round `request.round`; raise ProviderError when unusable."""
        ...

    async def close(self) -> None: ...
