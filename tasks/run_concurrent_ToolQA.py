# %% [markdown]
# # Run a ToolQA preset concurrently and look at the table
# Pick a preset and a model by editing the first cell, run the cells (or `python
# tasks/run_concurrent_ToolQA.py`). Re-running resumes the run instead of starting over; the run
# directory is the CLI's (`mnm collect PRESET`), so either can resume the other.
# Presets (the paper's options): teacher-train (I), teacher-test (II), nohints-train (IIIa),
# nohints-test (IIIb), combined-test (IV), heldout-teacher (V), heldout-nohints (VI), heldout-combined (VII).

# %% tags=["parameters"]
from core.config import dump_config
from core.settings import get_settings
from tasks.collection.config import load_collect_config
from tasks.collection.report import summarize, to_markdown
from tasks.collection.runner import collect

PRESET = "teacher-test"
CLIENT = {"backend": "scripted-expert"}  # e.g. {"backend": "vllm-completions", "model": "llama", "tokenizer": "/models/llama"}
DATA = "tiny"  # ToolQA-mini profile ("tiny" / "standard"), or a real corpus root (TOOLQA_PATH)
TRIALS = 1
LIMIT = None  # at most this many tasks (None = the whole split)
RUN_DIR = None  # None: the CLI's default for PRESET ($MNM_RUNS_DIR/<preset>)

# %% What will run, and where
config = load_collect_config(PRESET, updates={
    "run_dir": RUN_DIR or get_settings().run_dir(PRESET), "trials": TRIALS,
    "tasks": {"data": DATA, "limit": LIMIT}, "client": CLIENT,
})
print(dump_config(config))

# %% Collect (resumes)
run_dir = collect(config)

# %%
print(to_markdown(summarize([run_dir])))
