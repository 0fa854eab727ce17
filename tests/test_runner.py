"""The runner: concurrent collection, resume, kill-and-resume, outages, reports."""

import functools
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from benchmarking.perf.runner_scaling import respond, steady_rate
from core.errors import LLMError
from core.llm.scripted import ScriptedClient
from core.rundir import CONFIG, SUMMARY, TRAJECTORIES, report_path, trajectories
from core.trajectory import Trajectory
from tasks.collection.config import load_collect_config
from tasks.collection.report import summarize, to_markdown, write_report
from tasks.collection.runner import collect
from tasks.experts import expert_client, wrong_client
from tasks.sample import SampleBenchmark
from tests.fakes.openai_server import FakeLLMServer


def _config(tmp_path, name, trials=3, **over):
    overrides = [f"run_dir={tmp_path / name}", "tasks.benchmark=sample", f"trials={trials}",
                 "prompt.hints=task", "concurrency=8"]
    overrides += [f"{k}={v}" for k, v in over.items()]
    return load_collect_config(None, None, overrides)


def test_expert_solves_everything_and_resume_skips(tmp_path):
    bench = SampleBenchmark()
    cfg = _config(tmp_path, "expert")
    run = collect(cfg, client=expert_client(bench), benchmark=bench, show_progress=False)
    summary = json.loads((run / SUMMARY).read_text())["runs"][0]
    assert summary["pooled"] == {"mean": 1.0, "se": 0.0, "n": 3, "trials": 3}
    assert "# git_revision:" in (run / CONFIG).read_text()
    # Re-running with a client that would fail proves nothing is re-run.
    collect(cfg, client=ScriptedClient([]), benchmark=bench, show_progress=False)
    assert len((run / TRAJECTORIES).read_text().splitlines()) == 3


def test_the_progress_bar_counts_steps(tmp_path, capsys):
    bench = SampleBenchmark()
    run = collect(_config(tmp_path, "steps", trials=2), client=expert_client(bench), benchmark=bench)
    steps = sum(len(t.steps) for t in trajectories(run).read())
    assert steps > 2 and f"steps {steps}" in capsys.readouterr().out


def test_wrong_agent_scores_zero(tmp_path):
    bench = SampleBenchmark()
    run = collect(_config(tmp_path, "wrong", trials=2), client=wrong_client(), benchmark=bench,
                  show_progress=False)
    s = summarize([run])["runs"][0]
    assert s["pooled"]["mean"] == 0.0 and s["wrong"] == 2 and s["failed"] == 0


class _Outage(ScriptedClient):
    """An endpoint that is down for every other episode (by trial)."""

    async def complete(self, request):
        if "outage" in request.messages[0]["content"] or self.calls % 4 >= 2:
            self.calls += 1
            raise LLMError("endpoint http://127.0.0.1:9/v1 unreachable after 3 attempts")
        self.calls += 1
        return await super().complete(request)


def test_outage_is_counted_apart_from_wrong_answers(tmp_path):
    bench = SampleBenchmark()
    client = _Outage(wrong_client()._policy)
    client.calls = 0
    cfg = _config(tmp_path, "outage", trials=4, concurrency=1)
    run = collect(cfg, client=client, benchmark=bench, show_progress=False)
    trajs = list(trajectories(run))
    reasons = {t.outcome.termination for t in trajs}
    assert reasons == {"completed", "llm_error"}
    s = summarize([run])["runs"][0]
    assert s["failed"] == 2 and s["wrong"] == 2
    assert "unreachable" in next(t.outcome.detail for t in trajs if t.outcome.termination == "llm_error")
    assert "llm_error 2" in to_markdown(summarize([run]))


