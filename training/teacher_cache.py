"""The teacher's signal computed once and stored next to the dataset, so training never runs it.

For every example, one scoring pass of the teacher view (:func:`training.sequences.encode`, the
token ids training uses) gives, per target token, the teacher's top-k token ids, their
log-probabilities and the log tail mass (:class:`training.sparse_kl.SparseTeacher`) at each of the
source's temperatures: training's ``loss.temperature`` and ``val_temperature`` (the trainer refuses a
cache without them). The top k ids are the same at every temperature; the log-probabilities and
the tail are not, and the tail at T needs the whole vocabulary, so each T is scored, not derived.
Two sources: the in-process model (:class:`LocalTeacher`: a checkpoint, earlier adapters merged,
as the trainer's teacher with the new adapter disabled) and a vLLM server's ``/v1/completions``
with ``prompt_logprobs`` (:class:`core.llm.prompt_logprobs.VLLMPromptLogprobs`: the endpoint call
lives with the LLM backends in ``core/``; vLLM's prompt log-probabilities are at temperature 1 only,
so its caches serve training at T = 1). The teacher may be another model than the student's
base (model and context distillation in one round) as long as its tokenizer has the same
vocabulary and ids.

Layout of a cache directory::

    teacher_cache.json        provenance: source, teacher, k, temperatures, vocabulary digest, dataset digests, complete
    part-00000/               one shard per ``shard_examples`` examples, written to a temporary name and renamed
        examples.json         [{"id", "tokens"}] in row order
        ids.npy               int32 [n, k]    the teacher's top-k token ids
        logprobs.npy          float32 [n, t, k]  their log-probabilities at each of the t temperatures
        tail.npy              float32 [n, t]  log(1 - Σ p_topk) at each temperature, -inf when k covers the vocabulary
        labels.npy            int32 [n]       the target token ids scored (checked against training's)

Why ``.npy``: fixed-width arrays that numpy memory-maps (``mmap_mode="r"``) with no new dependency,
an example's rows are one slice, and a shard is complete or absent (atomic directory rename), so an
interrupted build resumes at the first missing example. A cache is refused when its dataset files,
vocabulary or an example's target tokens differ from what training reads (stale).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import AutoTokenizer

from core.errors import ConfigError, DataError
from core.provenance import describe_datasets, describe_model, stamp
from core.store import write_atomic
from training.data import load_examples
from training.sequences import Encoded, encode
from training.sparse_kl import SparseTeacher, sparse_teachers

META = "teacher_cache.json"
ARRAYS = ("ids", "logprobs", "tail", "labels")


def vocabulary_digest(tokenizer: Any) -> str:
    """SHA-256 of the tokenizer's (token, id) pairs, added tokens included: what token ids mean."""
    pairs = sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])
    return hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode()).hexdigest()


def check_same_tokenizer(teacher: Any, student: Any, teacher_name: str, student_name: str) -> None:
    """Raise :class:`ConfigError` unless both tokenizers map the same tokens to the same ids."""
    a, b = teacher.get_vocab(), student.get_vocab()
    if a == b:
        return
    moved = next((t for t in sorted(set(a) | set(b), key=lambda t: (a.get(t, -1), t)) if a.get(t) != b.get(t)), None)
    raise ConfigError(f"teacher {teacher_name} and student {student_name} have different tokenizers "
                      f"({len(a)} vs {len(b)} tokens; token {moved!r} is id {a.get(moved)} vs {b.get(moved)}): "
                      "a cached teacher must share the student's token ids")


class TeacherSource(Protocol):
    """Scores a token sequence: the top-k ids [n, k], their log-probabilities [n, t, k] and the log
    tail mass [n, t] at each of its ``temperatures`` of the token at each of ``positions`` given the
    tokens before it (:class:`LocalTeacher`, or :class:`core.llm.prompt_logprobs.VLLMPromptLogprobs`
    for a vLLM server)."""

    temperatures: tuple[float, ...]

    def describe(self) -> dict[str, Any]: ...

    def score(self, token_ids: list[int], positions: list[int], k: int) -> tuple[torch.Tensor, ...]: ...


