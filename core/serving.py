"""The vLLM command this project relies on, printed or run, and a readiness wait.

Settings that matter for mnm: the OpenAI-compatible server (completions mode renders the model's
own chat template client-side), prefix caching (episodes share long prompt prefixes), the API key
from the environment (never on the command line of a shared machine: vLLM reads
``VLLM_API_KEY``), ``--generation-config vllm`` so that sampling defaults do not silently change
with the model's ``generation_config.json`` (the reference's min_p/temperature pitfall), and
one replica per GPU group for data parallelism (the clients load-balance over their URLs).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from pathlib import Path

import httpx
from pydantic import BaseModel


class ServeConfig(BaseModel):
    model: str
    served_name: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    tensor_parallel: int = 1
    replicas: int = 1
    max_model_len: int | None = 16384
    gpu_memory_utilization: float = 0.9
    extra_args: list[str] = []


def commands(cfg: ServeConfig) -> list[tuple[dict[str, str], list[str]]]:
    """One (environment, argv) per replica; replica i uses GPUs [i*tp, (i+1)*tp) and port+i."""
    name = cfg.served_name or Path(cfg.model).name
    out = []
    for i in range(cfg.replicas):
        gpus = ",".join(str(g) for g in range(i * cfg.tensor_parallel, (i + 1) * cfg.tensor_parallel))
        argv = ["vllm", "serve", cfg.model, "--served-model-name", name, "--host", cfg.host,
                "--port", str(cfg.port + i), "--tensor-parallel-size", str(cfg.tensor_parallel),
                "--enable-prefix-caching", "--generation-config", "vllm",
                "--gpu-memory-utilization", str(cfg.gpu_memory_utilization)]
        if cfg.max_model_len:
            argv += ["--max-model-len", str(cfg.max_model_len)]
        out.append(({"CUDA_VISIBLE_DEVICES": gpus}, argv + cfg.extra_args))
    return out


def base_urls(cfg: ServeConfig) -> list[str]:
    return [f"http://{cfg.host}:{cfg.port + i}/v1" for i in range(cfg.replicas)]


def describe(cfg: ServeConfig) -> str:
    lines = [f"{' '.join(f'{k}={v}' for k, v in env.items())} {shlex.join(argv)}" for env, argv in commands(cfg)]
    lines.append(f"# then: export VLLM_BASE_URLS={','.join(base_urls(cfg))}  (and VLLM_API_KEY, read by vLLM)")
    return "\n".join(lines)


def wait_ready(urls: list[str], timeout_s: float = 900, api_key: str | None = None) -> None:
    """Poll ``/models`` on every URL until all answer 200, or raise TimeoutError."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.monotonic() + timeout_s
    pending = list(urls)
    while pending:
        url = pending[0]
        try:
            if httpx.get(f"{url}/models", headers=headers, timeout=5).status_code == 200:
                pending.pop(0)
                continue
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s")
        time.sleep(2)


def start(cfg: ServeConfig, log_dir: Path) -> list[subprocess.Popen]:
    """Start every replica in the background (logs under ``log_dir``) and wait until they answer."""
    log_dir.mkdir(parents=True, exist_ok=True)
    procs = []
    for i, (env, argv) in enumerate(commands(cfg)):
        log = open(log_dir / f"vllm-{i}.log", "ab")  # noqa: SIM115 (owned by the child process)
        procs.append(subprocess.Popen(argv, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT))
    wait_ready(base_urls(cfg), api_key=os.environ.get("VLLM_API_KEY"))
    return procs
