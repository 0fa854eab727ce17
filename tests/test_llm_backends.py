"""What the OpenAI-chat, vLLM-completions and Anthropic backends send and how they read answers."""

import pytest

from core.errors import LLMError
from core.llm.anthropic_client import AnthropicClient, to_anthropic
from core.llm.base import Request
from core.llm.openai_chat import OpenAIChatClient
from core.llm.retry import RetryPolicy
from core.llm.sampling import SamplingDefaults
from core.llm.vllm_completions import VLLMCompletionsClient
from tests.fakes.openai_server import Call, FakeLLMServer
from tests.fakes.tiny_model import build_tiny_tokenizer

pytestmark = pytest.mark.timeout(30)  # a retry loop that hangs fails fast
FAST = RetryPolicy(max_attempts=2, timeout_s=2.0, base_delay_s=0.01, max_delay_s=0.1)
MESSAGES = [{"role": "system", "content": "You are an agent."}, {"role": "user", "content": "Find it."}]
MONOLOGUE = "<inner_monologue>\nI will look it up.\n</inner_monologue>\nmore words after the tag"


def monologue(call: Call) -> str:
    return MONOLOGUE


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return build_tiny_tokenizer(tmp_path_factory.mktemp("tok"), style="double-bos")


async def test_openai_chat_sends_sampling_and_reads_usage():
    async with FakeLLMServer(monologue) as server:
        client = OpenAIChatClient("gpt-4o", [server.openai_url], policy=FAST)
        request = Request(messages=MESSAGES, prefill="<inner_monologue>\n", stop=["</inner_monologue"],
                          n=2, temperature=0.5, top_p=0.9, min_p=0.7, seed=3, logprobs=True, max_tokens=50)
        completion = await client.complete(request)
        await client.aclose()
    body = server.received[0].body
    assert body["messages"] == MESSAGES and body["n"] == 2 and body["seed"] == 3
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["logprobs"]) == (0.5, 0.9, 50, True)
    assert "min_p" not in body and "include_stop_str_in_output" not in body
    # the model wrote the tag itself: removed; the stop string the API dropped: put back
    assert completion.texts == ["I will look it up.\n</inner_monologue"] * 2
    assert completion.usage.output_tokens == 2 * len("<inner_monologue>\nI will look it up.\n".split())
    assert completion.usage.cost_usd > 0 and completion.usage.calls == 1
    assert completion.logprobs is not None and len(completion.logprobs) == 2


async def test_vllm_chat_sends_vllm_options_and_keeps_stop():
    async with FakeLLMServer(monologue) as server:
        client = OpenAIChatClient("served", [server.openai_url], vllm=True, policy=FAST,
                                  defaults=SamplingDefaults(min_p=0.7, temperature=1.0))
        completion = await client.complete(Request(messages=MESSAGES, stop=["</inner_monologue"],
                                                   temperature=0.0, extra={"repetition_penalty": 1.1}))
        await client.aclose()
    body = server.received[0].body
    assert body["min_p"] == 0.7 and body["temperature"] == 0.0  # the request's own value wins
    assert body["include_stop_str_in_output"] is True and body["repetition_penalty"] == 1.1
    assert completion.text == "<inner_monologue>\nI will look it up.\n</inner_monologue"


async def test_vllm_completions_sends_rendered_template_with_prefill(tokenizer):
    async with FakeLLMServer(lambda call: "I will look it up.\n</inner_monologue> and more") as server:
        client = VLLMCompletionsClient("served", [server.openai_url], tokenizer=tokenizer, policy=FAST,
                                       defaults=SamplingDefaults(min_p=0.7, max_tokens=300))
        request = Request(messages=MESSAGES, prefill="<inner_monologue>\n", stop=["</inner_monologue"],
                          logprobs=True, n=3)
        completion = await client.complete(request)
        await client.aclose()
    body = server.received[0].body
    expected = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=False)
    assert body["prompt"] == expected + "<inner_monologue>\n"
    assert body["prompt"] == ("<s><|system|>\nYou are an agent.<|end|>\n<|user|>\nFind it.<|end|>\n"
                              "<|assistant|>\n<inner_monologue>\n")
    assert body["add_special_tokens"] is False  # the template wrote the only BOS
    assert body["include_stop_str_in_output"] is True
    assert (body["min_p"], body["max_tokens"], body["n"], body["logprobs"]) == (0.7, 300, 3, 1)
    assert completion.texts == ["I will look it up.\n</inner_monologue"] * 3
    assert completion.logprobs == [[-0.5] * 6] * 3
    ids = tokenizer(body["prompt"], add_special_tokens=False).input_ids
    assert client.count_tokens(request) == len(ids) and ids.count(tokenizer.bos_token_id) == 1


@pytest.mark.parametrize("fault", ["no_choices", "bad_choice"])
async def test_vllm_completions_answers_of_the_wrong_shape_are_retried(tokenizer, fault):
    async with FakeLLMServer(faults=[fault]) as server:
        client = VLLMCompletionsClient("served", [server.openai_url], tokenizer=tokenizer, policy=FAST)
        completion = await client.complete(Request(messages=MESSAGES))
        await client.aclose()
    assert completion.text == "Hello from the fake server." and len(server.received) == 2


