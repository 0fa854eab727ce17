"""The vLLM serving helper builds the right commands and stops what it started."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.serving import ServeConfig, base_urls, commands, describe, start, stop

ROOT = Path(__file__).resolve().parent.parent


def test_serve_commands_split_gpus_and_ports(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    cfg = ServeConfig(model="/ckpt/round-2/merged", tensor_parallel=2, replicas=2, port=9000)
    (env0, argv0), (env1, argv1) = commands(cfg)
    assert (env0["CUDA_VISIBLE_DEVICES"], env1["CUDA_VISIBLE_DEVICES"]) == ("0,1", "2,3")
    assert argv0[1:5] == ["-m", "vllm.entrypoints.openai.api_server", "--model", "/ckpt/round-2/merged"]
    assert "--enable-prefix-caching" in argv0 and "--enforce-eager" not in argv0
    assert argv1[argv1.index("--port") + 1] == "9001" and argv1[argv1.index("--served-model-name") + 1] == "merged"
    assert base_urls(cfg) == ["http://127.0.0.1:9000/v1", "http://127.0.0.1:9001/v1"]
    assert "VLLM_API_KEY" in describe(cfg) and "--api-key" not in describe(cfg)


def test_serve_commands_split_the_gpus_a_scheduler_allocated(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5,6,7")
    cfg = ServeConfig(model="/m", tensor_parallel=2, replicas=2)
    assert [env["CUDA_VISIBLE_DEVICES"] for env, _ in commands(cfg)] == ["4,5", "6,7"]
    with pytest.raises(ValueError, match=r"3 replicas x tensor_parallel 2 need 6 GPUs; CUDA_VISIBLE_DEVICES='4,5,6,7' lists 4"):
        commands(cfg.model_copy(update={"replicas": 3}))


def test_serve_commands_on_cpu_size_the_kv_cache_and_threads():
    cfg = ServeConfig(model="/m/smol", python="/venv/bin/python", cpu=True, kv_cache_gib=2, threads=3, dtype="float32")
    [(env, argv)] = commands(cfg)
    assert env == {"VLLM_CPU_KVCACHE_SPACE": "2", "VLLM_CPU_OMP_THREADS_BIND": "nobind", "OMP_NUM_THREADS": "3"}
    assert argv[0] == "/venv/bin/python" and "--enforce-eager" in argv and "--gpu-memory-utilization" not in argv
    assert argv[argv.index("--dtype") + 1] == "float32"


def test_start_names_the_log_of_a_server_that_exits(tmp_path):
    cfg = ServeConfig(model="/no/model", python=sys.executable, cpu=True, port=1)  # this venv has no vLLM
    with pytest.raises(RuntimeError, match=r"exited with code 1 before answering; see .*vllm-0\.log"):
        start(cfg, tmp_path, timeout_s=120)
    assert "No module named 'vllm'" in (tmp_path / "vllm-0.log").read_text()


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_stop_ends_the_whole_process_group():
    code = ("import subprocess, sys, time; c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']);"
            " print(c.pid, flush=True); time.sleep(600)")
    leader = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True)
    child = int(leader.stdout.readline())
    stop([leader], grace_s=5)
    deadline = time.monotonic() + 30
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail("the server's child process outlived stop()")
