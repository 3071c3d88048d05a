"""Claude through the official anthropic SDK: streaming, retries, prompt caching, token and cost accounts.

The fixed context (system text and the reference file, convention and device) carries cache_control,
so every request after the first in a run reads it from the cache at a tenth of the input price.
"""

from __future__ import annotations

import os
from typing import Any

from kernelwright.core.settings import ProviderName
from kernelwright.optimize.prompting import RenderedPrompt
from kernelwright.optimize.providers.base import ProviderError
from kernelwright.optimize.providers.model_common import Reply, SdkProvider, endpoint_words
from kernelwright.optimize.providers.pricing import priced
from kernelwright.optimize.providers.retry import RetryDecision, RetryPolicy, parse_retry_after

DEFAULT_MODEL = "claude-sonnet-5-5"
DEFAULT_MAX_TOKENS = 16_000
REQUEST_TIMEOUT_S = 600.0


class AnthropicProvider(SdkProvider):
    name = ProviderName.ANTHROPIC

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        retry: RetryPolicy | None = None,
    ) -> None:
        key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise ProviderError(
                "the anthropic provider needs an API key: set ANTHROPIC_API_KEY in the environment "
                "(in VS Code: the `kernelwright: Set API key` command), or use --provider builtin"
            )
        try:
            import anthropic
        except ImportError:
            raise ProviderError(
                "the anthropic provider needs the anthropic SDK: pip install 'kernelwright[anthropic]'"
            ) from None
        url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        if base_url:
            set_by: str | None = "--base-url (the editor's baseUrl setting)"
        else:
            set_by = "ANTHROPIC_BASE_URL" if url else None
        client = anthropic.AsyncAnthropic(
            api_key=key,
            base_url=url,
            max_retries=0,  # ours count and report every retry the same way for every provider
            timeout=REQUEST_TIMEOUT_S,
        )
        super().__init__(
            anthropic,
            client,
            model or os.environ.get("ANTHROPIC_MODEL") or DEFAULT_MODEL,
            endpoint_words(url or "https://api.anthropic.com", set_by),
            "Anthropic request failed",
            max_tokens,
            retry,
        )

    def _classify(self, exc: BaseException) -> RetryDecision:
        a = self._sdk
        if isinstance(exc, a.AuthenticationError | a.PermissionDeniedError):
            raise ProviderError(
                f"Anthropic refused the API key ({exc.status_code}): check ANTHROPIC_API_KEY "
                f"(and ANTHROPIC_BASE_URL if set). Server said: {_message(exc)}"
            ) from exc
        if isinstance(exc, a.APIStatusError):
            status = exc.status_code
            body = exc.body if isinstance(exc.body, dict) else {}
            error = body.get("error") if isinstance(body.get("error"), dict) else {}
            kind = str(error.get("type", "")) if isinstance(error, dict) else ""
            headers = exc.response.headers
            hint = parse_retry_after(headers.get("retry-after"))
            if (
                status == 429
                or status >= 500
                or kind in ("overloaded_error", "rate_limit_error", "api_error")
            ):
                return RetryDecision(True, f"{status} {kind or 'server error'}", hint)
            if status == 404:
                raise ProviderError(f"model `{self._model}` was not found: {_message(exc)}") from exc
            raise ProviderError(f"Anthropic rejected the request ({status}): {_message(exc)}") from exc
        if isinstance(exc, a.APIConnectionError):
            return RetryDecision(True, f"connection failed: {exc}")
        return RetryDecision(False, str(exc))

    async def _request(self, prompt: RenderedPrompt) -> Reply:
        params: dict[str, Any] = {
            "model": self._model,
            "max_tokens": self._max_tokens,
            "system": [{"type": "text", "text": prompt.system, "cache_control": {"type": "ephemeral"}}],
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": prompt.context, "cache_control": {"type": "ephemeral"}},
                        {"type": "text", "text": prompt.turn},
                    ],
                }
            ],
        }
        async with self._client.messages.stream(**params) as stream:
            async for _ in stream.text_stream:
                pass
            message = await stream.get_final_message()
        text = "".join(block.text for block in message.content if block.type == "text")
        u = message.usage
        usage = priced(
            self._model,
            u.input_tokens,
            u.output_tokens,
            u.cache_creation_input_tokens or 0,
            u.cache_read_input_tokens or 0,
        )
        return Reply(text, usage, message.stop_reason or "")

    def _detail(self, exc: Exception) -> str:
        return _message(exc)


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and "message" in error:
            return str(error["message"])
    return str(exc)