def test_report_files_and_standard_error(tmp_path):
    bench = SampleBenchmark()
    good = collect(_config(tmp_path, "good", trials=2), client=expert_client(bench), benchmark=bench,
                   show_progress=False)
    bad = collect(_config(tmp_path, "bad", trials=2), client=wrong_client(), benchmark=bench,
                  show_progress=False)
    summary = write_report([good, bad], tmp_path / "cmp", names=["expert", "wrong"])
    assert [r["run"] for r in summary["runs"]] == ["expert", "wrong"]
    for ext in ("md", "csv", "json", "png"):
        assert (tmp_path / "cmp" / f"report.{ext}").stat().st_size > 0
    assert report_path(tmp_path / "cmp", "png").read_bytes()[:4] == b"\x89PNG"
    assert "| expert | 100.0±0.0 |" in report_path(tmp_path / "cmp", "md").read_text()


_KILLABLE = textwrap.dedent("""
    import sys
    from core.llm.scripted import ScriptedClient
    from tasks.experts import expert_client
    from tasks.collection.runner import collect
    from tasks.collection.config import load_collect_config
    from tasks.sample import SampleBenchmark
    bench = SampleBenchmark()
    client = expert_client(bench)
    client.delay = 0.02
    cfg = load_collect_config(None, None, [f"run_dir={sys.argv[1]}", "tasks.benchmark=sample",
                                           "trials=40", "concurrency=6"])
    collect(cfg, client=client, benchmark=bench, show_progress=False)
""")


@pytest.mark.slow  # SIGKILLs at random moments, then a full resume
def test_sigkill_at_random_moments_then_resume(tmp_path):
    run = tmp_path / "killed"
    rng = random.Random(0)
    mark = f"killtest-{os.getpid()}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MNM_TEST_MARK": mark}
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, "-c", _KILLABLE, str(run)], env=env, start_new_session=True)
        time.sleep(rng.uniform(1.0, 2.5))
        os.killpg(proc.pid, signal.SIGKILL)  # the collector and every workspace it started
        proc.wait()
    subprocess.run([sys.executable, "-c", _KILLABLE, str(run)], env=env, check=True, timeout=240)
    lines = (run / TRAJECTORIES).read_bytes().split(b"\n")
    assert lines[-1] == b""
    keys = [Trajectory.model_validate_json(line).key for line in lines[:-1]]
    assert len(keys) == len(set(keys)) == 40
    assert summarize([run])["runs"][0]["pooled"]["mean"] == 1.0
    assert not _marked_left(mark)  # orphaned workspace servers notice their collector died and exit


def _marked_left(mark: str, within_s: float = 60.0) -> list[psutil.Process]:
    """The processes whose environment carries ``mark`` still running after ``within_s`` (polled)."""
    deadline = time.monotonic() + within_s
    while (left := [p for p in psutil.process_iter() if _environ(p).get("MNM_TEST_MARK") == mark]) \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _environ(p):
    try:
        return p.environ()
    except (psutil.Error, OSError):
        return {}


def test_collector_processes_share_the_episodes(tmp_path):
    run = collect(_config(tmp_path, "shared", trials=6, concurrency=4, processes=2), show_progress=False)
    trajs = list(trajectories(run))
    assert sorted(t.trial for t in trajs) == list(range(6))
    pids = {t.meta["collector_pid"] for t in trajs}
    assert len(pids) == 2 and os.getpid() not in pids
    assert summarize([run])["runs"][0]["pooled"]["mean"] == 1.0
    assert all(time.time() - 120 < t.started_at < t.finished_at <= time.time() for t in trajs)


def test_a_failing_collector_process_is_reported(tmp_path):
    cfg = _config(tmp_path, "nokey", processes=2, **{  # the processes cannot build their clients
        "client.backend": "openai", "client.model": "gpt-4o-mini", "client.api_key_env": "MNM_TEST_NO_SUCH_KEY"})
    with pytest.raises(RuntimeError, match=r"collector process 0 exited with code 1, process 1 exited"):
        collect(cfg, show_progress=False)


def test_steady_rate_leaves_out_the_first_wave_and_the_drain():
    # 2 slots: a slow first wave (both done at 10 s), then one episode a second per slot, then a drain.
    ends = [10.0, 10.0, 11.0, 11.0, 12.0, 12.0, 13.0, 13.0, 20.0, 25.0]
    assert steady_rate(ends, 2) == 60 * 6 / 3


