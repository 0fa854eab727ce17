"""The teacher cache from a real vLLM server (CPU, fp32) equals the in-process one on SmolLM2-135M-Instruct
at temperature 1, the only one vLLM's prompt log-probabilities come at."""

import pytest
import torch
from transformers import AutoTokenizer

from core.examples import Example, write_examples
from core.llm.prompt_logprobs import VLLMPromptLogprobs
from tests.fakes.tiny_model import tiny_examples
from tests.real_models import real_model
from tests.test_real_vllm import first_step
from training.data import load_examples
from training.sparse_kl import chunked_sparse_kl
from training.teacher_cache import LocalTeacher, TeacherCache, build_cache

pytestmark = [pytest.mark.slow, pytest.mark.real, pytest.mark.timeout(1800)]  # a server start is minutes

MODEL = "smollm2-135m-instruct"
K = 20


def test_vllm_cache_equals_the_in_process_cache(smollm2_server, tmp_path):
    model = real_model(MODEL)
    agent_step = Example(id="agent", messages=[*first_step(), *tiny_examples(1)[0].messages[-2:]])
    data = write_examples(tmp_path / "data.jsonl", [*tiny_examples(3), agent_step])
    opts = {"student_model": model, "teacher_tokenizer": model, "k": K, "progress": False}
    local = build_cache([data], tmp_path / "local", LocalTeacher(model, temperatures=[1.0]), **opts)
    served = build_cache([data], tmp_path / "vllm", VLLMPromptLogprobs(smollm2_server, model), **opts)
    tokenizer = AutoTokenizer.from_pretrained(model)
    ids = [e.id for e in load_examples([data])]
    caches = [TeacherCache(path, [data], tokenizer) for path in (local, served)]
    assert [c.meta["temperatures"] for c in caches] == [[1.0], [1.0]]
    a, b = (c.teacher(ids, 1.0) for c in caches)
    assert len(a) > 100
    same_ids = (a.ids == b.ids).float().mean().item()
    assert same_ids > 0.99  # only near-ties may swap places
    torch.testing.assert_close(b.logprobs.sort(-1).values, a.logprobs.sort(-1).values, rtol=0, atol=2e-3)
    torch.testing.assert_close(b.tail.exp(), a.tail.exp(), rtol=0, atol=1e-3)
    # the same loss for a student that is not the teacher
    torch.manual_seed(0)
    h, w = torch.randn(len(a), 64), torch.randn(len(tokenizer), 64)
    loss_a, loss_b = (chunked_sparse_kl(h, w, t, torch.ones(len(a)) / len(a), temperature=1.0)[0] for t in (a, b))
    assert loss_b.item() == pytest.approx(loss_a.item(), rel=1e-3)
