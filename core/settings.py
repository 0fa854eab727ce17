"""Settings and secrets from the environment and ``.env`` (see ``.env.example``)."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting has an ``MNM_``-free environment name so it matches provider conventions."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Endpoints and keys
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    deepseek_api_key: SecretStr | None = None
    vllm_api_key: SecretStr | None = None
    vllm_base_urls: str = Field("http://localhost:8000/v1", description="comma-separated replicas")
    mnm_vllm_python: str = Field(sys.executable, description="interpreter of the environment vLLM is installed in")

    # Data and outputs
    toolqa_path: Path | None = None
    mnm_data_dir: Path = Path("data")
    mnm_runs_dir: Path = Path("runs")
    mnm_models_dir: Path | None = Field(None, description="the real small models (default: <mnm_data_dir>/models)")
    mnm_cache_dir: Path = Path(".cache/mnm")

    # Tracking
    wandb_mode: str = "disabled"
    wandb_project: str = "mnm"

    def run_dir(self, name: str | None) -> Path:
        """The default run directory of a preset (or experiment) ``name``: the CLI's and the cells'."""
        return self.mnm_runs_dir / (name or "custom")

    def vllm_urls(self) -> list[str]:
        return [u.strip() for u in self.vllm_base_urls.split(",") if u.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
