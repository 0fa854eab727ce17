"""The limits of a workspace."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from core.config import Config


class WorkspaceConfig(Config):
    """Per-episode limits; ``None`` switches a limit off."""

    model_config = ConfigDict(frozen=True)

    cell_timeout_s: float = Field(
        30.0, gt=0, description="wall-clock limit of one cell, its interrupt's grace included")
    interrupt_grace_s: float = Field(
        2.0, ge=0, description="a cell is interrupted this long before its limit (at most half of it), "
                               "and its worker killed at the limit if it has not stopped")
    memory_mb: int | None = Field(
        4096, gt=0, description="address space a worker may add to what it inherits from its server (RLIMIT_AS)")
    cpu_seconds: int | None = Field(None, gt=0, description="CPU time of one cell (RLIMIT_CPU)")
    output_cap: int = Field(4000, gt=0, description="characters kept of each of stdout, stderr and exception")
    max_processes: int | None = Field(
        64, gt=0, description="processes a worker may run at once, itself included (checked every 0.5 s)")
    background_cpu_s: float = Field(
        5.0, gt=0, description="CPU time a worker may use between cells (threads a cell left running) "
                               "before it is restarted")
    start_timeout_s: float = Field(60.0, gt=0, description="limit for forking a worker and binding its tools")
    confine: bool = Field(
        True, description="workers see the file system read-only except their working directory and a "
                          "private temporary directory ($TMPDIR), and no network (Linux user namespaces; "
                          "where the machine lacks them, a warning and no confinement)")
    network: bool = Field(False, description="confined workers may use the network")
    keep_workdir: bool = Field(False, description="keep a workspace-created working directory on close")
