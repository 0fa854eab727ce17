# %% [markdown]
# # Run a ToolQA preset concurrently and look at the table
# Pick a preset and a model by editing one variable each, run the cells (or `python
# tasks/run_concurrent_ToolQA.py`). Re-running resumes the run instead of starting over.
# Presets (the paper's options): teacher-train (I), teacher-test (II), nohints-train (IIIa),
# nohints-test (IIIb), combined-test (IV), heldout-teacher (V), heldout-nohints (VI), heldout-combined (VII).

# %%
from core.settings import get_settings
from tasks.report import summarize, to_markdown
from tasks.runner import collect, load_collect_config

PRESET = "teacher-test"
CLIENT = {"backend": "scripted-expert"}  # e.g. {"backend": "vllm-completions", "model": "llama", "tokenizer": "/models/llama"}
DATA = "tiny"  # ToolQA-mini profile ("tiny" / "standard"), or a real corpus root (TOOLQA_PATH)
TRIALS = 1
RUN_DIR = get_settings().mnm_runs_dir / f"{PRESET}-{CLIENT['backend']}"

# %%
config = load_collect_config(PRESET, overrides=[
    f"run_dir={RUN_DIR}", f"tasks.data={DATA}", f"trials={TRIALS}",
    *[f"client.{k}={v}" for k, v in CLIENT.items()],
])
run_dir = collect(config)

# %%
print(to_markdown(summarize([run_dir])))
