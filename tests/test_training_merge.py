"""`merge` records dataset directories, checks its inputs before writing, and leaves no temporary
directory behind when it fails."""

import json

import pytest

from core.examples import write_examples
from tests.fakes.tiny_model import build_tiny_llama, tiny_examples
from training.checkpoint import save_dir_atomic
from training.merge import merge


@pytest.fixture(scope="module")
def base_and_adapter(tmp_path_factory):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    root = tmp_path_factory.mktemp("merge")
    base = build_tiny_llama(root / "base")
    lora = LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(base), lora).save_pretrained(root / "adapter")
    return base, root / "adapter"


def test_a_dataset_directory_is_recorded_file_by_file(base_and_adapter, tmp_path):
    base, adapter = base_and_adapter
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    write_examples(dataset / "train.jsonl", tiny_examples(2))
    write_examples(dataset / "val.jsonl", tiny_examples(1))
    out = merge(base, [adapter], tmp_path / "merged", [dataset])
    recorded = json.loads((out / "provenance.json").read_text())["datasets"]
    assert [r["path"] for r in recorded] == [str(dataset / "train.jsonl"), str(dataset / "val.jsonl")]
    assert all(len(r["sha256"]) == 64 for r in recorded)


def test_a_missing_dataset_fails_before_anything_is_written(base_and_adapter, tmp_path):
    base, adapter = base_and_adapter
    with pytest.raises(FileNotFoundError, match="nowhere"):
        merge(base, [adapter], tmp_path / "merged", [tmp_path / "nowhere"])
    assert list(tmp_path.iterdir()) == []


def test_an_output_layer_adapter_on_tied_embeddings_merges_into_the_student_trained(tmp_path):
    """SmolLM2 and Gemma tie the output layer to the input embeddings: the merged checkpoint must give
    the trained student's logits and keep the base's input embeddings."""
    import torch
    from transformers import AutoModelForCausalLM

    from training.config import LoraSettings
    from training.model import add_lora

    base = build_tiny_llama(tmp_path / "base", tied=True)
    model = AutoModelForCausalLM.from_pretrained(base)
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight
    student = add_lora(model, LoraSettings(rank=4, dropout=0.0, output_layer=True))
    torch.manual_seed(0)
    for name, param in student.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.5)
    student.save_pretrained(tmp_path / "adapter")
    ids = torch.randint(0, 100, (1, 16))
    with torch.no_grad():
        expected = student.eval()(input_ids=ids).logits
    merged = AutoModelForCausalLM.from_pretrained(merge(base, [tmp_path / "adapter"], tmp_path / "merged"))
    with torch.no_grad():
        got = merged(input_ids=ids).logits
    assert torch.allclose(got, expected, atol=1e-4)
    embeddings = AutoModelForCausalLM.from_pretrained(base).get_input_embeddings().weight
    assert torch.equal(merged.get_input_embeddings().weight, embeddings)


def test_a_failed_write_leaves_no_temporary_directory(tmp_path):
    def write(tmp):
        (tmp / "weights").write_bytes(b"x" * 100)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        save_dir_atomic(tmp_path / "out", write)
    assert list(tmp_path.iterdir()) == []
