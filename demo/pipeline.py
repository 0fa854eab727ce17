"""`mnm demo`: two rounds of the coaching loop on the stand-in model, end to end, on a CPU.

Round 0 evaluates the stand-in without hints (the student) and with the task-specific hints (the
teacher) on the test split and collects the teacher's trajectories on the train split. Round 1
distils them (dataset -> KL training -> merge) and evaluates again. Then the round-1 agent runs
without hints on the train split, the filters flag the mistakes the hints never fixed, the round-1
model with each corrective hint samples verified corrections, and a balanced dataset trains round 2.

Beside the paper's round 1, an on-policy round 1 (``on_policy``, :mod:`filters.on_policy`) starts from
the same stand-in: the student runs the training tasks without hints, each of its steps with the
hints re-inserted is the teacher's view, and the student learns on its own sampled tokens toward the
teacher's distribution (``on_policy_divergence``), with the same training budget (steps × batch).

Every stage goes through the project's library (runner, agent, workspace, hf-local client,
filters, training) and writes under one run directory; a stage whose artefact exists is skipped,
so re-running resumes. Layout::

    <run_dir>/config.yaml, timings.json, report.md, report.png, curve.png
    <run_dir>/round-<r>/collect-<split>-<prompt>/   trajectories.jsonl, summary.json, config.yaml
    <run_dir>/round-<r>/dataset/  train/  merged/     (r >= 1)
    <run_dir>/round-1/review/                        verdicts.jsonl, corrections.jsonl
    <run_dir>/round-1-on-policy/dataset/ train/ merged/ collect-test-*/   (the student's runs:
                                                     round-0/collect-train-nohints)
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from core.chat_template import load_tokenizer
from core.config import dump_config
from core.llm.base import LLMClient
from core.llm.factory import ClientConfig, make_client
from core.messages import to_chat
from core.rundir import CONFIG, SUMMARY, load_run, report_path
from core.store import write_atomic
from core.trajectory import Trajectory
from demo.config import DemoConfig
from demo.standin import GROUP, PROMPTS, agent_config, coffee_root, ensure_standin
from filters.balance import BalanceConfig
from filters.correct import CORRECTIONS, correct
from filters.dataset import DatasetConfig, build_dataset
from filters.on_policy import build_on_policy_dataset
from filters.review import review
from filters.spec import LIBRARY
from tasks.collection.config import CollectConfig, TaskSelection
from tasks.collection.report import summarize_trajectories, write_report
from tasks.collection.runner import collect
from tasks.toolqa.benchmark import ToolQABenchmark
from training.config import LoraSettings, LossKind, LossSettings, OptimSettings, TrainConfig
from training.merge import merge
from training.trainer import train

log = logging.getLogger(__name__)

SKIPPED = "skipped.json"  # written instead of a model when a round has no training examples
ON_POLICY = "1-on-policy"  # the on-policy round's name: <run_dir>/round-1-on-policy/
Round = int | str  # a round's name: 0, 1, 2 or ON_POLICY


class Demo:
    """The stages of one demo run; each returns its artefact and is skipped when that exists."""

    def __init__(self, config: DemoConfig, run_dir: Path) -> None:
        self.config, self.run_dir = config, run_dir
        self.benchmark = ToolQABenchmark(coffee_root(config.seed, config.profile), groups=[GROUP])
        self.timings_file = run_dir / "timings.json"
        self.timings: dict[str, float] = (json.loads(self.timings_file.read_text())
                                          if self.timings_file.exists() else {})
        self.clients: dict[Path, LLMClient] = {}

    # -- bookkeeping ------------------------------------------------------------------------
    def stage(self, name: str, artefact: Path, work: Callable[[], object]) -> Path:
        """Run ``work`` unless ``artefact`` exists; record its wall time under ``name``."""
        if not artefact.exists():
            log.info("stage %s", name)
            start = time.perf_counter()
            work()
            self.timings[name] = time.perf_counter() - start
            write_atomic(self.timings_file, json.dumps(self.timings, indent=1))
        return artefact

    def client(self, model: Path) -> LLMClient:
        """One in-process hf-local client per checkpoint, loaded on first use."""
        if model not in self.clients:
            self.clients[model] = make_client(ClientConfig(backend="hf-local", model=str(model)))
        return self.clients[model]

    # -- stages -----------------------------------------------------------------------------
    def collect(self, rnd: Round, model: Path, split: str, prompt: str, temperature: float = 0.0,
                serves: Round | None = None) -> Path:
        """Episodes of the round-``rnd`` model; ``serves`` is the round whose wall time they count in."""
        c = self.config
        per_template = c.test_per_template if split == "test" else c.train_per_template
        run = self.run_dir / f"round-{rnd}" / f"collect-{split}-{prompt}"
        config = CollectConfig(
            run_dir=run, preset=f"demo-{split}-{prompt}", prompt=PROMPTS[prompt],
            tasks=TaskSelection(benchmark="toolqa", groups=[GROUP], templates=[f"{GROUP}/{t}" for t in c.templates],
                                splits=[split], per_template=per_template, seed=c.seed),
            trials=c.train_trials if split == "train" else 1,
            client=ClientConfig(backend="hf-local", model=str(model)),
            agent=agent_config(c, temperature).model_copy(update={"seed": c.seed}))
        return self.stage(f"round-{rnd if serves is None else serves}/collect-{split}-{prompt}", run / SUMMARY,
                          lambda: collect(config, self.client(model), self.benchmark, show_progress=True)).parent

    def evaluate(self, rnd: Round, model: Path) -> None:
        for prompt in ("nohints", "hints"):
            self.collect(rnd, model, "test", prompt)

    def dataset_config(self, rnd: int, successful_only: bool) -> DatasetConfig:
        return DatasetConfig(round=rnd, seed=self.config.seed, successful_only=successful_only, exports=[],
                             balance=BalanceConfig(preserve_per_template=self.config.preserve_per_template,
                                                   seed=self.config.seed))

    def dataset(self, rnd: int, **inputs: list[Path]) -> Path:
        out = self.run_dir / f"round-{rnd}" / "dataset"
        config = self.dataset_config(rnd, successful_only=rnd == 1)
        self.stage(f"round-{rnd}/dataset", out / "train.jsonl",
                   lambda: build_dataset(out, config, show=False, **inputs))
        return out

    def on_policy_dataset(self, student: Path, runs: list[Path]) -> Path:
        """The student's own steps (all of them, successful or not) with the teacher's hints re-inserted."""
        out = self.run_dir / f"round-{ON_POLICY}" / "dataset"
        self.stage(f"round-{ON_POLICY}/dataset", out / "train.jsonl", lambda: build_on_policy_dataset(
            out, runs, PROMPTS["hints"], load_tokenizer(str(student)), self.dataset_config(1, successful_only=False),
            self.benchmark, show=False))
        return out

    def train_and_merge(self, rnd: Round, base: Path, data: Path, divergence: LossKind = "forward_kl") -> Path:
        """The round's adapter merged into ``base``; ``base`` itself when the dataset is empty."""
        c = self.config
        out = self.run_dir / f"round-{rnd}"
        if not (data / "train.jsonl").read_text().strip():
            self.stage(f"round-{rnd}/train", out / "train" / SKIPPED, lambda: write_atomic(
                out / "train" / SKIPPED, json.dumps({"reason": "no training examples", "model": str(base)})))
            return base
        config = TrainConfig(
            base_model=base, train_data=[data / "train.jsonl"],
            val_data=[data / "val.jsonl"] if (data / "val.jsonl").read_text().strip() else [],
            output_dir=out / "train", lora=LoraSettings(rank=c.lora_rank, dropout=0.0, output_layer=False),
            optim=OptimSettings(lr=c.kl_lr, warmup_steps=min(10, c.kl_steps)),
            loss=LossSettings(kind=divergence, temperature=c.kl_temperature), hint_dropout=c.hint_dropout,
            epochs=10_000, max_steps=c.kl_steps, micro_batch_size=c.kl_batch, dtype="float32",
            eval_every=c.kl_steps, save_every=c.kl_steps, seed=c.seed)
        adapter = self.stage(f"round-{rnd}/train", out / "train" / "adapter", lambda: train(config))
        return self.stage(f"round-{rnd}/merge", out / "merged",
                          lambda: merge(base, [adapter], out / "merged", [data / "train.jsonl"]))

    def review_and_correct(self, rnd: int, model: Path, runs: list[Path]) -> Path:
        """Filters over the no-hint runs, then verified corrections by ``model`` with each corrective hint."""
        c = self.config
        out = self.run_dir / f"round-{rnd}" / "review"
        filters = [LIBRARY / "toolqa" / f"{name}.yaml" for name in c.filters]
        self.stage(f"round-{rnd + 1}/review", out / "review.json",
                   lambda: review(runs, filters, out, show_progress=False))

        def corrections() -> None:
            correct(out, self.client(model), samples=c.correction_samples, verify=True,
                    continue_to_end=c.correction_to_end, temperature=c.correction_temperature, min_p=None,
                    max_tokens=200, benchmark=self.benchmark)

        self.stage(f"round-{rnd + 1}/correct", out / CORRECTIONS, corrections)
        return out

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> Path:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.run_dir / CONFIG, dump_config(self.config))
        start = time.perf_counter()
        base = self.stage("round-0/standin", self.run_dir / "round-0" / "standin.json",
                          lambda: self._record_standin())
        model0 = Path(json.loads(base.read_text())["path"])
        self.evaluate(0, model0)
        teacher_runs = [self.collect(0, model0, "train", "hints", self.config.train_temperature, serves=1)]

        data1 = self.dataset(1, runs=teacher_runs)
        model1 = self.train_and_merge(1, model0, data1)
        self.evaluate(1, model1)
        if self.config.on_policy:
            self.on_policy_round(model0)

        mistakes = [self.collect(1, model1, "train", "nohints", serves=2)]
        candidates = [self.collect(1, model1, "train", "hints", serves=2)]
        review_dir = self.review_and_correct(1, model1, mistakes)
        data2 = self.dataset(2, corrections=[review_dir], candidates=candidates, previous=[data1 / "examples.jsonl"])
        model2 = self.train_and_merge(2, model1, data2)
        self.evaluate(2, model2)
        self.timings["total (this invocation)"] = time.perf_counter() - start
        write_atomic(self.timings_file, json.dumps(self.timings, indent=1))
        return self.report()

    def on_policy_round(self, model0: Path) -> Path:
        """Round 1 on-policy from the stand-in, with the paper's round-1 training budget; its merged model."""
        c = self.config
        students = [self.collect(0, model0, "train", "nohints", c.train_temperature, serves=ON_POLICY)]
        data = self.on_policy_dataset(model0, students)
        model = self.train_and_merge(ON_POLICY, model0, data, c.on_policy_divergence)
        self.evaluate(ON_POLICY, model)
        return model

    def _record_standin(self) -> None:
        path = ensure_standin(self.config)
        info = json.loads((path / "standin.json").read_text())
        write_atomic(self.run_dir / "round-0" / "standin.json", json.dumps({"path": str(path), **info}, indent=1))

    # -- output -----------------------------------------------------------------------------
    def round_names(self) -> list[Round]:
        return [0, 1, *([ON_POLICY] if self.config.on_policy else []), 2]

    def rounds(self) -> list[dict]:
        rows = []
        for rnd in self.round_names():
            stats = {p: summarize_trajectories(p, load_run(self.run_dir / f"round-{rnd}" / f"collect-test-{p}"))
                     for p in ("nohints", "hints")}
            student, teacher = stats["nohints"], stats["hints"]
            seconds = sum(v for k, v in self.timings.items() if k.startswith(f"round-{rnd}/"))
            chars = {p: prompt_chars(load_run(self.run_dir / f"round-{rnd}" / f"collect-test-{p}"))
                     for p in ("nohints", "hints")}
            rows.append({"round": rnd, "variant": self.variant(rnd), "student": student["pooled"]["mean"], "teacher": teacher["pooled"]["mean"],
                         "gap": teacher["pooled"]["mean"] - student["pooled"]["mean"],
                         "student_tokens": student["input_tokens_per_episode"],
                         "teacher_tokens": teacher["input_tokens_per_episode"],
                         "student_chars": chars["nohints"], "teacher_chars": chars["hints"],
                         "episodes": student["episodes"], "wall_s": seconds})
        return rows

    def variant(self, rnd: Round) -> str:
        """How the round's model was trained: the paper's off-policy rounds, or on-policy with its divergence."""
        if rnd == 0:
            return "stand-in"
        return f"on-policy, {self.config.on_policy_divergence}" if rnd == ON_POLICY else "off-policy, forward_kl"

    def report(self) -> Path:
        rows = self.rounds()
        names = self.round_names()
        runs = [self.run_dir / f"round-{r}" / f"collect-test-{p}" for r in names for p in ("nohints", "hints")]
        write_report(runs, self.run_dir / "runs", [f"round-{r} {p}" for r in names for p in ("nohints", "hints")])
        header = ["round", "training", "success without hints", "teacher with hints", "gap", "in tokens/ep (no hints)",
                  "in tokens/ep (teacher)", "token ratio", "in chars/ep (no hints)", "in chars/ep (teacher)",
                  "char ratio", "wall time (s)"]
        cells = [[str(r["round"]), r["variant"], f"{100 * r['student']:.1f}%", f"{100 * r['teacher']:.1f}%",
                  f"{100 * r['gap']:+.1f}", f"{r['student_tokens']:.0f}", f"{r['teacher_tokens']:.0f}",
                  f"{r['student_tokens'] / max(r['teacher_tokens'], 1):.2f}", f"{r['student_chars']:.0f}",
                  f"{r['teacher_chars']:.0f}", f"{r['student_chars'] / max(r['teacher_chars'], 1):.2f}",
                  f"{r['wall_s']:.0f}"] for r in rows]
        table = Table(title=f"mnm demo (seed {self.config.seed}, {rows[0]['episodes']} test episodes per cell)")
        for h in header:
            table.add_column(h, justify="right")
        for c in cells:
            table.add_row(*c)
        Console().print(table)
        md = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(c) + " |" for c in cells]
        md.append(f"\nSeed {self.config.seed}; stand-in: {self.run_dir / 'round-0' / 'standin.json'}; "
                  f"stage timings: timings.json; per-run tables: runs/report.md.")
        write_atomic(report_path(self.run_dir, "md"), "\n".join(md) + "\n")
        write_atomic(report_path(self.run_dir, "json"), json.dumps(rows, indent=1))
        plot_curve(rows, self.run_dir / "curve.png")
        return self.run_dir


