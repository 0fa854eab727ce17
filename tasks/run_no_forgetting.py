# %% [markdown]
# # No-forgetting check: GSM8K and HumanEval, the base model against each round's merged model
# Edit MODELS (one client per model: served endpoints, or hf-local paths), run the cells (or
# `python tasks/run_no_forgetting.py`). Re-running resumes every run instead of starting over.
# The scripted stand-ins below (the expert and an always-wrong agent) show the tables' shape.

# %% tags=["parameters"]
from core.settings import get_settings
from tasks.collection.config import load_collect_config
from tasks.collection.report import summarize, to_markdown
from tasks.collection.runner import collect
from tasks.humaneval.passk import run_pass_at_k

MODELS = {  # e.g. {"base": {"backend": "vllm-chat", "model": "llama-70b"}, "round-1": {..., "model": "round-1"}}
    "base": {"backend": "scripted-expert"},
    "round-1": {"backend": "scripted-wrong"},
}
PRESETS = ["gsm8k-test", "humaneval-completion-test"]  # or humaneval-test (agentic)
LIMIT = 10  # tasks per benchmark; None for all (1,319 GSM8K questions, 164 HumanEval problems)
TRIALS = 2
RUNS = get_settings().run_dir("no-forgetting")

# %% What will run, and where
configs = {(preset, model): load_collect_config(preset, updates={
    "run_dir": RUNS / preset / model, "trials": TRIALS, "tasks": {"limit": LIMIT}, "client": client})
    for preset in PRESETS for model, client in MODELS.items()}
for (preset, model), config in configs.items():
    print(f"{preset} x {model}: {config.trials} trials, client {config.client.backend} "
          f"{config.client.model or ''} -> {config.run_dir}")

# %% Collect (resumes)
runs = {key: collect(config, show_progress=False) for key, config in configs.items()}

# %%
for preset in PRESETS:
    print(to_markdown(summarize([runs[preset, m] for m in MODELS], names=list(MODELS))))
for model in MODELS:
    res = run_pass_at_k(runs["humaneval-completion-test", model], (1, TRIALS))
    print(model, ", ".join(f"pass@{k} {100 * v['mean']:.1f}±{100 * v['se']:.1f}" for k, v in res.items()))
