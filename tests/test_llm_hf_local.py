"""In-process generation with a tiny random Llama: prefill, stop strings, n, batching, adapters."""

import asyncio

import pytest

from core.errors import LLMError
from core.llm.base import Request
from core.llm.hf_local import HFLocalClient
from core.llm.sampling import SamplingDefaults, is_looping
from tests.fakes.tiny_model import build_tiny_llama

MESSAGES = [{"role": "user", "content": "Task: find the average delay."}]
PREFILL = "<inner_monologue>\n"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), style="double-bos", init_std=0.02)


@pytest.fixture
async def client(model_dir):
    client = HFLocalClient(model_dir, defaults=SamplingDefaults(max_tokens=24))
    yield client
    await client.aclose()


def greedy(**kw) -> Request:
    return Request(**{"messages": MESSAGES, "prefill": PREFILL, "temperature": 0.0, **kw})


async def test_prompt_is_template_plus_prefill(client):
    prompt = client.render(greedy())
    assert prompt == "<s><|user|>\nTask: find the average delay.<|end|>\n<|assistant|>\n" + PREFILL
    completion = await client.complete(greedy())
    assert completion.usage.input_tokens == client.count_tokens(greedy())
    assert completion.usage.output_tokens == 24 and completion.finish_reasons == ["length"]


async def test_greedy_is_deterministic_and_prefill_changes_the_output(client):
    a, b = await client.complete(greedy()), await client.complete(greedy())
    assert a.text == b.text and a.text
    other = await client.complete(Request(messages=MESSAGES, prefill="<run_ipython>\n", temperature=0.0))
    assert other.text != a.text


async def test_generation_stops_at_stop_string_and_keeps_it(client):
    full = (await client.complete(greedy())).text
    stop = full[6:9]
    assert stop.strip() and full.find(stop) == 6  # a stop string the greedy output reaches
    cut = await client.complete(greedy(stop=[stop]))
    assert cut.text == full[:9] and cut.finish_reasons == ["stop"]
    assert cut.usage.output_tokens < 24


def test_is_looping_needs_one_span_three_times_in_a_row_over_min_tokens():
    assert is_looping([9, 1, 2, 3] * 4, 12) and is_looping([9] + [5] * 12, 12)
    assert is_looping([7] + list(range(20)) * 3, 12)  # a long span: its three copies, more than 12 tokens
    assert not is_looping([5] * 11, 12)  # too short
    assert not is_looping([1, 2, 3, 4] * 3 + [1, 2, 3, 5], 12)  # the last copy differs
    assert not is_looping([0, 0] + list(range(20)) * 2, 12)  # only two copies
    assert not is_looping(list(range(101)) * 3, 12)  # a span longer than LOOP_MAX_PERIOD
    assert not is_looping([5] * 30, 0)


@pytest.fixture(scope="module")
def looping_model_dir(tmp_path_factory):
    """A Llama without layers: a bigram model, whose greedy text falls into a cycle of tokens."""
    return build_tiny_llama(tmp_path_factory.mktemp("bigram"), style="double-bos", layers=0)


async def test_a_looping_greedy_text_ends_by_the_loop_stop_not_max_tokens(looping_model_dir):
    async with HFLocalClient(looping_model_dir) as client:
        full = await client.complete(greedy(max_tokens=300, loop_stop=0))
        looped = await client.complete(greedy(max_tokens=300))  # the default loop stop: 32 tokens
    assert full.finish_reasons == ["length"] and full.usage.output_tokens == 300
    assert looped.finish_reasons == ["repetition"] and 32 <= looped.usage.output_tokens < 300
    assert full.text.startswith(looped.text)  # the same greedy text, ended once the loop filled the window