def prompt_chars(trajectories: list[Trajectory]) -> float:
    """Characters of prompt text sent per episode (every call's messages), whatever the tokenizer."""
    total = 0
    for t in trajectories:
        for i, m in enumerate(t.messages):
            if m.role == "assistant":
                total += sum(len(row["content"]) for row in to_chat(t.messages[:i])) + len(m.prefill)
    return total / max(len(trajectories), 1)


def plot_curve(rows: list[dict], path: Path) -> None:
    """Success per round of the student (no hints) and the teacher (with hints); the on-policy round as
    separate markers at round 1."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    paper = [r for r in rows if r["round"] != ON_POLICY]
    rounds = [r["round"] for r in paper]
    ax.plot(rounds, [100 * r["teacher"] for r in paper], "s--", label="teacher (task-specific hints)")
    ax.plot(rounds, [100 * r["student"] for r in paper], "o-", label="student (no hints)")
    for r in rows:
        if r["round"] == ON_POLICY:
            ax.plot([1], [100 * r["student"]], "D", label=f"student, round 1 {r['variant']}")
    ax.set_xticks(rounds)
    ax.set_xlabel("round")
    ax.set_ylabel("test success (%)")
    ax.set_ylim(-5, 105)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    write_atomic(path, buf.getvalue())


def run_demo(config: DemoConfig, run_dir: str | Path | None = None) -> Path:
    """Run (or resume) the demo; return its run directory (default ``<runs>/demo/<name>-seed<seed>``)."""
    from core.settings import get_settings

    default = get_settings().mnm_runs_dir / "demo" / f"{config.name}-seed{config.seed}"
    run_dir = Path(run_dir) if run_dir else default
    return Demo(config, run_dir).run()