def test_to_anthropic_maps_system_merges_turns_and_strips_prefill():
    messages = [*MESSAGES, {"role": "user", "content": "Status: step 1"},
                {"role": "assistant", "content": "<inner_monologue>\nx\n</inner_monologue>"},
                {"role": "user", "content": "Now the code."}]
    system, turns, trailing = to_anthropic(messages, "<run_ipython>\n")
    assert system == "You are an agent."
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant"]
    assert turns[0]["content"] == "Find it.\n\nStatus: step 1"
    assert turns[-1] == {"role": "assistant", "content": "<run_ipython>"} and trailing == "\n"
    assert to_anthropic(MESSAGES, "") == ("You are an agent.", [MESSAGES[1]], "")
    assert to_anthropic(MESSAGES, " \n")[1] == [MESSAGES[1]]  # a blank prefill is not sent


@pytest.mark.parametrize(("output", "expected"), [
    ("\nprint(1)\n</run_ipython> ignored", "print(1)\n</run_ipython"),  # model wrote the newline
    (" print(1)\n</run_ipython> ignored", "print(1)\n</run_ipython"),  # other whitespace: replaced
    ("print(1)", "print(1)"),  # no stop sequence reached
])
async def test_anthropic_prefill_newline_bookkeeping(output, expected):
    async with FakeLLMServer(lambda call: output) as server:
        client = AnthropicClient("claude-3-5-sonnet-20241022", [server.anthropic_url], api_key="test",
                                 policy=FAST, defaults=SamplingDefaults(temperature=0.0))
        request = Request(messages=MESSAGES + [{"role": "user", "content": "More."}], prefill="<run_ipython>\n",
                          stop=["</run_ipython"], n=2, max_tokens=100)
        completion = await client.complete(request)
        await client.aclose()
    assert completion.texts == [expected] * 2
    assert len(server.received) == 2  # no n in the protocol: two calls
    body = server.received[0].body
    assert body["system"] == "You are an agent." and body["temperature"] == 0.0
    assert body["messages"] == [{"role": "user", "content": "Find it.\n\nMore."},
                                {"role": "assistant", "content": "<run_ipython>"}]
    assert body["stop_sequences"] == ["</run_ipython"] and body["max_tokens"] == 100
    assert completion.usage.calls == 2 and completion.usage.cost_usd > 0


async def test_anthropic_without_assistant_prefill_for_newer_models():
    async with FakeLLMServer(lambda call: "<run_ipython>\nprint(1)\n</run_ipython>") as server:
        client = AnthropicClient("claude-opus-4-7", [server.anthropic_url], api_key="test", policy=FAST,
                                 assistant_prefill=False)
        completion = await client.complete(Request(messages=MESSAGES, prefill="<run_ipython>\n",
                                                   stop=["</run_ipython"]))
        await client.aclose()
    assert server.received[0].body["messages"] == [MESSAGES[1]]
    assert "temperature" not in server.received[0].body
    assert completion.text == "print(1)\n</run_ipython"


@pytest.mark.parametrize("fault", ["malformed", "no_choices", "500"])
async def test_anthropic_faults_are_retried(fault):
    async with FakeLLMServer(faults=[fault]) as server:
        client = AnthropicClient("claude-3-5-sonnet", [server.anthropic_url], api_key="test", policy=FAST)
        completion = await client.complete(Request(messages=MESSAGES))
        await client.aclose()
    assert completion.text == "Hello from the fake server." and len(server.received) == 2


async def _clamped_then_refused(client, request: Request) -> None:
    """Send ``request`` as is, then with 5 tokens; a prompt longer than the context (100) is refused."""
    await client.complete(request)
    await client.complete(request.model_copy(update={"max_tokens": 5}))
    too_long = [{"role": "user", "content": "word " * 200}]
    with pytest.raises(LLMError, match="context is 100: no room to generate"):
        await client.complete(Request(messages=too_long))
    await client.aclose()


async def test_vllm_completions_fits_requests_into_the_served_context(tokenizer):
    request = Request(messages=MESSAGES, prefill="<inner_monologue>\n", max_tokens=1000)
    async with FakeLLMServer(model="served", max_model_len=100) as server:
        client = VLLMCompletionsClient("served", [server.openai_url], tokenizer=tokenizer, policy=FAST)
        prompt_tokens = client.count_tokens(request)
        await _clamped_then_refused(client, request)
    assert [c.body["max_tokens"] for c in server.received if c.route == "completions"] == [100 - prompt_tokens, 5]


async def test_vllm_chat_fits_requests_into_the_served_context():
    request = Request(messages=[*MESSAGES, {"role": "user", "content": "and more"}], max_tokens=1000)
    async with FakeLLMServer(model="served", max_model_len=100) as server:
        client = OpenAIChatClient("served", [server.openai_url], vllm=True, policy=FAST)
        prompt_tokens = await client.prompt_tokens(request)
        await _clamped_then_refused(client, request)
    chats = [c.body for c in server.received if c.route == "chat"]
    assert [c["max_tokens"] for c in chats] == [100 - prompt_tokens, 5]
    counted = [c.body for c in server.received if c.route == "tokenize"]
    assert counted[0]["messages"] == chats[0]["messages"] and counted[0]["add_generation_prompt"] is True
    assert prompt_tokens == sum(len(m["content"].split()) for m in chats[0]["messages"])


async def test_openai_chat_sends_no_token_count_request():
    async with FakeLLMServer(max_model_len=100) as server:
        client = OpenAIChatClient("fake-model", [server.openai_url], api_key="k", policy=FAST)
        await client.complete(Request(messages=MESSAGES, max_tokens=1000))
        await client.aclose()
    assert [c.route for c in server.received] == ["chat"] and server.received[0].body["max_tokens"] == 1000
