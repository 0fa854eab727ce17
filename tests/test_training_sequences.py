"""Teacher/student tokenisation over any chat template, and hint dropout."""

from __future__ import annotations

import random

import pytest
from transformers import AutoTokenizer

from core.errors import DataError
from core.examples import write_examples
from core.messages import to_chat
from tests.fakes.tiny_model import build_tiny_llama, tiny_examples
from training.data import Item, load_examples
from training.sequences import collection_prompt, dropout_rng, encode, render, student_keep

CHATML = (
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '\n' + message['content'] + '<|eot_id|>\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant\n' }}{%- endif %}"
)


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return AutoTokenizer.from_pretrained(build_tiny_llama(tmp_path_factory.mktemp("tiny")))


@pytest.fixture()
def chatml_tokenizer(tokenizer):
    tok = AutoTokenizer.from_pretrained(tokenizer.name_or_path)
    tok.chat_template = CHATML
    return tok


def target_indices(example):
    return [i for i, m in enumerate(example.messages) if m.target]


@pytest.mark.parametrize("template", ["llama_like", "chatml_like"])
def test_teacher_context_is_what_the_agent_sent(template, tokenizer, chatml_tokenizer):
    tok = tokenizer if template == "llama_like" else chatml_tokenizer
    example = tiny_examples(1)[0]
    teacher = encode(example, tok)
    starts = [j for j, m in enumerate(teacher.target_mask) if m and (j == 0 or not teacher.target_mask[j - 1])]
    assert len(starts) == 2  # final monologue and final code
    for start, i in zip(starts, target_indices(example), strict=True):
        sent = collection_prompt(tok, example.messages[: i + 1])
        assert tok.decode(teacher.input_ids[:start]) == sent
    first_sent = collection_prompt(tok, example.messages[: target_indices(example)[0] + 1])
    assert teacher.input_ids[: starts[0]] == tok(first_sent, add_special_tokens=False)["input_ids"]


def test_targets_are_generated_text_closing_tags_and_end_of_turn(tokenizer):
    example = tiny_examples(1)[0]
    monologue, code = (example.messages[i] for i in target_indices(example))
    body = lambda m: "".join(p.text for p in m.parts)  # noqa: E731
    expected = body(monologue) + "<|eot_id|>" + body(code) + "<|eot_id|>"
    assert tokenizer.decode(encode(example, tokenizer).target_ids) == expected


def test_student_targets_match_teacher_under_dropout(tokenizer):
    for example in tiny_examples(4):
        item = Item(example, encode(example, tokenizer))
        for epoch in range(3):
            student = item.student(tokenizer, 0.9, seed=0, epoch=epoch)
            assert student.target_ids == item.teacher.target_ids
            assert len(student) < len(item.teacher)  # teacher-only text is always hidden


def test_dropout_end_points(tokenizer):
    example = tiny_examples(1)[0]
    keep_all = student_keep(example, 0.0, random.Random(0))
    drop_all = student_keep(example, 1.0, random.Random(0))
    text_all = render(tokenizer, to_chat(example.messages, keep_all))
    text_none = render(tokenizer, to_chat(example.messages, drop_all))
    assert "Use the LoadDB tool first." in text_all and "load_db(name)" in text_all
    assert "teacher note" not in text_all
    for hint in ("Use the LoadDB tool first.", "Filter the", "load_db(name)", "Respond in this format"):
        assert hint not in text_none
    assert "<tools_documentation>" not in text_none  # a user message left empty is not sent


def test_each_section_dropped_independently_with_probability_p(tokenizer):
    example = tiny_examples(1)[0]
    sections = list(dict.fromkeys(example.hint_sections()))
    assert len(sections) == 4
    draws = 2000
    kept = {s: 0 for s in sections}
    both = 0
    for epoch in range(draws):
        keep = student_keep(example, 0.9, dropout_rng(0, epoch, example.id))
        shown = {p.section for m in example.messages for p in m.parts if p.visibility == "hint" and keep(p)}
        for s in shown:
            kept[s] += 1
        both += {"load_first", "filter_rows"} <= shown
    for s in sections:  # binomial(2000, 0.1): mean 200, sd ~13.4
        assert 140 < kept[s] < 260, (s, kept[s])
    assert both < 45  # independent: ~20 expected; fully correlated would give ~200


def test_dropout_is_redrawn_each_epoch_and_reproducible(tokenizer):
    item = Item(tiny_examples(1)[0], encode(tiny_examples(1)[0], tokenizer))
    views = [tuple(item.student(tokenizer, 0.5, seed=3, epoch=e).input_ids) for e in range(8)]
    assert len(set(views)) > 1
    assert views[2] == tuple(item.student(tokenizer, 0.5, seed=3, epoch=2).input_ids)


def test_trimming_template_keeps_targets_aligned(tokenizer):
    example = tiny_examples(1)[0]
    code = example.messages[target_indices(example)[1]]
    code.parts[0].text += "  \n"  # the llama-like template trims message contents
    teacher = encode(example, tokenizer)
    assert tokenizer.decode(teacher.target_ids).endswith("</run_ipython><|eot_id|>")


def test_template_that_is_not_prefix_stable_is_rejected(tokenizer, chatml_tokenizer):
    chatml_tokenizer.chat_template = CHATML.replace("message['content']", "message['content'] ~ loop.length")
    with pytest.raises(DataError, match="not a prefix"):
        encode(tiny_examples(1)[0], chatml_tokenizer)


def test_bad_dataset_line_names_file_and_line(tmp_path):
    path = write_examples(tmp_path / "ex.jsonl", tiny_examples(2))
    path.write_text(path.read_text() + '{"id": "x", "messages": []}\n')
    with pytest.raises(DataError, match=r"ex\.jsonl:3"):
        load_examples([path])
