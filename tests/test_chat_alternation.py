"""A template that requires alternating roles renders the agent's conversations, identically at
collection (hf-local, vLLM completions, vLLM chat) and in training."""

import pytest
from jinja2.exceptions import TemplateError

from core.chat_template import load_tokenizer
from core.errors import ConfigError
from core.llm.base import Request
from core.llm.hf_local import HFLocalClient
from core.llm.openai_chat import OpenAIChatClient
from core.llm.retry import RetryPolicy
from core.llm.sampling import SamplingDefaults
from core.llm.vllm_completions import VLLMCompletionsClient
from core.messages import to_chat
from tests.fakes.openai_server import FakeLLMServer
from tests.fakes.tiny_model import build_tiny_llama, tiny_examples
from training.sequences import collection_prompt, encode

FAST = RetryPolicy(max_attempts=1, timeout_s=5.0)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_tiny_llama(tmp_path_factory.mktemp("alternating"), style="alternating", init_std=0.02)


@pytest.fixture(scope="module")
def example():
    return tiny_examples(1)[0]


def targets(example):
    return [i for i, m in enumerate(example.messages) if m.target]


def request_for(example, i: int) -> Request:
    """The request the agent sent to generate message ``i``."""
    return Request(messages=to_chat(example.messages[:i]), prefill=example.messages[i].prefill,
                   stop=["</inner_monologue>"], temperature=0.0, max_tokens=8)


def test_the_template_rejects_consecutive_user_messages(model_dir, example):
    tokenizer = load_tokenizer(str(model_dir))
    with pytest.raises(TemplateError, match="alternate"):
        tokenizer.apply_chat_template(to_chat(example.messages), tokenize=False)


async def test_backends_and_training_render_the_same_tokens(model_dir, example):
    tokenizer = load_tokenizer(str(model_dir))
    teacher = encode(example, tokenizer)
    starts = [j for j, m in enumerate(teacher.target_mask) if m and not teacher.target_mask[j - 1]]
    hf = HFLocalClient(model_dir, defaults=SamplingDefaults(max_tokens=8))
    vllm = VLLMCompletionsClient("served", ["http://127.0.0.1:9"], tokenizer=tokenizer)
    for start, i in zip(starts, targets(example), strict=True):
        request = request_for(example, i)
        prompt = hf.render(request)
        assert prompt.startswith("<s>[INST] <task_description>")
        assert prompt.endswith("[/INST]" + example.messages[i].prefill)
        assert vllm.prepare(request)["prompt"] == prompt == collection_prompt(tokenizer, example.messages[: i + 1])
        assert teacher.input_ids[:start] == tokenizer(prompt, add_special_tokens=False).input_ids
        completion = await hf.complete(request)
        assert completion.usage.input_tokens == start and completion.usage.output_tokens > 0
    await hf.aclose()


async def test_chat_backend_sends_alternating_roles(example):
    async with FakeLLMServer() as server:
        client = OpenAIChatClient("served", [server.openai_url], vllm=True, policy=FAST)
        await client.complete(request_for(example, targets(example)[0]))
        await client.aclose()
    roles = [m["role"] for m in server.received[0].body["messages"]]
    assert roles == ["user", "assistant", "user", "assistant", "user"]


def test_a_served_model_name_without_a_tokenizer_is_one_line():
    with pytest.raises(ConfigError, match="set the client's tokenizer") as info:
        load_tokenizer("my-served-model")
    assert "\n" not in str(info.value)