def test_collector_processes_build_their_own_clients(tmp_path):
    bench = SampleBenchmark()
    with pytest.raises(ValueError, match="processes > 1"):
        collect(_config(tmp_path, "x", processes=2), client=expert_client(bench), show_progress=False)
    with pytest.raises(ValueError, match="exceeds concurrency"):
        collect(_config(tmp_path, "y", processes=3, concurrency=2), show_progress=False)
    with pytest.raises(ValueError, match="load the model once per process"):
        collect(_config(tmp_path, "z", processes=2, **{"client.backend": "hf-local"}), show_progress=False)


_KILLABLE_PROCESSES = textwrap.dedent("""
    import sys
    from tasks.collection.runner import collect
    from tasks.collection.config import load_collect_config
    cfg = load_collect_config(None, None, [
        f"run_dir={sys.argv[1]}", "tasks.benchmark=sample", "trials=40", "concurrency=6", "processes=2",
        "client.backend=vllm-chat", "client.model=fake", f"client.base_urls=[{sys.argv[2]}]"])
    collect(cfg, show_progress=False)
""")


@pytest.mark.slow  # SIGKILLs at random moments, then a full resume
def test_sigkill_of_a_multiprocess_collector_then_resume(tmp_path):
    """Killing only the parent takes its collector processes (and their workspaces) down with it."""
    run = tmp_path / "killed"
    rng = random.Random(1)
    mark = f"killtest-{os.getpid()}-processes"
    env = {**os.environ, "MNM_TEST_MARK": mark}
    with FakeLLMServer(functools.partial(respond, 2), delay=0.05) as server:
        args = [sys.executable, "-c", _KILLABLE_PROCESSES, str(run), server.openai_url]
        for _ in range(3):
            proc = subprocess.Popen(args, env=env)
            time.sleep(rng.uniform(2.0, 4.0))
            proc.kill()
            proc.wait()
        subprocess.run(args, env=env, check=True, timeout=240)
    lines = (run / TRAJECTORIES).read_bytes().split(b"\n")
    keys = [Trajectory.model_validate_json(line).key for line in lines[:-1]]
    assert lines[-1] == b"" and len(keys) == len(set(keys)) == 40
    assert summarize([run])["runs"][0]["pooled"]["mean"] == 1.0
    assert not _marked_left(mark)


@pytest.mark.parametrize("preset", ["teacher-train", "nohints-test", "combined-test", "heldout-nohints"])
def test_presets_load(tmp_path, preset):
    cfg = load_collect_config(preset, None, [f"run_dir={tmp_path}"])
    assert cfg.preset == preset and cfg.trials == 3


