"""Settings of ``mnm demo``: the stand-in model, the tasks, and each stage of the loop.

Defaults are in :class:`DemoConfig`; ``demo/demo.yaml`` documents them, ``--quick`` applies
:data:`QUICK` (tiny sizes: only checks that every stage runs and writes its artefacts), and
``--set key=value`` overrides any field.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field

from core.config import Config, load_config

DEFAULTS = Path(__file__).parent / "demo.yaml"


class StandinConfig(Config):
    """The stand-in base model and its pretraining (cached by a hash of these fields and the data)."""

    world_seed: int = Field(1000, description="ToolQA-mini seed of the pretraining corpus (not the demo's)")
    episodes_per_template: int = Field(300, description="pretraining episodes per template and prompt kind")
    corrections_per_template: int = Field(60, description="pretraining episodes with a corrective hint")
    vocab_size: int = 3000
    hidden_size: int = 192
    layers: int = 4
    heads: int = 6
    copy_steps: int = Field(300, description="stage 1: the question followed by the first step")
    steps: int = Field(900, description="stage 2: whole episodes")
    batch_size: int = 16
    lr: float = Field(1e-3, description="3e-3 left the copy loss on a plateau (0.61 nats/token after 600 stage-1 steps)")
    warmup_steps: int = 50
    seed: int = 0


class DemoConfig(Config):
    name: str = Field("default", description="names the run directory: <runs>/demo/<name>-seed<seed>")
    seed: int = 0
    templates: list[str] = Field(description="coffee templates (names) the demo uses")
    slips: list[str] = Field(description="templates whose column name the stand-in mistypes, hints or not")
    filters: list[str] = Field(description="filter files (names in filters/library/toolqa) for round 2")
    profile: str = Field("standard", description="ToolQA-mini profile of the demo's corpus")
    train_per_template: int | None = Field(None, description="training tasks per template (None: all)")
    test_per_template: int | None = Field(None, description="test tasks per template (None: all)")
    train_trials: int = Field(1, description="teacher episodes per training task")
    train_temperature: float = Field(0.0, description="sampling temperature of the training-split runs")
    max_steps: int = Field(4, description="agent step budget")
    correction_samples: int = 2
    correction_temperature: float = 0.5
    correction_to_end: bool = Field(False, description="keep only corrections whose episode then succeeds "
                                    "(otherwise: whose corrected cell runs)")
    preserve_per_template: int = Field(4, description="round 2: successful teacher trajectories replayed for "
                                       "each template without corrections (keeps what round 1 learned)")
    lora_rank: int = 16
    kl_steps: int = 60
    kl_batch: int = 8
    kl_lr: float = 2e-3
    kl_temperature: float = 2.0
    hint_dropout: float = 1.0
    on_policy: bool = Field(True, description="also run round 1 on-policy (filters.on_policy) beside the paper's, "
                            "with the same training budget, and report its row")
    on_policy_divergence: Literal["forward_kl", "reverse_kl"] = Field(
        description="the on-policy round's divergence: reverse_kl (weighted by the student) or forward_kl (by the teacher)")
    standin: StandinConfig = Field(default_factory=StandinConfig)


QUICK = [
    "name=quick", "train_per_template=1", "test_per_template=1", "correction_samples=1", "kl_steps=2", "kl_batch=2",
    "standin.episodes_per_template=4", "standin.corrections_per_template=2",
    "standin.hidden_size=32", "standin.layers=1", "standin.heads=2", "standin.copy_steps=2", "standin.steps=4", "standin.batch_size=4",
]


def load_demo_config(quick: bool = False, overrides: Sequence[str] = ()) -> DemoConfig:
    """The defaults of ``demo/demo.yaml``, then the quick mode's sizes, then ``overrides``."""
    return load_config(DemoConfig, DEFAULTS, [*(QUICK if quick else []), *overrides])