class LocalTeacher:
    """The teacher in this process: ``model`` with ``adapters`` merged (the round's base), no LoRA,
    scored at each of ``temperatures`` (training's loss and validation temperatures); loaded at the
    first :meth:`score`, after the inputs are checked."""

    def __init__(self, model: str | Path, adapters: Sequence[str | Path] = (), *, temperatures: Sequence[float],
                 dtype: str = "float32", device: str = "cpu", chunk_tokens: int = 256) -> None:
        if not temperatures or min(temperatures) <= 0:
            raise ConfigError(f"teacher temperatures must be positive, not {list(temperatures)}")
        self.path, self.adapters, self.dtype, self.chunk_tokens = Path(model), list(adapters), dtype, chunk_tokens
        self.temperatures, self.device = tuple(dict.fromkeys(float(t) for t in temperatures)), device

    @cached_property
    def model(self) -> torch.nn.Module:
        from training.model import load_model

        return load_model(self.path, self.adapters, dtype=self.dtype).to(self.device).eval()

    def describe(self) -> dict[str, Any]:
        return {"source": "local", "model": describe_model(self.path, digests=False),
                "adapters": [describe_model(a) for a in self.adapters], "dtype": self.dtype}

    @torch.no_grad()
    def score(self, token_ids: list[int], positions: list[int], k: int) -> tuple[torch.Tensor, ...]:
        from training.model import hidden_states, output_weights

        device, weight = self.device, output_weights(self.model)[1]
        ids = torch.tensor([token_ids], device=device)
        before = torch.tensor(positions, device=device) - 1  # the hidden state at j - 1 predicts token j
        h = hidden_states(self.model, ids, torch.ones_like(ids))[0, before]
        parts = [sparse_teachers(h[lo:lo + self.chunk_tokens] @ weight.T, k, self.temperatures)
                 for lo in range(0, len(positions), self.chunk_tokens)]
        return tuple(torch.cat(p).cpu() for p in zip(*parts, strict=True))


def build_cache(datasets: Sequence[str | Path], out: str | Path, source: TeacherSource, *, student_model: str | Path,
                teacher_tokenizer: str | Path, k: int, max_length: int | None = None, shard_examples: int = 64,
                progress: bool = True) -> Path:
    """Score every example of ``datasets`` with ``source`` into the cache directory ``out``; resumable.

    Token ids come from the student's tokenizer (``student_model``), exactly as training encodes
    them; the teacher's (``teacher_tokenizer``) must have the same vocabulary. ``max_length``
    skips longer teacher views, as training does. Returns ``out``.
    """
    if k < 1:
        raise ConfigError(f"k must be at least 1, not {k}")
    out = Path(out)
    student_tok = AutoTokenizer.from_pretrained(student_model)
    check_same_tokenizer(AutoTokenizer.from_pretrained(teacher_tokenizer), student_tok, str(teacher_tokenizer),
                         str(student_model))
    examples = load_examples(datasets)
    meta = {"kind": "teacher_cache", "k": k, "temperatures": list(source.temperatures),
            "vocabulary": vocabulary_digest(student_tok),
            "teacher": source.describe(), "datasets": describe_datasets(datasets), "complete": False}
    if (out / META).exists():
        old = json.loads((out / META).read_text())
        for key in ("k", "temperatures", "vocabulary", "teacher", "datasets"):
            if old.get(key) != meta[key]:
                raise ConfigError(f"{out} holds a teacher cache built with a different {key}; use a new directory")
        meta = old | {"complete": False}
    else:
        write_atomic(out / META, json.dumps({**meta, **stamp()}, indent=1))
    done = {e["id"] for part in _parts(out) for e in json.loads((part / "examples.json").read_text())}
    todo = [e for e in examples if e.id not in done]
    shard: list[tuple[str, Encoded, tuple[torch.Tensor, ...]]] = []
    for example in tqdm(todo, desc=f"teacher cache {out.name}", unit="example", disable=not progress):
        encoded = encode(example, student_tok)
        if max_length is not None and len(encoded) > max_length:
            continue
        positions = [j for j, m in enumerate(encoded.target_mask) if m]
        shard.append((example.id, encoded, source.score(encoded.input_ids, positions, k)))
        if len(shard) == shard_examples:
            _write_shard(out, shard)
            shard = []
    if shard:
        _write_shard(out, shard)
    write_atomic(out / META, json.dumps({**meta, **stamp(), "complete": True}, indent=1))
    return out


def _parts(out: Path) -> list[Path]:
    return sorted(p for p in out.glob("part-*") if p.is_dir())


def _write_shard(out: Path, shard: list[tuple[str, Encoded, tuple[torch.Tensor, ...]]]) -> None:
    """Write the shard's ``(example id, encoded, (ids, logprobs, tail))`` under a temporary name, then rename."""
    part = out / f"part-{len(_parts(out)):05d}"
    tmp = out / f".{part.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    arrays = {"ids": np.concatenate([t[0].numpy().astype(np.int32) for _, _, t in shard]),
              "logprobs": np.concatenate([t[1].numpy().astype(np.float32) for _, _, t in shard]),
              "tail": np.concatenate([t[2].numpy().astype(np.float32) for _, _, t in shard]),
              "labels": np.concatenate([np.asarray(e.target_ids, dtype=np.int32) for _, e, _ in shard])}
    for name, array in arrays.items():
        np.save(tmp / f"{name}.npy", array)
    (tmp / "examples.json").write_text(json.dumps([{"id": i, "tokens": len(t[0])} for i, _, t in shard]))
    tmp.rename(part)


