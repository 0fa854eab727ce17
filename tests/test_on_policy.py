"""On-policy hint distillation: a real student's episode -> teacher view with the hints -> its own tokens.

The student is a tiny Llama that has memorised one well-formed step of the sample task (so that the
agent's parser accepts what it generates); it runs through the real runner, agent, workspace and
hf-local client, which record the token ids it sampled.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, LlamaForCausalLM

from agent import prompt as P
from agent.loop import AgentConfig
from core.asyncio_compat import run_sync
from core.errors import DataError
from core.examples import Example
from core.llm.factory import ClientConfig
from core.llm.hf_local import HFLocalClient
from core.messages import HintSet, student_keeps_nothing_hidden, to_chat
from core.rundir import CONFIG, TRAJECTORIES, load_run
from filters.dataset import DatasetConfig
from filters.on_policy import build_on_policy_dataset, on_policy_examples, teacher_view
from tasks.collection.config import CollectConfig, TaskSelection
from tasks.collection.runner import collect
from tasks.sample import QUESTION, SampleBenchmark, tool_docs
from tasks.task import PromptConfig
from tests.fakes.tiny_model import DEFAULT_TEXTS, build_tiny_llama
from training.config import LoraSettings, LossSettings, OptimSettings, TrainConfig
from training.losses import chunked_token_loss, token_weights
from training.sequences import encode
from training.trainer import train

MONOLOGUE = "I look the prices up."
CODE = "print(get_price('apple'))"
TEACHER = PromptConfig(name="task-hints", hints="task", tool_docs="long")
STUDENT = PromptConfig(name="no-hints")


def first_step(description: str) -> Example:
    """The student's first step of the sample task without hints (budget 1), monologue and code as targets."""
    messages = P.preamble(description, "str", HintSet(name="none"), "") + [
        P.status_message(0, 1), P.monologue_instruction(0, False),
        P.assistant_message(P.MONOLOGUE_TAG, MONOLOGUE, 0).model_copy(update={"target": True}),
        P.code_instruction(0, False),
        P.assistant_message(P.CODE_TAG, CODE, 0).model_copy(update={"target": True})]
    return Example(id="memorised", messages=messages)


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> Path:
    """A tiny Llama trained until its greedy first step of the sample task is MONOLOGUE, then CODE."""
    path = build_tiny_llama(tmp_path_factory.mktemp("student"), style="double-bos",
                            vocab_texts=[*DEFAULT_TEXTS, QUESTION, MONOLOGUE, CODE])
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = LlamaForCausalLM.from_pretrained(path)
    encoded = encode(first_step(SampleBenchmark().episode(SampleBenchmark().tasks()[0], STUDENT).description),
                     tokenizer)
    ids = torch.tensor([encoded.input_ids])
    labels = torch.tensor([[t if m else -100 for t, m in zip(encoded.input_ids, encoded.target_mask, strict=True)]])
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: more threads only wait on each other (10x slower on 2 busy cores)
    try:
        for _ in range(200):
            loss = model(input_ids=ids, labels=labels).loss
            if loss.item() < 0.01:
                break
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    finally:
        torch.set_num_threads(threads)
    assert loss.item() < 0.05, f"the tiny student did not memorise its step (loss {loss.item():.3f})"
    model.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def student_run(student, tmp_path_factory) -> Path:
    """One greedy episode of the student on the sample task, without hints, budget one step."""
    run_dir = tmp_path_factory.mktemp("runs") / "nohints"
    config = CollectConfig(run_dir=run_dir, preset="nohints", prompt=STUDENT,
                           tasks=TaskSelection(benchmark="sample"),
                           client=ClientConfig(backend="hf-local", model=str(student)),
                           agent=AgentConfig(temperature=0.0, format_reminders=False, max_steps=1, max_tokens=40))
    client = HFLocalClient(student)
    try:
        collect(config, client, SampleBenchmark(), show_progress=False)
    finally:
        run_sync(client.aclose())
    return run_dir


def test_examples_are_the_students_steps_in_the_teachers_view(student, student_run):
    tokenizer = AutoTokenizer.from_pretrained(student)
    [traj] = load_run(student_run)
    assert traj.steps[0].monologue == MONOLOGUE and traj.steps[0].code == CODE  # what the student wrote
    examples, counts = on_policy_examples([student_run], TEACHER, tokenizer, SampleBenchmark())
    assert counts == {"steps": 1, "kept": 1}
    [example] = examples
    assert example.provenance.source == "on-policy"
    # the teacher reads the hint sections and the tool docs; the student (all hints dropped) reads
    # exactly the conversation it sampled from
    assert set(example.hint_sections()) == {"prices", "format", P.TOOL_DOCS_SECTION}
    assert "get_price(item)" in to_chat(example.messages)[1]["content"] and tool_docs() in to_chat(example.messages)[2]["content"]
    state = traj.messages[:traj.steps[0].code_message + 1]
    assert to_chat(example.messages, student_keeps_nothing_hidden) == to_chat(state)
    # targets: the token ids the student sampled, each followed by the end-of-turn token
    target = encode(example, tokenizer).target_ids
    eot = tokenizer.convert_tokens_to_ids("<|end|>")
    assert target == [*traj.steps[0].token_ids["monologue"], eot, *traj.steps[0].token_ids["code"], eot]


