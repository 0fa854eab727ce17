"""Cells for one round: train the round's adapter, then merge it into a standalone checkpoint.

As a script::

    python training/train_round.py runs/exp/round-1/train.yaml [key=value ...]

In an editor with ``# %%`` cells, set ``ARGS`` in the first cell. The merged model goes next to
the training output dir (``<output_dir>/../merged``), as in the run-directory layout; a merged
model that already exists is kept. On a tiny model everything runs on CPU.
"""

# %%
import sys

from core.config import load_config
from training.config import TrainConfig
from training.merge import merge
from training.trainer import train

ARGS = sys.argv[1:]  # config path, then dotted overrides
if not ARGS:
    raise SystemExit(__doc__)
config = load_config(TrainConfig, ARGS[0], ARGS[1:])

# %% Train (resumes from the newest checkpoint in output_dir)
adapter = train(config)
print(f"adapter: {adapter}")

# %% Merge the adapter chain into the base
merged = config.output_dir.parent / "merged"
if not merged.exists():
    merge(config.base_model, [*config.adapters, adapter], merged, [*config.train_data, *config.val_data])
print(f"merged model: {merged}")
