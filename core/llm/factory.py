"""Build an :class:`LLMClient` from a :class:`ClientConfig` (one YAML block per model).

Keys are never in configs or code: ``api_key_env`` names an environment variable (also read from
``.env`` through :func:`core.settings.get_settings`); each backend has a default one.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import ConfigDict, Field

from core.config import Config
from core.errors import ConfigError
from core.llm.base import LLMClient
from core.llm.retry import RetryPolicy
from core.llm.sampling import SamplingDefaults
from core.settings import get_settings

Backend = Literal["openai", "vllm-chat", "vllm-completions", "anthropic", "deepseek", "hf-local", "scripted",
                  "scripted-expert", "scripted-wrong"]  # the last two need a benchmark: tasks.experts.client_for

DEFAULT_BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "deepseek": "https://api.deepseek.com/v1",
    "anthropic": "https://api.anthropic.com",
}
DEFAULT_KEY_ENV = {
    "openai": "OPENAI_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "vllm-chat": "VLLM_API_KEY",
    "vllm-completions": "VLLM_API_KEY",
}


class ClientConfig(Config):
    model_config = ConfigDict(frozen=True)

    backend: Backend
    model: str = Field("", description="model name sent to the endpoint; for hf-local a local path "
                       "(not needed by the scripted backends)")
    base_urls: list[str] = Field(default_factory=list, description="replicas; empty: the backend's "
                                 "default (vLLM: settings.vllm_base_urls)")
    api_key_env: str | None = Field(None, description="environment variable holding the key")
    tokenizer: str | None = Field(None, description="local tokenizer path/name (vllm-completions, "
                                  "hf-local); default: the model")
    adapter: str | None = Field(None, description="PEFT adapter path (hf-local)")
    device: str = Field("cpu", description="torch device (hf-local)")
    threads: int | None = Field(None, ge=1, description="torch CPU threads (hf-local); default: the usable cores less one")
    assistant_prefill: bool = Field(True, description="anthropic: send the prefill as a final "
                                    "assistant turn (models from Claude 4.6 on reject it)")
    max_concurrency: int = Field(16, ge=1, description="calls in flight per base URL")
    timeout_s: float = Field(120.0, gt=0, description="limit for one attempt")
    max_attempts: int = Field(3, ge=1)
    temperature: float | None = Field(None, ge=0)
    top_p: float | None = Field(None, gt=0, le=1)
    min_p: float | None = Field(None, ge=0, le=1, description="vLLM and hf-local only")
    max_tokens: int | None = Field(None, ge=1)
    loop_stop: int | None = Field(None, ge=0, description="hf-local: end a text that ends in one span repeated "
                                  "3+ times over at least N tokens (finish reason 'repetition'); 0: off; default 32")
    responses: list[str] = Field(default_factory=list, description="replies of the scripted backend")

    def sampling(self) -> SamplingDefaults:
        return SamplingDefaults(temperature=self.temperature, top_p=self.top_p, min_p=self.min_p,
                                max_tokens=self.max_tokens, loop_stop=self.loop_stop)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.max_attempts, timeout_s=self.timeout_s)


def api_key(config: ClientConfig) -> str | None:
    """The key from ``config.api_key_env`` (or the backend's default variable), env or ``.env``."""
    name = config.api_key_env or DEFAULT_KEY_ENV.get(config.backend)
    if name is None:
        return None
    if os.environ.get(name):
        return os.environ[name]
    secret = getattr(get_settings(), name.lower(), None)
    return secret.get_secret_value() if secret is not None else None


def base_urls(config: ClientConfig) -> list[str]:
    if config.base_urls:
        return config.base_urls
    if config.backend in ("vllm-chat", "vllm-completions"):
        return get_settings().vllm_urls()
    if config.backend == "openai" and get_settings().openai_base_url:
        return [get_settings().openai_base_url]
    return [DEFAULT_BASE_URLS[config.backend]]


def make_client(config: ClientConfig) -> LLMClient:
    """The client for ``config`` (heavy backends are imported only when used)."""
    if config.backend in ("scripted-expert", "scripted-wrong"):
        raise ConfigError(f"the {config.backend} backend answers from a benchmark's solutions: build it with "
                          "tasks.experts.client_for(config, benchmark), or use mnm collect/run-task")
    if not config.model and not config.backend.startswith("scripted"):
        raise ConfigError(f"the {config.backend} backend needs client.model")
    if config.backend == "scripted":
        from core.llm.scripted import ScriptedClient

        return ScriptedClient(config.responses, model=config.model)
    if config.backend == "hf-local":
        from core.llm.hf_local import HFLocalClient

        return HFLocalClient(config.model, tokenizer=config.tokenizer, adapter=config.adapter,
                             device=config.device, threads=config.threads, defaults=config.sampling())
    key = api_key(config)
    if key is None and config.backend in ("openai", "deepseek", "anthropic"):
        raise ConfigError(f"{config.backend} backend needs an API key: set "
                          f"{config.api_key_env or DEFAULT_KEY_ENV[config.backend]} in the environment or .env")
    common = {"api_key": key, "max_concurrency": config.max_concurrency,
              "policy": config.retry_policy(), "defaults": config.sampling()}
    urls = base_urls(config)
    if config.backend == "anthropic":
        from core.llm.anthropic_client import AnthropicClient

        return AnthropicClient(config.model, urls, assistant_prefill=config.assistant_prefill, **common)
    if config.backend == "vllm-completions":
        from core.llm.vllm_completions import VLLMCompletionsClient

        return VLLMCompletionsClient(config.model, urls, tokenizer=config.tokenizer or config.model, **common)
    from core.llm.openai_chat import OpenAIChatClient

    return OpenAIChatClient(config.model, urls, vllm=config.backend == "vllm-chat", **common)
