# %% [markdown]
# # Run an OfficeBench preset concurrently and look at the table
# Pick a preset and a model by editing one variable each, run the cells (or `python
# tasks/run_concurrent_OfficeBench.py`). Re-running resumes the run instead of starting over.
# Presets (tasks/presets/): officebench-teacher-train (task hints, 4 trials),
# officebench-nohints-test, officebench-combined-test. Needs LibreOffice and Tesseract
# (tasks/officebench/install_system_deps.sh) for the tasks that convert to PDF or read images.

# %%
from core.settings import get_settings
from tasks.report import summarize, to_markdown
from tasks.runner import collect, load_collect_config

PRESET = "officebench-nohints-test"
CLIENT = {"backend": "scripted-expert"}  # e.g. {"backend": "vllm-completions", "model": "llama", "tokenizer": "/models/llama"}
ERRATA = "corrected"  # grading: "corrected" (errata.yaml fixes) or "original" (released semantics)
TRIALS = 1
LIMIT = 10  # at most this many subtasks (None = the whole split)
RUN_DIR = get_settings().mnm_runs_dir / f"{PRESET}-{CLIENT['backend']}"

# %%
config = load_collect_config(PRESET, overrides=[
    f"run_dir={RUN_DIR}", f"trials={TRIALS}", f"tasks.limit={LIMIT}", f"tasks.data={ERRATA}",
    *[f"client.{k}={v}" for k, v in CLIENT.items()],
])
run_dir = collect(config)

# %%
print(to_markdown(summarize([run_dir])))
