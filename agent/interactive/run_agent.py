# %% [markdown]
# # Run the agent on one task
# Edit `CLIENT` (and `MODEL`) below, then run the cells (VSCode / Jupyter), or run this file with
# `python agent/interactive/run_agent.py`. The built-in sample task needs no data.

# %% tags=["parameters"]
from agent.loop import AgentConfig, run_episode
from agent.render import print_trajectory
from core.asyncio_compat import run_sync
from core.llm.factory import ClientConfig
from tasks import sample
from tasks.experts import client_for

CLIENT = "scripted-expert"  # the sample's solution, or a backend of core.llm.factory: "hf-local", "openai", ...
MODEL = ""  # model name, or a local checkpoint path for "hf-local"
HINTS = True

# %%
client = client_for(ClientConfig(backend=CLIENT, model=MODEL), sample.SampleBenchmark())
print(f"{client.model} ({CLIENT}) on the sample task, hints={HINTS}")

# %%
trajectory = run_sync(run_episode(sample.episode(hints=HINTS), client, AgentConfig(temperature=0.0)))
trajectory.outcome.score = sample.grade(trajectory.outcome.answer)
print_trajectory(trajectory)