def test_cli_collect_and_report_on_toolqa_mini(tmp_path):
    """`mnm collect` + `mnm report` on ToolQA-mini tiny: the expert scores 100 %, a wrong agent 0 %."""
    def mnm(*args):
        out = subprocess.run([sys.executable, "-m", "mnm_cli", *args], capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout

    common = ["--set", "tasks.data=tiny", "--set", "trials=1", "--set", "tasks.groups=[coffee,dblp]", "--quiet"]
    mnm("collect", "teacher-test", "--set", f"run_dir={tmp_path / 'expert'}", *common)
    mnm("collect", "teacher-test", "--set", f"run_dir={tmp_path / 'wrong'}", "--set", "client.backend=scripted-wrong",
        "--set", "client.model=wrong", *common)
    table = mnm("report", str(tmp_path / "expert"), str(tmp_path / "wrong"), "--out", str(tmp_path / "cmp"))
    assert "| expert | 100.0 | 100.0 | 100.0 |" in table
    assert "| wrong | 0.0 | 0.0 | 0.0 |" in table
    assert report_path(tmp_path / "cmp", "png").exists()


def test_wandb_offline_tracking(tmp_path, monkeypatch):
    from core.settings import get_settings

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    get_settings.cache_clear()
    try:
        bench = SampleBenchmark()
        run = collect(_config(tmp_path, "tracked", trials=2, wandb="true"), client=expert_client(bench),
                      benchmark=bench, show_progress=False)
    finally:
        get_settings.cache_clear()
    offline = list((run / "wandb").glob("offline-run-*"))
    assert offline and any(offline[0].rglob("*.wandb"))


@pytest.mark.parametrize("retry", [True, False])
def test_resume_retries_outages_unless_kept(tmp_path, retry):
    bench = SampleBenchmark()
    client = _Outage(wrong_client()._policy)
    client.calls = 0
    cfg = _config(tmp_path, "outage", trials=4, concurrency=1, retry_outages=retry)
    run = collect(cfg, client=client, benchmark=bench, show_progress=False)
    assert summarize([run])["runs"][0]["failed"] == 2
    collect(cfg, client=expert_client(bench), benchmark=bench, show_progress=False)
    s = summarize([run])["runs"][0]
    lines = (run / TRAJECTORIES).read_text().splitlines()
    if retry:  # the two outages were run again (and solved); the wrong answers were kept
        assert (len(lines), s["episodes"], s["failed"], s["wrong"]) == (6, 4, 0, 2)
        assert s["terminations"] == {"completed": 4}
    else:
        assert (len(lines), s["failed"], s["wrong"]) == (4, 2, 2)


def test_credentials_in_base_urls_are_redacted(tmp_path):
    bench = SampleBenchmark()
    cfg = _config(tmp_path, "secret", trials=1,
                  **{"client.backend": "scripted-expert", "client.base_urls": "['https://alice:sk-secret1@llm.example/v1?api_key=sk-secret2']"})
    run = collect(cfg, client=expert_client(bench), benchmark=bench, show_progress=False)
    written = "".join(p.read_text() for p in run.rglob("*") if p.is_file())
    assert "sk-secret" not in written and "alice" not in written
    assert "https://***@llm.example/v1?api_key=***" in (run / CONFIG).read_text()


_SERVER_KILLER = textwrap.dedent("""
    import sys
    from agent.prompt import CODE_TAG
    from agent.scripted import ExpertStep, next_step, requested_tag, scripted_agent
    from tasks.collection.config import load_collect_config
    from tasks.collection.runner import collect
    from tasks.sample import EXPERT, SampleBenchmark
    bench, cells = SampleBenchmark(), []
    def choose(request):
        step = next_step(EXPERT, request.messages)
        if requested_tag(request) == CODE_TAG:
            cells.append(1)
            if len(cells) == 12:  # once, while the other episodes have cells and spawns in flight
                return ExpertStep(step.monologue, "import os, signal\\nos.kill(os.getppid(), signal.SIGKILL)")
        return step
    expert = scripted_agent(choose, model="scripted-expert", delay=0.01)
    cfg = load_collect_config(None, None, [f"run_dir={sys.argv[1]}", "tasks.benchmark=sample",
                                           "trials=16", "concurrency=16"])
    collect(cfg, client=expert, benchmark=bench, show_progress=False)
""")


def test_a_cell_that_kills_the_workspace_server_among_16_episodes(tmp_path):
    """The collection finishes, writes its summary and leaves no process behind."""
    run = tmp_path / "killer"
    proc = subprocess.Popen([sys.executable, "-c", _SERVER_KILLER, str(run)], cwd=Path(__file__).parent.parent,
                            stderr=subprocess.PIPE, text=True)
    seen = set()
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            seen |= {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
    assert proc.wait() == 0, proc.stderr.read()[-3000:]
    summary = json.loads((run / SUMMARY).read_text())["runs"][0]
    trajs = list(trajectories(run))
    assert summary["episodes"] == len(trajs) == 16 * len(SampleBenchmark().tasks())
    assert "workspace_error" not in summary["terminations"], summary["terminations"]
    notes = [m for t in trajs for m in t.messages if "workspace server died" in m.text]
    assert notes  # the episodes the death hit were told
    assert seen and not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
                                      for p in seen)
