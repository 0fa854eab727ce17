"""Training metrics: one JSON line per record in ``metrics.jsonl``, mirrored to wandb when enabled.

After a resume, steps logged between the last checkpoint and the kill are logged again; readers
take the last record per (kind, step).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from core.settings import get_settings
from core.store import JsonlStore


class MetricRecord(BaseModel):
    """``kind`` is ``train`` or ``val``; the metric values are extra fields."""

    model_config = ConfigDict(extra="allow")
    kind: str
    step: int


class MetricsLog:
    def __init__(self, output_dir: Path, run_name: str, config: dict[str, Any]) -> None:
        self.store = JsonlStore(output_dir / "metrics.jsonl", MetricRecord, key="step")
        settings = get_settings()
        self.wandb = None
        if settings.wandb_mode != "disabled":
            import wandb

            run_id = hashlib.sha1(str(output_dir.resolve()).encode()).hexdigest()[:16]  # resumes continue it
            self.wandb = wandb.init(project=settings.wandb_project, name=run_name, mode=settings.wandb_mode,
                                    dir=str(output_dir), config=config, resume="allow", id=run_id)

    def log(self, kind: str, step: int, values: dict[str, float]) -> None:
        self.store.append(MetricRecord(kind=kind, step=step, **values))
        if self.wandb is not None:
            self.wandb.log({f"{kind}/{k}": v for k, v in values.items()}, step=step)

    def records(self, kind: str) -> dict[int, MetricRecord]:
        return {r.step: r for r in self.store.read() if r.kind == kind}

    def close(self) -> None:
        if self.wandb is not None:
            self.wandb.finish()