@dataclass(frozen=True)
class _Rows:
    part: int
    start: int
    count: int


class TeacherCache:
    """A built cache, memory-mapped; refuses one that is incomplete or stale for ``datasets``."""

    def __init__(self, directory: str | Path, datasets: Sequence[str | Path], tokenizer: Any) -> None:
        self.dir = Path(directory)
        if not (self.dir / META).exists():
            raise DataError(f"{self.dir} is not a teacher cache (no {META}); build it with `mnm teacher-cache`")
        self.meta = json.loads((self.dir / META).read_text())
        if not self.meta.get("complete"):
            raise DataError(f"teacher cache {self.dir} is incomplete: rerun `mnm teacher-cache` to finish it")
        if self.meta["vocabulary"] != vocabulary_digest(tokenizer):
            raise ConfigError(f"teacher cache {self.dir} was built for another tokenizer than "
                              f"{getattr(tokenizer, 'name_or_path', 'the student')}'s vocabulary")
        cached = {d["path"]: d["sha256"] for d in self.meta["datasets"]}
        for d in describe_datasets(datasets):
            if d["path"] not in cached:
                raise DataError(f"teacher cache {self.dir} does not cover dataset {d['path']}")
            if cached[d["path"]] != d["sha256"]:
                raise DataError(f"teacher cache {self.dir} is stale: dataset {d['path']} changed since it was built")
        self.k = int(self.meta["k"])
        if "temperatures" not in self.meta:
            raise DataError(f"teacher cache {self.dir} does not record its temperature (built before caches "
                            "did; T = 1): rebuild it with `mnm teacher-cache`")
        self.temperatures = tuple(self.meta["temperatures"])
        self.parts = [{name: np.load(p / f"{name}.npy", mmap_mode="r") for name in ARRAYS} for p in _parts(self.dir)]
        self.rows: dict[str, _Rows] = {}
        for i, p in enumerate(_parts(self.dir)):
            start = 0
            for e in json.loads((p / "examples.json").read_text()):
                self.rows[e["id"]] = _Rows(i, start, e["tokens"])
                start += e["tokens"]

    def check(self, example_id: str, target_ids: list[int]) -> None:
        """Raise :class:`DataError` unless the cache scored exactly these target tokens for the example."""
        rows = self.rows.get(example_id)
        if rows is None:
            raise DataError(f"teacher cache {self.dir} has no entry for example {example_id}")
        labels = self.parts[rows.part]["labels"][rows.start:rows.start + rows.count]
        if labels.tolist() != list(target_ids):
            raise DataError(f"teacher cache {self.dir} is stale for example {example_id}: its target tokens "
                            "differ from training's (chat template or tokenizer changed)")

    def temperature_for(self, temperature: float, field: str, retemper: bool = False) -> float:
        """The cached temperature to read for training's ``field`` at ``temperature``: that one, or with
        ``retemper`` the cache's first (tempered per token by the loss); else :class:`ConfigError`."""
        if temperature in self.temperatures or retemper:
            return temperature if temperature in self.temperatures else self.temperatures[0]
        held = " and ".join(map(str, self.temperatures))
        raise ConfigError(f"teacher cache {self.dir} holds the teacher at temperature {held}, training's {field} "
                          f"is {temperature}: rebuild the cache with `mnm teacher-cache --temperature {temperature}` "
                          f"(local source; vLLM scores at 1.0 only), set {field}: {held}, or allow the per-token "
                          "approximation with teacher_cache_retemper: true")

    def teacher(self, example_ids: Sequence[str], temperature: float) -> SparseTeacher:
        """The cached rows of the examples at ``temperature``, concatenated in order (as
        :func:`training.data.collate` lists targets)."""
        t = self.temperatures.index(self.temperature_for(temperature, "temperature"))
        chunks = {name: [] for name in ARRAYS[:3]}
        for example_id in example_ids:
            r = self.rows[example_id]
            part = self.parts[r.part]
            rows = slice(r.start, r.start + r.count)
            chunks["ids"].append(torch.from_numpy(np.array(part["ids"][rows])))
            chunks["logprobs"].append(torch.from_numpy(np.array(part["logprobs"][rows, t])))
            chunks["tail"].append(torch.from_numpy(np.array(part["tail"][rows, t])))
        return SparseTeacher(*(torch.cat(chunks[name]) for name in ARRAYS[:3]), temperature=temperature)
