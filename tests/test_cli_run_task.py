"""`mnm run-task` with the scripted client and with an in-process transformers model."""

import json
import os
import subprocess
import sys

from tests.fakes.openai_server import FakeLLMServer
from tests.fakes.tiny_model import build_tiny_llama


def _run_task(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "mnm_cli", "run-task", *args], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "COLUMNS": "200", "PYTHONWARNINGS": "always::ResourceWarning"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ResourceWarning" not in out.stderr, out.stderr[-2000:]  # sockets, the workspace server process
    assert "Unclosed client session" not in out.stderr and "Unclosed connector" not in out.stderr, out.stderr[-2000:]
    return out.stdout


def test_scripted_expert_solves_the_sample_task():
    out = _run_task()
    assert "termination=completed score=1 answer='3.00'" in out
    assert "get_price('apple')" in out and "<ipython_output>" in out


def test_every_scripted_backend_is_resolved_by_client_for():
    out = _run_task("--client", "scripted-wrong")
    assert "termination=completed score=0 answer='I do not know.'" in out


def test_in_process_transformers_model_runs_the_loop_and_shows_its_prompts(tmp_path):
    model = build_tiny_llama(tmp_path / "model", style="double-bos")
    out = _run_task("--client", "hf-local", "--model", str(model), "--max-steps", "2", "--max-tokens", "12",
                    "--show-prompt")
    assert "sample/prices trial 0: termination=" in out
    assert "calls=4" in out  # two steps, a monologue and a code request each
    assert out.index("step 1: ") < out.index("step 2: ") < out.index("termination=")  # each step as it ends
    prompts = [block.split("\n", 1)[1].split("end of prompt")[0].rsplit("\n", 1)[0]
               for block in out.split("prompt sent to ")[1:]]
    assert len(prompts) == 4
    assert prompts[0].startswith("<s><|user|>\n<task_description>") and prompts[0].endswith("<|assistant|>\n<inner_monologue>\n")


def test_a_remote_run_closes_its_connections_and_shows_the_chat_messages():
    with FakeLLMServer() as server:
        out = _run_task("--client", "vllm-chat", "--model", "served", "--max-steps", "1", "--show-prompt",
                        "--set", f'base_urls=["{server.openai_url}"]')
    assert "calls=2" in out
    first = out.split("prompt sent to served")[1].split("\n", 1)[1]
    messages = json.loads(first.split("end of prompt")[0].rsplit("\n", 1)[0])["messages"]
    assert [m["role"] for m in messages] == ["user"] and "<task_description>" in messages[0]["content"]
