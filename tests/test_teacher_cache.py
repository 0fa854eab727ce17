"""Teacher cache on the tiny model: the cached-teacher loss equals today's at k = vocabulary (values
and gradients) at the training temperature T = 2, training with it never runs the teacher forward,
the build resumes, and stale, incomplete, foreign-tokenizer or other-temperature caches are refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from transformers import AutoTokenizer

from core.errors import ConfigError, DataError
from core.examples import write_examples
from core.llm.prompt_logprobs import _top_k
from tests.fakes.tiny_model import build_tiny_llama, build_tiny_tokenizer, tiny_examples
from tests.real_models import real_model
from training import trainer
from training.config import TrainConfig
from training.data import collate, load_examples, prepare
from training.model import add_lora, load_model
from training.teacher_cache import LocalTeacher, TeacherCache, build_cache, check_same_tokenizer


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache")
    base = build_tiny_llama(root / "base")
    examples = tiny_examples(8)
    train, val = write_examples(root / "train.jsonl", examples[:6]), write_examples(root / "val.jsonl", examples[6:])
    vocab = len(AutoTokenizer.from_pretrained(base))
    cache = build_cache([train, val], root / "cache", LocalTeacher(base, temperatures=[2.0, 1.0]), student_model=base,
                        teacher_tokenizer=base, k=vocab, progress=False)
    return {"root": root, "base": base, "train": train, "val": val, "cache": cache, "vocab": vocab}


def config_for(setup, out, **overrides) -> TrainConfig:
    data = {"base_model": str(setup["base"]), "train_data": [str(setup["train"])], "val_data": [str(setup["val"])],
            "output_dir": str(out), "lora": {"rank": 4}, "optim": {"lr": 1e-2, "warmup_steps": 1},
            "loss": {"chunk_tokens": 16}, "dtype": "float32", "epochs": 1, "micro_batch_size": 2,
            "eval_every": 2, "save_every": 2, "teacher_cache": str(setup["cache"])}
    return TrainConfig.model_validate(data | overrides)


def test_cached_loss_equals_todays_loss_at_full_vocabulary(setup):
    config = config_for(setup, setup["root"] / "unused")
    tokenizer = AutoTokenizer.from_pretrained(setup["base"])
    items = prepare(load_examples([setup["train"]])[:3], tokenizer, 4096)
    cache = TeacherCache(setup["cache"], [setup["train"]], tokenizer)
    torch.manual_seed(0)
    model = add_lora(load_model(setup["base"]), config.lora).eval()  # no LoRA dropout: both passes alike
    for name, p in model.named_parameters():  # B = 0 would make student = teacher
        if "lora_B" in name:
            p.data.normal_(0, 0.1)
    batch = collate([(it.student(tokenizer, 0.9, 0, 0), it.teacher) for it in items], ["g"] * 3, 0)
    trained = [p for p in model.parameters() if p.requires_grad]
    assert config.loss.temperature == 2.0 and cache.temperatures == (2.0, 1.0)
    today, today_tokens = trainer.batch_loss(model, model, batch, config, samples_in_step=3)
    cached, cached_tokens = trainer.batch_loss(model, model, batch, config, samples_in_step=3,
                                               teacher=cache.teacher([it.example.id for it in items], 2.0))
    assert today.item() > 1e-3
    torch.testing.assert_close(cached, today, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(cached_tokens, today_tokens, rtol=1e-4, atol=1e-6)
    for got, ref in zip(torch.autograd.grad(cached, trained), torch.autograd.grad(today, trained), strict=True):
        torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-6)


def test_training_reads_the_cache_and_never_runs_the_teacher(setup, monkeypatch):
    teacher_passes = []
    real_pair = trainer.hidden_pair

    def spy(model, peft_model, batch, need_teacher):
        teacher_passes.append(need_teacher)
        return real_pair(model, peft_model, batch, need_teacher)

    monkeypatch.setattr(trainer, "hidden_pair", spy)
    out = setup["root"] / "train-cached"
    assert trainer.train(config_for(setup, out), progress=False).exists()
    assert teacher_passes and not any(teacher_passes)
    today = setup["root"] / "train-today"  # training at T = 2, validation at T = 1, as without a cache
    trainer.train(config_for(setup, today, teacher_cache=None), progress=False)
    assert any(teacher_passes)
    cached, uncached = records(out), records(today)  # same seed, k = vocabulary: the same run
    assert [r["kind"] for r in cached] == [r["kind"] for r in uncached]
    for a, b in zip(cached, uncached, strict=True):
        name = "loss" if a["kind"] == "train" else "kl"
        assert a[name] == pytest.approx(b[name], rel=1e-4), (a["kind"], a["step"])


def records(out) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_build_resumes_after_an_interruption(setup):
    class Failing(LocalTeacher):
        calls = 0

        def score(self, token_ids, positions, k):
            Failing.calls += 1
            if Failing.calls == 4:
                raise KeyboardInterrupt
            return super().score(token_ids, positions, k)

    out = setup["root"] / "resumed"
    opts = {"student_model": setup["base"], "teacher_tokenizer": setup["base"], "k": 7, "shard_examples": 2,
            "progress": False}
    with pytest.raises(KeyboardInterrupt):
        build_cache([setup["train"]], out, Failing(setup["base"], temperatures=[1.0]), **opts)
    with pytest.raises(DataError, match="incomplete"):
        TeacherCache(out, [setup["train"]], AutoTokenizer.from_pretrained(setup["base"]))
    assert len(list(out.glob("part-*"))) == 1
    build_cache([setup["train"]], out, LocalTeacher(setup["base"], temperatures=[1.0]), **opts)
    whole = build_cache([setup["train"]], setup["root"] / "whole", LocalTeacher(setup["base"], temperatures=[1.0]),
                        **opts)
    tokenizer = AutoTokenizer.from_pretrained(setup["base"])
    ids = [e.id for e in load_examples([setup["train"]])]
    a, b = TeacherCache(out, [setup["train"]], tokenizer), TeacherCache(whole, [setup["train"]], tokenizer)
    for field in ("ids", "logprobs", "tail"):
        assert torch.equal(getattr(a.teacher(ids, 1.0), field), getattr(b.teacher(ids, 1.0), field))
    with pytest.raises(ConfigError, match="different k"):
        build_cache([setup["train"]], out, LocalTeacher(setup["base"], temperatures=[1.0]), **{**opts, "k": 8})
    with pytest.raises(ConfigError, match="different temperatures"):
        build_cache([setup["train"]], out, LocalTeacher(setup["base"], temperatures=[2.0]), **opts)


def test_stale_or_foreign_caches_are_refused(setup, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(setup["base"])
    changed = tmp_path / "train.jsonl"
    changed.write_text(setup["train"].read_text())
    with pytest.raises(DataError, match="does not cover dataset"):
        TeacherCache(setup["cache"], [changed], tokenizer)
    cache = TeacherCache(setup["cache"], [setup["train"]], tokenizer)
    with pytest.raises(DataError, match="stale for example"):
        cache.check(load_examples([setup["train"]])[0].id, [1, 2, 3])
    other = build_tiny_tokenizer(tmp_path / "other", vocab_texts=["completely different words"] * 3)
    with pytest.raises(ConfigError, match="another tokenizer"):
        TeacherCache(setup["cache"], [setup["train"]], other)
    copy = tmp_path / "copy"
    build_cache([changed], copy, LocalTeacher(setup["base"], temperatures=[1.0]), student_model=setup["base"],
                teacher_tokenizer=setup["base"], k=3, progress=False)
    with changed.open("a") as f:
        f.write(setup["val"].read_text())
    with pytest.raises(DataError, match=f"stale: dataset {changed} changed"):
        TeacherCache(copy, [changed], tokenizer)
    with pytest.raises(ValueError, match="forward_kl only"):
        config_for(setup, tmp_path / "out", loss={"kind": "jsd"})


def test_tokenizers_are_compared_by_vocabulary_not_name(setup, tmp_path):
    same = AutoTokenizer.from_pretrained(setup["base"])
    same.save_pretrained(tmp_path / "renamed")
    check_same_tokenizer(AutoTokenizer.from_pretrained(tmp_path / "renamed"), same, "renamed", "base")
    other = build_tiny_tokenizer(tmp_path / "other", vocab_texts=["completely different words"] * 3)
    with pytest.raises(ConfigError, match="teacher other and student base have different tokenizers"):
        check_same_tokenizer(other, same, "other", "base")


def test_gemma_and_smollm_tokenizers_are_refused():
    gemma, smollm = real_model("gemma3-270m"), real_model("smollm2-135m-instruct")
    with pytest.raises(ConfigError, match=r"teacher .*gemma3-270m and student .*smollm2-135m-instruct have "
                                          r"different tokenizers \(262\d+ vs 49152 tokens"):
        check_same_tokenizer(AutoTokenizer.from_pretrained(gemma), AutoTokenizer.from_pretrained(smollm),
                             str(gemma), str(smollm))


def _mnm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mnm_cli", *map(str, args)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "WANDB_MODE": "disabled"})


def test_cli_a_different_teacher_model_and_a_foreign_tokenizer(setup, tmp_path, caplog):
    """Model and context distillation in one round: another model with the same tokenizer teaches."""
    other = build_tiny_llama(tmp_path / "other", seed=1)
    done = _mnm("teacher-cache", setup["train"], setup["val"], "--out", tmp_path / "cache", "--student", setup["base"],
                "--teacher", other, "--k", 50)
    assert done.returncode == 0, done.stderr[-2000:]
    tokenizer = AutoTokenizer.from_pretrained(setup["base"])
    cache = TeacherCache(tmp_path / "cache", [setup["train"], setup["val"]], tokenizer)
    assert cache.meta["teacher"]["model"]["path"] == str(other.resolve()) and cache.k == 50
    assert cache.meta["temperatures"] == [2.0, 1.0]  # by default training's loss and validation temperatures
    ids = [e.id for e in load_examples([setup["train"]])]
    own = TeacherCache(setup["cache"], [setup["train"]], tokenizer).teacher(ids, 2.0)
    assert not torch.equal(cache.teacher(ids, 2.0).ids, own.ids[:, :50])  # the other model's distribution
    out = tmp_path / "train"
    trainer.train(config_for(setup, out, teacher_cache=str(tmp_path / "cache")), progress=False)
    assert "k = 50 at loss.temperature 2.0 sees the teacher's tempered tail as one bucket" in caplog.text
    val = [r["kl"] for r in records(out) if r["kind"] == "val"]
    assert val[-1] < val[0]  # the student moves toward the other model

    foreign = build_tiny_llama(tmp_path / "foreign", vocab_texts=["completely different words"] * 3)
    refused = _mnm("teacher-cache", setup["train"], "--out", tmp_path / "refused", "--student", setup["base"],
                   "--teacher", foreign)
    assert refused.returncode == 2 and not (tmp_path / "refused").exists()
    assert refused.stderr.strip().count("\n") == 0
    assert f"teacher {foreign} and student {setup['base']} have different tokenizers" in refused.stderr
    hot = _mnm("teacher-cache", setup["train"], "--out", tmp_path / "hot", "--student", setup["base"],
               "--source", "vllm", "--url", "http://127.0.0.1:9/v1", "--temperature", 2)
    assert hot.returncode == 2 and not (tmp_path / "hot").exists() and hot.stderr.strip().count("\n") == 0
    assert "vLLM's prompt log-probabilities are at temperature 1.0 only" in hot.stderr


def test_a_cache_at_another_temperature_than_training_is_refused(setup, tmp_path):
    cold = build_cache([setup["train"], setup["val"]], tmp_path / "cold", LocalTeacher(setup["base"], temperatures=[1.0]),
                       student_model=setup["base"], teacher_tokenizer=setup["base"], k=3, progress=False)
    assert json.loads((cold / "teacher_cache.json").read_text())["temperatures"] == [1.0]
    out = tmp_path / "out"
    with pytest.raises(ConfigError) as refused:
        trainer.train(config_for(setup, out, teacher_cache=str(cold)), progress=False)
    assert str(refused.value) == (f"teacher cache {cold} holds the teacher at temperature 1.0, training's "
                                  "loss.temperature is 2.0: rebuild the cache with `mnm teacher-cache --temperature "
                                  "2.0` (local source; vLLM scores at 1.0 only), set loss.temperature: 1.0, or "
                                  "allow the per-token approximation with teacher_cache_retemper: true")
    with pytest.raises(ConfigError, match="training's val_temperature is 2.0"):
        trainer.train(config_for(setup, out, teacher_cache=str(cold), loss={"temperature": 1.0}, val_temperature=2.0),
                      progress=False)
    assert not out.exists()
    trainer.train(config_for(setup, out, teacher_cache=str(cold), teacher_cache_retemper=True, max_steps=1,
                             val_data=[]), progress=False)
    assert [r["kind"] for r in records(out)] == ["train"]
    meta = json.loads((cold / "teacher_cache.json").read_text())
    del meta["temperatures"]  # a cache built before caches recorded their temperature
    (cold / "teacher_cache.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match="does not record its temperature"):
        TeacherCache(cold, [setup["train"]], AutoTokenizer.from_pretrained(setup["base"]))


def test_vllm_prompt_logprobs_keep_the_top_k_not_the_prompt_token():
    # one position of a real answer (SmolLM2): the prompt's own token (rank 191) is listed beside the top 3
    entries = {"504": {"logprob": -8.2157, "rank": 191, "decoded_token": "The"},
               "29": {"logprob": -0.9855, "rank": 1, "decoded_token": "-"},
               "28": {"logprob": -2.0762, "rank": 2, "decoded_token": ","},
               "198": {"logprob": -3.1834, "rank": 3, "decoded_token": "\n"}}
    assert _top_k(entries, 3) == [(29, -0.9855), (28, -2.0762), (198, -3.1834)]
