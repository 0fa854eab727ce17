"""Training end to end on a tiny model: train + merge, resume, stacking vs merging, teacher guard."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import yaml
from peft.tuners.lora import LoraLayer
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from core.config import load_config
from core.errors import ConfigError
from core.examples import write_examples
from tests.cells import run_as_script
from tests.fakes.tiny_model import build_tiny_llama, tiny_examples
from training.config import TrainConfig
from training.data import collate, prepare
from training.losses import token_loss, token_weights
from training.merge import merge
from training.metrics import MetricsLog
from training.model import add_lora, check_teacher_differs, load_model
from training.trainer import batch_loss, train

CONFIGS = Path(__file__).resolve().parents[1] / "training" / "configs"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("round")
    base = build_tiny_llama(root / "base")
    examples = tiny_examples(8)
    return {"root": root, "base": base,
            "train": write_examples(root / "train.jsonl", examples[:6]),
            "val": write_examples(root / "val.jsonl", examples[6:])}


def config_for(setup, out: Path, **overrides) -> TrainConfig:
    data = {"base_model": str(setup["base"]), "train_data": [str(setup["train"])], "val_data": [str(setup["val"])],
            "output_dir": str(out), "lora": {"rank": 4}, "optim": {"lr": 1e-2, "warmup_steps": 1},
            "loss": {"chunk_tokens": 16}, "dtype": "float32", "epochs": 1, "micro_batch_size": 2,
            "eval_every": 2, "save_every": 2}
    data.update(overrides)
    return TrainConfig.model_validate(data)


def losses(out: Path) -> dict[int, float]:
    return {step: r.loss for step, r in MetricsLog(out, "read", {}).records("train").items()}


def logits(model, ids: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=ids).logits


@pytest.fixture(scope="module")
def round1(setup):
    """Round 1 through the cell script: config YAML + override -> train -> merge."""
    round_dir = setup["root"] / "round-1"
    round_dir.mkdir()
    cfg = config_for(setup, round_dir / "train").model_dump(mode="json")
    (round_dir / "train.yaml").write_text(yaml.safe_dump(cfg))
    run_as_script("training/train_round.py", round_dir, {"CONFIG": str(round_dir / "train.yaml"),
                                                        "OVERRIDES": {"epochs": 2}})
    return round_dir


def test_train_then_merge_end_to_end(setup, round1):
    train_dir, merged = round1 / "train", round1 / "merged"
    assert sorted(p.name for p in (train_dir / "checkpoints").iterdir()) == ["step-000002", "step-000004",
                                                                             "step-000006"]
    records = [json.loads(line) for line in (train_dir / "metrics.jsonl").read_text().splitlines()]
    train_steps = [r["step"] for r in records if r["kind"] == "train"]
    assert train_steps == [1, 2, 3, 4, 5, 6]  # 2 epochs x 3 steps of 2 examples
    val = [r for r in records if r["kind"] == "val"]
    assert [r["step"] for r in val] == [0, 2, 4, 6]
    assert {"kl", "xent", "kl/coffee", "kl/yelp", "xent/coffee"} <= set(val[0])
    assert val[-1]["kl"] < val[0]["kl"]  # the student moved towards the teacher
    assert all(r["tokens_per_s"] > 0 for r in records if r["kind"] == "train")

    provenance = json.loads((merged / "provenance.json").read_text())
    assert provenance["base_model"]["path"] == str(setup["base"].resolve())
    assert [a["path"] for a in provenance["adapters"]] == [str((train_dir / "adapter").resolve())]
    assert provenance["adapters"][0]["provenance"]["train_data"][0]["path"] == str(setup["train"].resolve())
    tokenizer = AutoTokenizer.from_pretrained(merged)
    assert tokenizer.chat_template == AutoTokenizer.from_pretrained(setup["base"]).chat_template

    ids = torch.tensor([tokenizer("<run_ipython>\nprint(1)")["input_ids"]])
    merged_logits = logits(AutoModelForCausalLM.from_pretrained(merged), ids)
    stacked_logits = logits(load_model(setup["base"], [train_dir / "adapter"], stacked=True), ids)
    base_logits = logits(AutoModelForCausalLM.from_pretrained(setup["base"]), ids)
    torch.testing.assert_close(merged_logits, stacked_logits, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(merged_logits, base_logits, atol=1e-3)


def test_round_two_stacked_equals_merged(setup, round1):
    adapter1 = round1 / "train" / "adapter"
    out = setup["root"] / "round-2-stacked"
    adapter2 = train(config_for(setup, out, adapters=[str(adapter1)], max_steps=2), progress=False)
    merged = merge(setup["base"], [adapter1, adapter2], setup["root"] / "round-2-merged", [setup["train"]])
    ids = torch.arange(5, 40).unsqueeze(0)
    stacked = logits(load_model(setup["base"], [adapter1, adapter2], stacked=True), ids)
    torch.testing.assert_close(logits(AutoModelForCausalLM.from_pretrained(merged), ids), stacked,
                               rtol=1e-4, atol=1e-4)
    only_first = logits(load_model(setup["base"], [adapter1], stacked=True), ids)
    assert not torch.allclose(stacked, only_first, atol=1e-3)
    with pytest.raises(FileExistsError):  # never overwritten
        merge(setup["base"], [adapter1], merged)


def test_kill_and_resume_reproduces_losses(setup):
    straight = setup["root"] / "straight"
    train(config_for(setup, straight, epochs=2, val_data=[]), progress=False)
    paused = setup["root"] / "paused"
    config = config_for(setup, paused, epochs=2, val_data=[], save_every=1, keep_checkpoints=1)
    assert train(config, stop_at_step=3, progress=False).name == "step-000003"
    assert not (paused / "adapter").exists()
    assert [p.name for p in (paused / "checkpoints").iterdir()] == ["step-000003"]  # older ones deleted
    train(config, progress=False)
    assert [p.name for p in (paused / "checkpoints").iterdir()] == ["step-000006"]
    expected, got = losses(straight), losses(paused)
    assert sorted(got) == list(range(1, 7))
    for step in range(4, 7):
        assert got[step] == pytest.approx(expected[step], rel=1e-6, abs=1e-9)


def test_config_loads_from_yaml_with_overrides(setup, tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(config_for(setup, tmp_path / "out").model_dump(mode="json")))
    config = load_config(TrainConfig, path, ["optim.lr=3e-5", "loss.kind=jsd"])
    assert config.optim.lr == 3e-5 and config.loss.kind == "jsd" and config.lora.rank == 4
    defaults = TrainConfig(base_model="b", train_data=["d"], output_dir="o")
    assert (defaults.lora.rank, defaults.lora.lora_alpha, defaults.lora.dropout) == (128, 256, 0.05)
    assert (defaults.optim.lr, defaults.optim.weight_decay, defaults.optim.warmup_steps) == (1e-5, 0.02, 30)
    assert (defaults.loss.temperature, defaults.hint_dropout, defaults.epochs) == (2.0, 0.9, 2)
    assert defaults.lora.output_layer  # the paper's targets: every linear layer, the output layer too


@pytest.mark.parametrize("k, epochs", [(1, 2), (2, 6), (3, 6)])
def test_round_configs_have_the_papers_settings_and_a_global_batch(k, epochs):
    config = load_config(TrainConfig, CONFIGS / f"round-{k}.yaml")
    defaults = TrainConfig(base_model="b", train_data=["d"], output_dir="o")
    assert config.lora == defaults.lora and config.optim == defaults.optim and config.loss == defaults.loss
    assert (config.epochs, config.optim.lr, config.optim.warmup_steps) == (epochs, 1e-5, 30)
    assert config.base_model == Path("runs/exp/round-0/model" if k == 1 else f"runs/exp/round-{k - 1}/merged")
    for gpus in (1, 2, 4, 8):  # the paper's global batch 8 on any GPU count that divides it
        assert config.accumulation(gpus) * config.micro_batch_size * gpus == 8
    with pytest.raises(ConfigError, match="global_batch 8 is not a multiple"):
        config.accumulation(3)
    with pytest.raises(ConfigError, match="not both"):
        load_config(TrainConfig, CONFIGS / f"round-{k}.yaml", ["grad_accum=2"])


def test_teacher_guard_catches_an_adapter_that_changes_nothing(setup):
    model = add_lora(load_model(setup["base"]), TrainConfig(base_model="b", train_data=["d"], output_dir="o",
                                                            lora={"rank": 4}).lora)
    ids = torch.arange(3, 20).unsqueeze(0)
    with pytest.raises(RuntimeError, match="identical"):  # B = 0: the adapter is still the identity
        check_teacher_differs(model, ids, torch.ones_like(ids))
    for name, p in model.named_parameters():
        if "lora_B" in name:
            p.data.normal_()
    check_teacher_differs(model, ids, torch.ones_like(ids))


def test_cross_entropy_variant_trains_on_successful_examples(setup):
    out = setup["root"] / "xent"
    train(config_for(setup, out, loss={"kind": "xent"}, val_data=[], micro_batch_size=1,
                     gradient_checkpointing=True), progress=False)
    successful = sum(1 for e in tiny_examples(8)[:6] if e.success)
    assert sorted(losses(out)) == list(range(1, successful + 1))


def test_micro_batch_and_accumulation_do_not_change_the_objective(setup):
    runs = {}
    for name, micro, accum in (("mb2", 2, 1), ("mb1x2", 1, 2)):
        out = setup["root"] / f"accum-{name}"
        train(config_for(setup, out, micro_batch_size=micro, grad_accum=accum, max_steps=2, val_data=[],
                         lora={"rank": 4, "dropout": 0.0}), progress=False)
        runs[name] = losses(out)
    for step in (1, 2):
        assert runs["mb1x2"][step] == pytest.approx(runs["mb2"][step], rel=1e-5)


def test_bf16_weights_keep_fp32_adapter_and_loss(setup):
    out = setup["root"] / "bf16"
    adapter = train(config_for(setup, out, dtype="bfloat16", max_steps=1, val_data=[]), progress=False)
    assert {t.dtype for t in load_file(adapter / "adapter_model.safetensors").values()} == {torch.float32}
    assert math.isfinite(losses(out)[1])


def test_output_layer_lora_loss_and_gradients_equal_full_logits(setup):
    """``lora.output_layer``: the chunked loss uses W + ΔW of the output layer and trains its LoRA;
    value and every LoRA gradient equal autograd through the model's own full logits."""
    config = config_for(setup, setup["root"] / "unused", lora={"rank": 4, "dropout": 0.0, "output_layer": True})
    model = add_lora(load_model(setup["base"]), config.lora)
    assert isinstance(model.get_base_model().lm_head, LoraLayer)
    torch.manual_seed(1)
    for name, p in model.named_parameters():
        if "lora_B" in name:
            p.data.normal_(std=0.1)  # B = 0 would hide a missing ΔW
    tokenizer = AutoTokenizer.from_pretrained(setup["base"])
    items = prepare(tiny_examples(3), tokenizer, 4096)
    batch = collate([(it.student(tokenizer, 0.5, 0, 0), it.teacher) for it in items], ["a"] * 3,
                    tokenizer.pad_token_id)
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}

    loss, _ = batch_loss(model, model, batch, config, samples_in_step=3)
    ours = torch.autograd.grad(loss, list(params.values()))
    with torch.no_grad(), model.disable_adapter():
        z_t = model(input_ids=batch.teacher_ids, attention_mask=batch.teacher_attention).logits[batch.teacher_at]
    z_s = model(input_ids=batch.student_ids, attention_mask=batch.student_attention).logits[batch.student_at]
    per_token = token_loss(z_s, z_t, batch.labels, kind="forward_kl", temperature=config.loss.temperature)
    reference = (per_token * token_weights(batch.target_counts, 3)).sum()
    expected = torch.autograd.grad(reference, list(params.values()))

    torch.testing.assert_close(loss, reference, rtol=1e-5, atol=1e-7)
    assert any("lm_head" in n for n in params)
    for name, got, want in zip(params, ours, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-7, msg=name)


def test_output_layer_lora_trains_merges_and_loads_in_plain_transformers(setup):
    out = setup["root"] / "output-layer"
    adapter = train(config_for(setup, out / "train", val_data=[], max_steps=2,
                               lora={"rank": 4, "output_layer": True}), progress=False)
    saved = load_file(adapter / "adapter_model.safetensors")
    assert {k for k in saved if "lm_head" in k} == {"base_model.model.lm_head.lora_A.weight",
                                                   "base_model.model.lm_head.lora_B.weight"}  # not the V x H base
    merged = merge(setup["base"], [adapter], out / "merged")
    plain = AutoModelForCausalLM.from_pretrained(merged)  # no peft involved
    base = AutoModelForCausalLM.from_pretrained(setup["base"])
    assert not torch.allclose(plain.lm_head.weight, base.lm_head.weight)
    ids = torch.arange(5, 40).unsqueeze(0)
    torch.testing.assert_close(logits(plain, ids), logits(load_model(setup["base"], [adapter], stacked=True), ids),
                               rtol=1e-4, atol=1e-4)
