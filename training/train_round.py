"""Cells for one round: train the round's adapter, then merge it into a standalone checkpoint.

Set ``CONFIG`` (the round's ``train.yaml``) and any ``OVERRIDES`` in the first cell, then run the
cells, or ``python training/train_round.py``. The merged model goes next to the training output
dir (``<output_dir>/../merged``), as in the run-directory layout; a merged model that already
exists is kept. On a tiny model everything runs on CPU. (``mnm train`` / ``mnm merge`` do the same
from the command line.)
"""

# %% tags=["parameters"]
from core.config import dump_config, load_config
from training.config import TrainConfig
from training.merge import merge
from training.trainer import train

CONFIG = "runs/exp/round-1/train.yaml"  # the round's TrainConfig
OVERRIDES: dict = {}  # Python values over the file, e.g. {"epochs": 2, "optim": {"lr": 1e-4}}

# %% What will run, and where
config = load_config(TrainConfig, CONFIG, updates=OVERRIDES)
merged = config.output_dir.parent / "merged"
print(dump_config(config))
print(f"adapter -> {config.output_dir}; merged model -> {merged}{' (exists, kept)' if merged.exists() else ''}")

# %% Train (resumes from the newest checkpoint in output_dir)
adapter = train(config)
print(f"adapter: {adapter}")

# %% Merge the adapter chain into the base
if not merged.exists():
    merge(config.base_model, [*config.adapters, adapter], merged, [*config.train_data, *config.val_data])
print(f"merged model: {merged}")
