"""Merge a chain of adapters into their base: a standalone HF checkpoint for vLLM and transformers.

The merge runs in fp32 and the result is saved in the base's dtype, with the base's tokenizer
(chat template included) and a ``provenance.json`` naming the base, the adapters and the datasets.
Everything is checked before the weights are loaded (the output does not exist yet, the datasets
do: files, or the directories ``mnm dataset`` writes). The output directory is written under a
temporary name and renamed (removed on failure); an existing one is never replaced.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from transformers import AutoConfig, AutoTokenizer

from core.provenance import FILE, describe_datasets, describe_model, stamp
from core.store import write_atomic
from training.checkpoint import save_dir_atomic
from training.model import load_model


def merge(base: str | Path, adapters: Sequence[str | Path], out: str | Path,
          datasets: Sequence[str | Path] = ()) -> Path:
    """Write ``base`` with ``adapters`` merged in order to ``out``; return ``out``."""
    out = Path(out)
    if not adapters:
        raise ValueError("merge needs at least one adapter")
    if out.exists():
        raise FileExistsError(f"{out} already exists; refusing to overwrite it")
    datasets_record = describe_datasets(datasets)
    dtype = AutoConfig.from_pretrained(base).dtype
    model = load_model(base, adapters, dtype="float32")
    if dtype is not None:
        model = model.to(dtype)
    tokenizer = AutoTokenizer.from_pretrained(base)

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        record = {"kind": "merged", "base_model": describe_model(base, digests=False),
                  "adapters": [describe_model(a) for a in adapters], "datasets": datasets_record,
                  **stamp()}
        write_atomic(tmp / FILE, json.dumps(record, indent=1))

    return save_dir_atomic(out, write)
