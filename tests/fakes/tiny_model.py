"""A tiny random-initialised Llama model and a locally trained tokenizer, for CPU tests.

Also a small hand-made dataset of :class:`core.examples.Example` with hint sections.

Nothing comes from a hub: the tokenizer is a byte-level BPE trained with ``tokenizers`` on the
given texts (so any text can be encoded). Three chat-template styles: ``llama3`` (like Llama-3.1's:
a default system prompt, trimmed contents), ``double-bos`` (the template writes BOS and the
tokenizer adds one too, to exercise double-BOS handling) and ``alternating`` (like Mistral-Instruct's:
it raises unless user and assistant turns alternate).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from core.examples import Example, Provenance
from core.messages import Message, Part

LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                   "<|eot_id|>"]
LLAMA3_TEMPLATE = (
    "{{- bos_token }}"
    "{%- if messages[0]['role'] == 'system' %}"
    "{%- set system = messages[0]['content'] | trim %}{%- set messages = messages[1:] %}"
    "{%- else %}{%- set system = 'You are a helpful assistant.' %}{%- endif %}"
    "{{- '<|start_header_id|>system<|end_header_id|>\n\n' + system + '<|eot_id|>' }}"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim"
    " + '<|eot_id|>' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{%- endif %}"
)
# A template that writes BOS itself while the tokenizer also adds BOS by default (double-BOS trap).
BOS_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
# Mistral-Instruct-like: no system role, no generation prompt, and roles must alternate.
ALTERNATING_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}"
    "{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]{% else %}{{ m['content'] }}{{ eos_token }}"
    "{% endif %}{% endfor %}"
)
STYLES = {  # special tokens (bos, eos, pad first), chat template, tokenizer adds BOS itself
    "llama3": (LLAMA3_SPECIALS, LLAMA3_TEMPLATE, False),
    "double-bos": (["<s>", "<|end|>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>"], BOS_TEMPLATE, True),
    "alternating": (["<s>", "</s>", "<pad>", "[INST]", "[/INST]"], ALTERNATING_TEMPLATE, False),
}

DEFAULT_TEXTS = (
    "<task_description>What is the price of coffee on 2020-01-02?</task_description>",
    "<guidelines>Use the LoadDB tool first, then filter the rows.</guidelines>",
    "<inner_monologue>\nI should load the database and look at the columns.\n</inner_monologue>",
    "<run_ipython>\nprint(load_db('coffee').head())\n</run_ipython>",
    "<ipython_output><stdout#1>date open close</stdout#1></ipython_output>",
    "Please proceed with your inner monologue. Please act by running an iPython cell.",
    "def add(a, b):\n    return a + b\n\nprint(add(2, 3))  # 5",
)


def build_tiny_tokenizer(directory: str | Path, vocab_texts: Sequence[str] = DEFAULT_TEXTS, vocab_size: int = 400,
                         style: str = "llama3") -> PreTrainedTokenizerFast:
    """Train a byte-level BPE (any text encodes) with a chat template; save it under ``directory``."""
    specials, template, adds_bos = STYLES[style]
    bos, eos, pad = specials[:3]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(list(vocab_texts) * 4, trainer=trainer)
    if adds_bos:
        bpe.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, bpe.token_to_id(bos))])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token=bos, eos_token=eos, pad_token=pad,
                                        chat_template=template)
    tokenizer.save_pretrained(directory)
    return tokenizer


def build_tiny_llama(directory: str | Path, vocab_texts: Sequence[str] = DEFAULT_TEXTS, hidden: int = 32,
                     layers: int = 2, vocab_size: int = 400, init_std: float = 0.3, seed: int = 0,
                     style: str = "llama3", tied: bool = False) -> Path:
    """Save a random-initialised Llama model and its tokenizer under ``directory``; return the path.

    ``init_std`` is large enough that the context visibly changes next-token distributions; ``tied``
    shares the output layer's weight with the input embeddings, as small real models do.
    """
    directory = Path(directory)
    tokenizer = build_tiny_tokenizer(directory, vocab_texts, vocab_size, style)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=2048, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                         tie_word_embeddings=tied, initializer_range=init_std)
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(directory)
    return directory


def tiny_examples(n: int = 6, groups: Sequence[str] = ("coffee", "yelp")) -> list[Example]:
    """Hand-made two-step examples with hint sections, teacher-only text and ephemeral reminders.

    Each ends with the last step's monologue and code as targets, like the agent's examples.
    """
    return [_example(i, groups[i % len(groups)]) for i in range(n)]


def _example(i: int, group: str) -> Example:
    def reminder(tag: str) -> Part:
        return Part(text=f"\nRespond in this format:\n<{tag}>\n...\n</{tag}>", visibility="hint",
                    section="format_reminder", ephemeral=True)

    def step_messages(step: int, target: bool) -> list[Message]:
        return [
            Message.of("user", f"<status>\nStep {step + 1} of 5.\n</status>", kind="status", step=step),
            Message(role="user", step=step, kind="monologue_instruction",
                    parts=[Part(text="Please proceed with your inner monologue."),
                           reminder("inner_monologue")]),
            Message(role="assistant", step=step, kind="monologue", prefill="<inner_monologue>\n", target=target,
                    parts=[Part(text=f"I should load the {group} database, step {step}.\n</inner_monologue>")]),
            Message(role="user", step=step, kind="code_instruction",
                    parts=[Part(text="Please act by running an iPython cell."), reminder("run_ipython")]),
            Message(role="assistant", step=step, kind="code", prefill="<run_ipython>\n", target=target,
                    parts=[Part(text=f"print(load_db('{group}').head({i + step}))\n</run_ipython>")]),
        ]

    messages = [
        Message.of("user", f"<task_description>\nWhat is the price of {group} on 2020-01-0{i % 9 + 1}?\n"
                           "</task_description>", kind="task"),
        Message(role="user", kind="guidelines", parts=[
            Part(text="<guidelines>\n"),
            Part(text="Use the LoadDB tool first.\n", visibility="hint", section="load_first"),
            Part(text=f"Filter the {group} rows by date.\n", visibility="hint", section="filter_rows"),
            Part(text="(teacher note: answers are numbers)\n", visibility="teacher"),
            Part(text="</guidelines>"),
        ]),
        Message(role="user", kind="tool_docs", parts=[
            Part(text="<tools_documentation>\nload_db(name): load a table.\n</tools_documentation>",
                 visibility="hint", section="tool_docs")]),
        *step_messages(0, target=False),
        Message.of("user", f"<ipython_output><stdout#1>date open close {i}</stdout#1></ipython_output>",
                   kind="observation", step=0),
        *step_messages(1, target=True),
    ]
    return Example(id=f"ex{i}", messages=messages, group=group, task_id=f"task{i}", success=i % 3 != 0,
                   provenance=Provenance(run="tiny", trajectory=f"traj{i}", step=1))


