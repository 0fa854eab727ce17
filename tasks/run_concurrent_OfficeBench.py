# %% [markdown]
# # Run an OfficeBench preset concurrently and look at the table
# Pick a preset and a model by editing the first cell, run the cells (or `python
# tasks/run_concurrent_OfficeBench.py`). Re-running resumes the run instead of starting over; the
# run directory is the CLI's (`mnm collect PRESET`), so either can resume the other.
# Presets (tasks/presets/): officebench-teacher-train (task hints, 4 trials),
# officebench-nohints-test, officebench-combined-test. Needs LibreOffice and Tesseract
# (tasks/officebench/install_system_deps.sh) for the tasks that convert to PDF or read images.

# %% tags=["parameters"]
from core.config import dump_config
from core.settings import get_settings
from tasks.collection.config import load_collect_config
from tasks.collection.report import summarize, to_markdown
from tasks.collection.runner import collect

PRESET = "officebench-nohints-test"
CLIENT = {"backend": "scripted-expert"}  # e.g. {"backend": "vllm-completions", "model": "llama", "tokenizer": "/models/llama"}
ERRATA = "corrected"  # grading: "corrected" (errata.yaml fixes) or "original" (released semantics)
TRIALS = 1
LIMIT = 10  # at most this many subtasks (None = the whole split)
RUN_DIR = None  # None: the CLI's default for PRESET ($MNM_RUNS_DIR/<preset>)

# %% What will run, and where
config = load_collect_config(PRESET, updates={
    "run_dir": RUN_DIR or get_settings().run_dir(PRESET), "trials": TRIALS,
    "tasks": {"data": ERRATA, "limit": LIMIT}, "client": CLIENT,
})
print(dump_config(config))

# %% Collect (resumes)
run_dir = collect(config)

# %%
print(to_markdown(summarize([run_dir])))
