"""Build the provider a setting or a flag names. The model SDKs are imported only when asked for."""

from __future__ import annotations

from kernelwright.core.settings import ProviderName
from kernelwright.optimize.providers.base import Provider


def make_provider(name: ProviderName, model: str | None = None, base_url: str | None = None) -> Provider:
    """ProviderError (a clear message) when the provider cannot work as configured: no key, no URL."""
    if name is ProviderName.ANTHROPIC:
        from kernelwright.optimize.providers.anthropic_provider import AnthropicProvider

        return AnthropicProvider(model=model, base_url=base_url)
    if name is ProviderName.OPENAI:
        from kernelwright.optimize.providers.openai_provider import OpenAIProvider

        return OpenAIProvider(model=model, base_url=base_url)
    from kernelwright.optimize.providers.builtin import BuiltinProvider

    return BuiltinProvider()