def test_a_step_whose_sampled_tokens_differ_from_the_training_tokens_is_dropped(student, student_run, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(student)
    [traj] = load_run(student_run)
    ids = traj.steps[0].token_ids["code"]
    k = next(i for i, t in enumerate(ids) if len(tokenizer.decode([t])) > 1)
    text = tokenizer.decode([ids[k]])
    pieces = [tokenizer.convert_tokens_to_ids(tokenizer.tokenize(ch)[0]) for ch in text]  # same text, other ids
    traj.steps[0].token_ids["code"] = ids[:k] + pieces + ids[k + 1:]
    assert tokenizer.decode(traj.steps[0].token_ids["code"]) == tokenizer.decode(ids)
    run = tmp_path / "resampled"
    run.mkdir()
    (run / CONFIG).write_text((student_run / CONFIG).read_text())
    (run / TRAJECTORIES).write_text(traj.model_dump_json() + "\n")
    examples, counts = on_policy_examples([run], TEACHER, tokenizer, SampleBenchmark())
    assert examples == [] and counts == {"steps": 1, "retokenised": 1}

    traj.steps[0].token_ids = {}
    (run / TRAJECTORIES).write_text(traj.model_dump_json() + "\n")
    with pytest.raises(DataError, match="sampled token ids"):
        on_policy_examples([run], TEACHER, tokenizer, SampleBenchmark())


def test_a_teacher_prompt_that_is_not_the_students_plus_hints_is_refused(student_run):
    [traj] = load_run(student_run)
    other = P.preamble("Another question.", "str", HintSet(name="none"), "")
    with pytest.raises(DataError, match="not the student's"):
        teacher_view(traj, other)


def test_on_policy_round_trains_with_the_named_divergence(student, student_run, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(student)
    data = build_on_policy_dataset(tmp_path / "dataset", [student_run], TEACHER, tokenizer,
                                   DatasetConfig(val_fraction=0, exports=[], allow_evaluation_splits=True),
                                   SampleBenchmark(), show=False)
    assert json.loads((data / "on_policy.json").read_text())["counts"] == {"steps": 1, "kept": 1}
    config = TrainConfig(base_model=student, train_data=[data / "train.jsonl"], output_dir=tmp_path / "train",
                         lora=LoraSettings(rank=4, dropout=0.0, output_layer=False), optim=OptimSettings(lr=1e-3, warmup_steps=0),
                         loss=LossSettings(kind="reverse_kl"), hint_dropout=1.0, max_steps=2, dtype="float32")
    adapter = train(config, progress=False)
    provenance = json.loads((adapter / "provenance.json").read_text())
    assert provenance["config"]["loss"]["kind"] == "reverse_kl"
    assert provenance["train_data"]


def test_reverse_kl_matches_an_explicit_reference_with_gradients():
    """The on-policy divergence, chunked, against Σ p_s (log p_s − log p_t) written out on full logits."""
    torch.manual_seed(0)
    n, h, v, temperature = 23, 8, 97, 2.0
    h_s, w_s = torch.randn(n, h, requires_grad=True), torch.randn(v, h, requires_grad=True)
    h_t, w_t = torch.randn(n, h), torch.randn(v, h)
    weights = token_weights([10, 13], 2)
    p_s = torch.softmax(h_s @ w_s.T / temperature, dim=-1)
    p_t = torch.softmax(h_t @ w_t.T / temperature, dim=-1)
    reference = (weights * (p_s * (p_s.log() - p_t.log())).sum(-1)).sum()
    got, _ = chunked_token_loss(h_s, w_s, h_t, w_t, torch.zeros(n, dtype=torch.long), weights, kind="reverse_kl",
                                temperature=temperature, chunk_tokens=4)
    torch.testing.assert_close(got, reference, rtol=1e-5, atol=1e-7)
    for g, r in zip(torch.autograd.grad(got, [h_s, w_s]), torch.autograd.grad(reference, [h_s, w_s]), strict=True):
        torch.testing.assert_close(g, r, rtol=1e-4, atol=1e-6)


def test_cli_builds_the_on_policy_dataset_from_the_runs_config(student, student_run, tmp_path):
    from typer.testing import CliRunner

    from mnm_cli import app

    out = tmp_path / "cli-dataset"
    args = ["on-policy", str(student_run), "--out", str(out), "--tokenizer", str(student),
            "--teacher-preset", "teacher-train", "--set", "allow_evaluation_splits=true", "--set", "exports=[]"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    record = json.loads((out / "on_policy.json").read_text())
    assert record["counts"] == {"steps": 1, "kept": 1} and record["teacher"]["hints"] == "task"
    [example] = [Example.model_validate_json(line) for line in (out / "examples.jsonl").read_text().splitlines()]
    assert "tool_docs" in example.hint_sections()  # the preset's long tool docs, re-inserted
