"""A tiny tokenizer and random-init Llama, built locally in well under a second.

For tests and smoke runs of everything that needs a real Hugging Face model and tokenizer
(``hf-local`` generation, vLLM prompt rendering, training) without downloading anything. The
tokenizer is a byte-level BPE trained on a few lines of agent-like text; its chat template writes
the BOS token itself and the tokenizer also adds BOS by default, like Llama 3, so double-BOS
handling is exercised. ``<|end|>`` ends a turn and is the EOS token.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

BOS, EOS, PAD = "<s>", "<|end|>", "<pad>"
SPECIAL_TOKENS = [BOS, EOS, PAD, "<|system|>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
CORPUS = [
    "<inner_monologue>\nI should load the flights table and filter it by date.\n</inner_monologue>",
    "<run_ipython>\nimport pandas as pd\ndf = pd.read_csv(data_path)\nprint(df.head())\n</run_ipython>",
    "The answer is 42. Resources spent so far: 3 calls. Number of input tokens remaining: 8000.",
    "def add(a, b):\n    return a + b\n\nprint(add(2, 3))  # 5",
    "Task: find the average delay of flights from JFK to LAX on 2022-01-05.",
]


def build_tiny_tokenizer(path: str | Path, *, vocab_size: int = 400) -> PreTrainedTokenizerFast:
    """Train, save (``save_pretrained``) and return the tiny tokenizer."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(CORPUS * 4, trainer=trainer)
    bos_id = tokenizer.token_to_id(BOS)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos_id)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token=BOS, eos_token=EOS,
                                   pad_token=PAD, chat_template=CHAT_TEMPLATE)
    fast.save_pretrained(str(path))
    return fast


def build_tiny_llama(path: str | Path, *, hidden_size: int = 32, layers: int = 2, seed: int = 0) -> Path:
    """Save a random-init ``LlamaForCausalLM`` and its tokenizer into ``path``; return ``path``."""
    path = Path(path)
    tokenizer = build_tiny_tokenizer(path)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
        num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=1024, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(str(path))
    return path
