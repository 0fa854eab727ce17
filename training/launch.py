"""Train one round from a YAML config: the entry point for ``accelerate launch``.

    python -m training.launch train.yaml [key=value ...]
    accelerate launch --config_file training/configs/fsdp.yaml -m training.launch train.yaml
"""

from __future__ import annotations

import sys

from core.config import load_config
from training.config import TrainConfig
from training.trainer import train


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        raise SystemExit(__doc__)
    print(train(load_config(TrainConfig, args[0], args[1:])))


if __name__ == "__main__":
    main()
