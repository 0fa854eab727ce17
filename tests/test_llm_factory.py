"""Client configs, API keys from the environment, prices."""

import logging

import pytest
from pydantic import ValidationError

from core.errors import ConfigError
from core.llm.anthropic_client import AnthropicClient
from core.llm.base import Request
from core.llm.factory import ClientConfig, make_client
from core.llm.hf_local import HFLocalClient
from core.llm.openai_chat import OpenAIChatClient
from core.llm.pricing import cost_usd, price_of
from core.llm.scripted import ScriptedClient
from core.llm.vllm_completions import VLLMCompletionsClient
from core.settings import get_settings
from tests.fakes.openai_server import FakeLLMServer
from tests.fakes.tiny_model import build_tiny_llama


@pytest.fixture(autouse=True)
def no_keys(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "DEEPSEEK_API_KEY", "VLLM_API_KEY",
                 "OPENAI_BASE_URL", "VLLM_BASE_URLS"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_prices_match_dated_names_and_aliases():
    assert price_of("gpt-4o-2024-08-06") == price_of("gpt-4o")
    assert price_of("gpt-4o-mini-2024-07-18").input == 0.15  # the longest prefix wins
    assert price_of("deepseek-ai/DeepSeek-V3") == price_of("deepseek-chat")
    assert cost_usd("claude-3-5-sonnet-20241022", 1_000_000, 100_000) == pytest.approx(3.0 + 1.5)
    assert price_of("meta-llama/Meta-Llama-3.1-70B-Instruct") is not None


def test_unknown_model_is_free_with_one_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="core.llm.pricing"):
        assert cost_usd("my-own-merged-model-round-2", 10, 10) == 0.0
        assert cost_usd("my-own-merged-model-round-2", 10, 10) == 0.0
    assert len(caplog.records) == 1 and "my-own-merged-model-round-2" in caplog.text


def test_keys_come_from_the_environment(monkeypatch):
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        make_client(ClientConfig(backend="openai", model="gpt-4o"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    client = make_client(ClientConfig(backend="openai", model="gpt-4o"))
    assert isinstance(client, OpenAIChatClient) and client.api_key == "sk-test" and not client.vllm
    assert client.pool.urls == ["https://api.openai.com/v1"]
    monkeypatch.setenv("DEEPINFRA_API_KEY", "di-test")
    deepinfra = make_client(ClientConfig(backend="openai", model="meta-llama/Meta-Llama-3.1-70B-Instruct",
                                         base_urls=["https://api.deepinfra.com/v1/openai"],
                                         api_key_env="DEEPINFRA_API_KEY"))
    assert deepinfra.api_key == "di-test"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "a-test")
    claude = make_client(ClientConfig(backend="anthropic", model="claude-3-5-sonnet-20241022"))
    assert isinstance(claude, AnthropicClient) and claude.pool.urls == ["https://api.anthropic.com"]
    monkeypatch.setenv("DEEPSEEK_API_KEY", "d-test")
    assert make_client(ClientConfig(backend="deepseek", model="deepseek-chat")).pool.urls == [
        "https://api.deepseek.com/v1"]


def test_vllm_and_local_backends(monkeypatch, tmp_path):
    monkeypatch.setenv("VLLM_BASE_URLS", "http://127.0.0.1:8001/v1, http://127.0.0.1:8002/v1")
    model_dir = build_tiny_llama(tmp_path / "tiny", style="double-bos")
    config = ClientConfig(backend="vllm-completions", model=str(model_dir), min_p=0.7, max_attempts=5)
    client = make_client(config)
    assert isinstance(client, VLLMCompletionsClient) and client.api_key is None
    assert client.pool.urls == ["http://127.0.0.1:8001/v1", "http://127.0.0.1:8002/v1"]
    assert client.policy.max_attempts == 5 and client.defaults.min_p == 0.7
    chat = make_client(ClientConfig(backend="vllm-chat", model="served", base_urls=["http://h:1/v1"]))
    assert isinstance(chat, OpenAIChatClient) and chat.vllm
    local = make_client(ClientConfig(backend="hf-local", model=str(model_dir), temperature=0.0))
    assert isinstance(local, HFLocalClient) and local.defaults.temperature == 0.0
    scripted = make_client(ClientConfig(backend="scripted", model="expert", responses=["a", "b"]))
    assert isinstance(scripted, ScriptedClient)
    with pytest.raises(ValidationError):
        ClientConfig(backend="vllm", model="x")
    with pytest.raises(ValidationError):
        ClientConfig(backend="openai", model="x", api_key="sk-in-a-config-file")


async def test_config_defaults_reach_the_server():
    async with FakeLLMServer() as server:
        config = ClientConfig(backend="vllm-chat", model="served", base_urls=[server.openai_url],
                              temperature=0.3, min_p=0.7, max_tokens=77)
        client = make_client(config)
        await client.complete(Request(messages=[{"role": "user", "content": "hi"}], top_p=0.5))
        await client.aclose()
    body = server.received[0].body
    assert (body["temperature"], body["min_p"], body["max_tokens"], body["top_p"]) == (0.3, 0.7, 77, 0.5)


@pytest.mark.parametrize("backend", ["scripted-expert", "scripted-wrong"])
def test_benchmark_scripted_backends_need_a_benchmark(backend):
    with pytest.raises(ConfigError, match=rf"the {backend} backend answers from a benchmark's solutions"):
        make_client(ClientConfig(backend=backend))  # was a bare KeyError