async def test_an_episode_on_a_looping_model_ends_its_calls_by_the_loop_stop(looping_model_dir):
    from agent.loop import AgentConfig, run_episode
    from tasks import sample

    async with HFLocalClient(looping_model_dir) as client:
        traj = await run_episode(sample.episode(hints=True, max_steps=2), client,
                                 AgentConfig(temperature=0.0, max_tokens=1000))
    assert traj.outcome.termination == "budget_exhausted" and len(traj.steps) == 2
    for step in traj.steps:  # each call stopped by the loop, seen by the agent and by filters
        assert step.format_errors.count("repetition") == 2 and step.status == "format_error"
        assert "repeating" in step.observation
        assert step.usage.calls == 2 and step.usage.output_tokens < 2 * 100


async def test_n_samples_seed_and_logprobs(client):
    request = Request(messages=MESSAGES, prefill=PREFILL, n=3, temperature=1.0, seed=7, logprobs=True)
    first, again = await client.complete(request), await client.complete(request)
    assert len(first.texts) == 3 and first.texts == again.texts
    assert len(set(first.texts)) > 1
    assert [len(lp) for lp in first.logprobs] == [24, 24, 24]
    assert all(lp <= 0 for row in first.logprobs for lp in row)


async def test_concurrent_requests_are_batched(client):
    requests = [greedy(messages=[{"role": "user", "content": f"Question {i}?"}]) for i in range(6)]
    alone = [(await client.complete(r)).text for r in requests[:2]]
    before = client.generator.prefills_run
    together = await asyncio.gather(*(client.complete(r) for r in requests))
    assert client.generator.prefills_run - before == 1
    assert [c.text for c in together[:2]] == alone  # left padding does not change greedy output


async def test_adapter_is_loaded(client, model_dir, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(model_dir)
    lora_config = LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj", "o_proj"],
                             init_lora_weights=False)  # random B: the adapter changes the model
    get_peft_model(base, lora_config).save_pretrained(tmp_path / "adapter")
    adapted = HFLocalClient(model_dir, adapter=tmp_path / "adapter", defaults=SamplingDefaults(max_tokens=24))
    assert (await adapted.complete(greedy())).text != (await client.complete(greedy())).text
    await adapted.aclose()


async def test_a_request_joins_a_running_batch_and_leaves_it_first(model_dir):
    client = HFLocalClient(model_dir, defaults=SamplingDefaults(max_tokens=24))
    long = greedy(messages=[{"role": "user", "content": "A long question " * 8}], max_tokens=120)
    short = greedy(messages=[{"role": "user", "content": "Short?"}], max_tokens=6)
    alone = [(await client.complete(r)).text for r in (long, short)]
    finished: list[str] = []

    async def run(name: str, request: Request) -> str:
        text = (await client.complete(request)).text
        finished.append(name)
        return text

    long_task = asyncio.create_task(run("long", long))
    while not client.generator.rows:  # the long request is generating
        await asyncio.sleep(0.001)
    before = client.generator.prefills_run
    short_text = await run("short", short)
    assert client.generator.prefills_run == before + 1  # prefilled on its own, then joined the batch
    assert finished == ["short"] and not long_task.done()
    assert [await long_task, short_text] == alone  # joining (left-padded caches) changes no token
    await client.aclose()


async def test_a_prompt_longer_than_the_context_is_refused_and_max_tokens_clamped(model_dir):
    client = HFLocalClient(model_dir, defaults=SamplingDefaults(max_tokens=24))
    client.context = client.count_tokens(greedy()) + 5
    completion = await client.complete(greedy(max_tokens=100))
    assert completion.usage.output_tokens <= 5
    with pytest.raises(LLMError, match="no room to generate"):
        await client.complete(greedy(messages=[{"role": "user", "content": "many words " * 20}]))
    await client.aclose()


async def test_threads_are_given_back_on_close(model_dir):
    import torch

    before = torch.get_num_threads()
    other = 1 if before != 1 else 2
    client = HFLocalClient(model_dir, threads=other)
    assert torch.get_num_threads() == other  # generation uses its own share of the cores
    await client.aclose()
    assert torch.get_num_threads() == before  # training in the same process gets them all back
