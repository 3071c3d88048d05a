"""Any OpenAI-compatible chat server (vLLM, llama.cpp's server, Ollama, OpenAI itself) through the openai
SDK: streaming, the same retries and accounting as the Claude provider."""

from __future__ import annotations

import os
from typing import Any

from kernelwright.core.candidate import Usage
from kernelwright.core.settings import ProviderName
from kernelwright.optimize.prompting import RenderedPrompt
from kernelwright.optimize.providers.base import ProviderError
from kernelwright.optimize.providers.model_common import Reply, SdkProvider, endpoint_words
from kernelwright.optimize.providers.pricing import priced
from kernelwright.optimize.providers.retry import RetryDecision, RetryPolicy, parse_retry_after

DEFAULT_MAX_TOKENS = 8_000
REQUEST_TIMEOUT_S = 600.0
# Local servers ignore the key, but the SDK insists on one.
LOCAL_PLACEHOLDER_KEY = "not-needed"


class OpenAIProvider(SdkProvider):
    name = ProviderName.OPENAI

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        retry: RetryPolicy | None = None,
    ) -> None:
        url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not url:
            raise ProviderError(
                "the openai provider needs the server's base URL: pass --base-url (for example "
                "http://127.0.0.1:8000/v1 for vLLM, http://127.0.0.1:11434/v1 for Ollama) "
                "or set OPENAI_BASE_URL"
            )
        name = model or os.environ.get("OPENAI_MODEL")
        if not name:
            raise ProviderError(
                "the openai provider needs a model name: pass --model "
                "(the name the server lists at /v1/models)"
            )
        try:
            import openai
        except ImportError:
            raise ProviderError(
                "the openai provider needs the openai SDK: pip install 'kernelwright[openai]'"
            ) from None
        client = openai.AsyncOpenAI(
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or LOCAL_PLACEHOLDER_KEY,
            base_url=url,
            max_retries=0,
            timeout=REQUEST_TIMEOUT_S,
        )
        endpoint = endpoint_words(
            url, "--base-url (the editor's baseUrl setting)" if base_url else "OPENAI_BASE_URL"
        )
        super().__init__(
            openai, client, name, endpoint, "the OpenAI-compatible request failed", max_tokens, retry
        )

    def _classify(self, exc: BaseException) -> RetryDecision:
        o = self._sdk
        if isinstance(exc, o.AuthenticationError | o.PermissionDeniedError):
            raise ProviderError(
                f"the server refused the API key ({exc.status_code}): check OPENAI_API_KEY. "
                f"Server said: {exc.message}"
            ) from exc
        if isinstance(exc, o.APIStatusError):
            status = exc.status_code
            if status == 429 or status >= 500:
                return RetryDecision(
                    True,
                    f"{status} from the server",
                    parse_retry_after(exc.response.headers.get("retry-after")),
                )
            if status == 404:
                raise ProviderError(
                    f"the server does not know model `{self._model}` (404): {exc.message}"
                ) from exc
            raise ProviderError(f"the server rejected the request ({status}): {exc.message}") from exc
        if isinstance(exc, o.APIConnectionError):
            return RetryDecision(True, f"connection failed: {exc}")
        return RetryDecision(False, str(exc))

    async def _request(self, prompt: RenderedPrompt) -> Reply:
        params: dict[str, Any] = {
            "model": self._model,
            "max_tokens": self._max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
            # The fixed context goes first so servers with prefix caching (vLLM, llama.cpp) reuse it.
            "messages": [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.context + "\n\n" + prompt.turn},
            ],
        }
        parts: list[str] = []
        usage = Usage(requests=1)
        finish = ""
        stream = await self._client.chat.completions.create(**params)
        async for chunk in stream:
            for choice in chunk.choices:
                if choice.delta and choice.delta.content:
                    parts.append(choice.delta.content)
                if choice.finish_reason:
                    finish = choice.finish_reason
            if chunk.usage is not None:
                cached = 0
                details = chunk.usage.prompt_tokens_details
                if details is not None and details.cached_tokens:
                    cached = details.cached_tokens
                usage = priced(
                    self._model,
                    chunk.usage.prompt_tokens - cached,
                    chunk.usage.completion_tokens,
                    0,
                    cached,
                )
        return Reply("".join(parts), usage, finish)
