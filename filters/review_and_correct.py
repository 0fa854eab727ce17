# %% [markdown]
# # Review a run, correct the flagged steps, write the next round's dataset
# Load a run of the agent without hints, apply the filters (rules and LLM judges), look at each
# flagged step next to its hint, let the teacher (the model with the hint in its prompt) sample
# corrected actions and verify them in a fresh workspace, then build the balanced dataset.
# Run the cells, or `python filters/review_and_correct.py`. The default is a small demo on the
# built-in sample task: a scripted agent with typical mistakes is reviewed and the benchmark's
# scripted expert plays the teacher. For real work set RUN_DIR, CANDIDATES and TEACHER.

# %% tags=["parameters"]
from pathlib import Path

from agent.scripted import ExpertStep, replay_agent
from core.settings import get_settings
from filters.correct import correct, load_corrections
from filters.dataset import DatasetConfig, build_dataset
from filters.review import flagged_report, review
from filters.spec import LIBRARY, load_filters
from tasks.collection.config import CollectConfig, TaskSelection
from tasks.collection.runner import collect
from tasks.experts import expert_client
from tasks.sample import SampleBenchmark
from tasks.task import PromptConfig

OUT = get_settings().run_dir("demo-review")  # the review, corrections and dataset go here
RUN_DIR: Path | None = None  # a run of the agent without hints; None: collect the demo run below
CANDIDATES: Path | None = None  # a run of the newest agent with hints (Option I), for balancing
TEACHER = None  # a core.llm.factory.ClientConfig (e.g. ClientConfig(backend="vllm-chat", model=...)); None: demo
JUDGE = None  # a ClientConfig (or LLMClient) for the judge filters; None: rule filters only
FILTERS = [LIBRARY / "toolqa"]
SAMPLES, VERIFY, CONTINUE_TO_END = 2, True, False

# %% [markdown]
# ## Load a run
# The demo agent asks for "apples" (the tool wants "apple"), runs the failing cell again, then
# fixes it and returns a total it never printed.

# %%
DEMO_STEPS = [
    ExpertStep("I look up the price of apples.", "a = get_price('apples')\nprint(a)"),
    ExpertStep("Let me run it once more.", "a = get_price('apples')\nprint(a)"),
    ExpertStep("The error says the item is unknown; names are singular.",
               "a, p = get_price('apple'), get_price('pear')\nprint(a, p)"),
    ExpertStep("I compute the total and return it.", "total = 3 * a + 2 * p\ncomplete_task('total', f'{total:.2f}')"),
]

benchmark = SampleBenchmark() if RUN_DIR is None else None
if RUN_DIR is None:
    sample = TaskSelection(benchmark="sample")
    RUN_DIR = collect(CollectConfig(run_dir=OUT / "agent-nohints", tasks=sample),
                      client=replay_agent(DEMO_STEPS, model="demo-agent"), benchmark=benchmark, show_progress=False)
    CANDIDATES = collect(CollectConfig(run_dir=OUT / "agent-hints", tasks=sample, trials=3,
                                       prompt=PromptConfig(name="teacher", hints="task", tool_docs="long")),
                         client=expert_client(benchmark), benchmark=benchmark, show_progress=False)
print(RUN_DIR)

# %% [markdown]
# ## Apply the filters

# %%
specs = [s for s in load_filters(FILTERS) if JUDGE is not None or s.kind == "rule"]
for spec in specs:
    print(f"{spec.kind:5} {spec.name:28} {spec.description}")
review([RUN_DIR], specs, OUT / "review", judge_client=JUDGE)

# %% [markdown]
# ## Flagged steps, side by side with their hints

# %%
print(flagged_report(OUT / "review"))

# %% [markdown]
# ## Sample and verify corrections
# Each flagged state gets the hints of every filter that flagged it; actions whose cell raises
# after the earlier cells are replayed are dropped.

# %%
teacher = TEACHER if TEACHER is not None else expert_client(benchmark or SampleBenchmark())
corrections = correct(OUT / "review", teacher, samples=SAMPLES, verify=VERIFY, continue_to_end=CONTINUE_TO_END)
for c in load_corrections(corrections, kept_only=False):
    print(f"{c.trajectory} step {c.step + 1} sample {c.sample}: {'kept' if c.kept else 'dropped'} "
          f"({c.verification}) {c.reason}")

# %% [markdown]
# ## Write the round-2 dataset (corrections + balancing)

# %%
dataset = build_dataset(OUT / "dataset", DatasetConfig(round=2), corrections=[OUT / "review"],
                        candidates=[CANDIDATES] if CANDIDATES else [])
print(sorted(p.name for p in dataset.iterdir()))
