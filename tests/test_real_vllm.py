"""The vLLM backends against a real vLLM server (CPU) on SmolLM2-135M-Instruct.

The prompt the completions backend sends is, token for token, the context training builds for the
same conversation (``training/sequences.py``). The targets are the generated text re-tokenised:
the same tokens unless the model generated a non-canonical split (measured: greedy SmolLM2 wrote
"\n\n" as two "\n" tokens, which re-tokenise as one), so they are compared as text.
"""

import httpx
import pytest
from transformers import AutoTokenizer

from agent import prompt as P
from core.errors import LLMError
from core.examples import Example
from core.llm.base import Request
from core.llm.openai_chat import OpenAIChatClient
from core.llm.vllm_completions import VLLMCompletionsClient
from core.messages import Message, Part, to_chat
from tasks import sample
from tests.real_models import real_model
from training.sequences import encode

pytestmark = [pytest.mark.slow, pytest.mark.real, pytest.mark.timeout(1800)]  # a server start is minutes

MODEL = "smollm2-135m-instruct"
OPEN, CLOSE = P.open_tag(P.MONOLOGUE_TAG), P.close_tag(P.MONOLOGUE_TAG)


def first_step() -> list[Message]:
    """The sample task's conversation up to the first monologue, with hints and tool docs."""
    spec = sample.episode(hints=True)
    return P.preamble(spec.description, spec.answer_type, spec.hints, spec.tool_docs) + [
        P.status_message(0, spec.max_steps), P.monologue_instruction(0)]


def request(messages: list[Message], **kw) -> Request:
    return Request(**{"messages": to_chat(messages), "prefill": OPEN, "stop": [CLOSE], "temperature": 0.0,
                      "max_tokens": 40, **kw})


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(real_model(MODEL))


@pytest.fixture
async def completions(smollm2_server, tokenizer):
    client = VLLMCompletionsClient("smollm2", [smollm2_server], tokenizer=tokenizer)
    yield client
    await client.aclose()


async def test_completions_prompt_and_output_are_the_training_tokens(smollm2_server, completions, tokenizer):
    messages = first_step()
    req = request(messages)
    body = {**completions.prepare(req), "return_token_ids": True}
    answer = httpx.post(f"{smollm2_server}/completions", json=body, timeout=600).json()
    choice = answer["choices"][0]
    prompt_ids, output_ids = choice["prompt_token_ids"], choice["token_ids"]
    assert completions.render(req).endswith(f"<|im_start|>assistant\n{OPEN}")
    assert answer["usage"]["prompt_tokens"] == len(prompt_ids) == completions.count_tokens(req)
    assert answer["usage"]["completion_tokens"] == len(output_ids)

    target = Message(role="assistant", parts=[Part(text=choice["text"])], prefill=OPEN, target=True)
    encoded = encode(Example(id="e", messages=[*messages, target]), tokenizer)
    assert encoded.input_ids[:len(prompt_ids)] == prompt_ids  # context = what the server was sent
    assert not any(encoded.target_mask[:len(prompt_ids)])
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    if output_ids[-1] == end_of_turn:  # the model ended its turn; training adds <|im_end|> either way
        output_ids = output_ids[:-1]
    *trained, last = encoded.target_ids
    assert last == end_of_turn and tokenizer.decode(trained) == tokenizer.decode(output_ids) == choice["text"]


async def test_completions_stop_at_the_closing_tag_and_count_usage(completions):
    # An assistant turn that was prefilled with the tag and a sentence ending right before the
    # closing tag: greedy decoding closes it at once, and the stop string is kept.
    req = request(first_step(), prefill=f"{OPEN}\nI will multiply the prices and add them.\n", max_tokens=64)
    done = await completions.complete(req)
    assert done.usage.input_tokens == completions.count_tokens(req) and done.usage.output_tokens > 0
    if done.finish_reasons == ["stop"]:
        assert done.text.endswith(CLOSE) and done.text.count(CLOSE) == 1
    else:
        assert done.finish_reasons == ["length"] and done.usage.output_tokens == 64


async def test_chat_backend_renders_the_same_template(smollm2_server, completions):
    chat = OpenAIChatClient("smollm2", [smollm2_server], vllm=True)
    try:
        req = request(first_step(), prefill="", stop=[], max_tokens=8)
        done = await chat.complete(req)
        assert done.usage.input_tokens == completions.count_tokens(req)  # server's template == ours
        assert done.usage.output_tokens <= 8 and done.text
    finally:
        await chat.aclose()


async def test_chat_backend_fits_requests_into_the_served_context(smollm2_server, completions):
    chat = OpenAIChatClient("smollm2", [smollm2_server], vllm=True)
    try:
        req = request(first_step(), prefill="", stop=[], max_tokens=100_000)  # more than the 4,096 served
        assert await chat.prompt_tokens(req) == completions.count_tokens(req)  # /tokenize counts our template
        done = await chat.complete(req.model_copy(update={"max_tokens": 8}))
        assert done.usage.output_tokens <= 8
        fitted = await chat.fit(req)
        assert fitted.max_tokens == 4096 - completions.count_tokens(req)
        too_long = Request(messages=[{"role": "user", "content": "word " * 5000}], max_tokens=8)
        with pytest.raises(LLMError, match="context is 4096: no room to generate"):
            await chat.complete(too_long)
    finally:
        await chat.aclose()


async def test_prompt_logprobs_of_a_teacher_forced_sequence(smollm2_server, completions, tokenizer):
    import torch
    from transformers import AutoModelForCausalLM

    text = completions.render(request(first_step())) + "I need the prices of apples and pears.\n" + CLOSE
    ids = tokenizer(text, add_special_tokens=False).input_ids
    body = {"model": "smollm2", "prompt": ids, "max_tokens": 1, "prompt_logprobs": 0, "temperature": 0.0}
    answer = httpx.post(f"{smollm2_server}/completions", json=body, timeout=600).json()
    served = answer["choices"][0]["prompt_logprobs"]
    assert served[0] is None and len(served) == len(ids)
    served_lp = [entry[str(tok)]["logprob"] for entry, tok in zip(served[1:], ids[1:], strict=True)]

    model = AutoModelForCausalLM.from_pretrained(real_model(MODEL), dtype=torch.float32)
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0, :-1].log_softmax(-1)
    local = logits.gather(1, torch.tensor(ids[1:])[:, None])[:, 0]
    gap = (torch.tensor(served_lp) - local).abs().max().item()
    assert gap < 0.05, f"vLLM and HF disagree by {gap:.3f} nats on a teacher-forced token"
