"""The stand-in base model: a tiny Llama trained from scratch on CPU to behave like an instruction-tuned LLM.

It exists so that the coaching loop can be watched on a laptop; it is not a language model of any
use beyond the demo's coffee questions. Everything about it is derived here, deterministically:

1. **World**: a ToolQA-mini coffee corpus of its own (``world_seed``, never the demo's corpus), with
   many sampled questions of the demo's templates (:class:`PretrainingWorld`).
2. **Episodes**: the policy of :mod:`demo.behaviour` run by the real agent loop in the real
   workspace, with the task-specific hints and without them; and, where its first cell raised,
   run again from that step after the filters' corrective hints (inserted as the corrector does).
3. **Tokenizer**: a byte-level BPE trained with ``tokenizers`` on those conversations; a run of
   digits is never merged with other characters (a date is year, ``-``, month, ``-``, day), no
   token spans a newline, and merges may cross spaces, so the fixed prompt text costs few tokens
   and sequences stay short.
4. **Model**: a ``LlamaForCausalLM`` trained with cross-entropy in two stages, like an LLM's
   short-context pretraining before its instruction tuning. Stage 1 (``copy_steps``): each
   episode's question alone followed by its first step (:func:`question_and_first_step`), where
   the date is copied over a few tokens; this forms the copy mechanism (induction heads).
   Stage 2 (``steps``): the assistant messages of whole episodes, where the same mechanism must
   find the date behind hundreds of tokens of prompt. Measured: trained on whole episodes only
   (1,500 steps) the model invented every date (0 % with and without hints); stage 1 at lr 1e-3
   reaches 0.06 nats per target token in 250 steps, while at 3e-3 it stays on a plateau at 0.61
   (dates not copied) for 600. Both stages are tokenised by :func:`training.sequences.encode`
   with the model's own chat template — the same rendering the hf-local client uses to serve it
   and the KL trainer uses to distil it.

The result is cached under ``<mnm_data_dir>/demo/standin-<hash>``, keyed by the stand-in config
and the sha256 of its pretraining examples.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Sequence
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from tqdm.auto import tqdm
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from agent.loop import AgentConfig, continue_episode
from core.asyncio_compat import run_sync
from core.examples import Example, Provenance
from core.messages import Message, to_chat
from core.rundir import load_run
from core.settings import get_settings
from core.store import write_atomic
from core.trajectory import Trajectory
from demo.behaviour import GROUP, policy
from demo.config import DemoConfig
from filters.correct import replay_cells
from filters.examples import hinted_state
from filters.spec import LIBRARY, load_filters
from tasks.collection.config import CollectConfig, TaskSelection
from tasks.collection.runner import collect
from tasks.task import PromptConfig, Task
from tasks.toolqa.benchmark import ToolQABenchmark
from tasks.toolqa.build import build_toolqa_mini, sample_questions
from tasks.toolqa.corpus import Corpus
from tasks.toolqa.questions import Question, find_template
from training.checkpoint import save_dir_atomic
from training.config import OptimSettings
from training.data import pad
from training.losses import chunked_token_loss
from training.model import hidden_states, output_weights
from training.optim import clipped_update, make_optimizer
from training.sequences import Encoded, encode

log = logging.getLogger(__name__)

BOS, EOS, PAD = "<s>", "<|end|>", "<pad>"
SPECIAL_TOKENS = [BOS, EOS, PAD, "<|system|>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
TOKENIZER = "bpe-lines-digit-runs-4"  # change when train_tokenizer changes: it is part of the cache key
# the two prompts of the demo: the teacher (task-specific hints) and the student (none)
PROMPTS = {"hints": PromptConfig(name="task-hints", hints="task"), "nohints": PromptConfig(name="no-hints")}


def demo_dir() -> Path:
    return get_settings().mnm_data_dir / "demo"


def coffee_root(seed: int, profile: str = "standard") -> Path:
    """A ToolQA-mini root with only the coffee group, built once under the demo's data directory."""
    root = demo_dir() / f"toolqa-mini-coffee-{profile}-seed{seed}"
    if not (root / "manifest.json").exists():
        build_toolqa_mini(root, profile, seed, groups=(GROUP,), overwrite=True)
    return root


class PretrainingWorld(ToolQABenchmark):
    """ToolQA on the stand-in's own corpus, with ``per_template`` sampled questions per template."""

    def __init__(self, root: Path, templates: Sequence[str], per_template: int, seed: int) -> None:
        super().__init__(root, splits=["train"], groups=[GROUP])
        self.templates, self.per_template, self.seed = list(templates), per_template, seed

    def tasks(self) -> list[Task]:
        if self._tasks is None:
            corpus, self._tasks = Corpus(self.root), []
            for name in self.templates:
                template = find_template(GROUP, name)
                drawn = sample_questions(template, corpus, self.per_template, random.Random(f"{self.seed}-{name}"))
                for i, (slots, question, answer) in enumerate(drawn):
                    q = Question(group=GROUP, split="train", line=i + 1, question=question, answer=answer,
                                 type=template.type, qid=f"world-{name}-{i:04d}", path=str(self.root),
                                 slots=slots, template=name)
                    self._tasks.append(self._task(q))
        return self._tasks


def filter_hints(config: DemoConfig) -> list[tuple[str, str]]:
    """``(filter name, corrective hint)`` of the demo's filters, sorted by name as the corrector sorts them."""
    specs = load_filters([LIBRARY / "toolqa" / f"{name}.yaml" for name in config.filters])
    return sorted((s.name, s.hint) for s in specs)


def agent_config(config: DemoConfig, temperature: float = 0.0) -> AgentConfig:
    return AgentConfig(temperature=temperature, format_reminders=False, max_steps=config.max_steps, max_tokens=200)


def pretraining_episodes(config: DemoConfig, out: Path) -> list[Trajectory]:
    """Run the behaviour policy on the pretraining world, with and without hints, plus corrections."""
    s = config.standin
    world = PretrainingWorld(coffee_root(s.world_seed), config.templates, s.episodes_per_template, s.world_seed)
    client = _policy_client(config)
    trajectories = []
    for kind, prompt in PROMPTS.items():
        run = CollectConfig(run_dir=out / kind, preset=f"standin-{kind}", prompt=prompt,
                            tasks=TaskSelection(benchmark="toolqa", groups=[GROUP]), agent=agent_config(config))
        collect(run, client, world, show_progress=False)
        trajectories += sorted(load_run(out / kind), key=lambda t: t.key)  # finishing order varies
    return trajectories + run_sync(_corrected_episodes(config, world, trajectories))


def _policy_client(config: DemoConfig):  # noqa: ANN202
    from core.llm.scripted import ScriptedClient

    return ScriptedClient(policy(config.slips), model="standin-behaviour")


async def _corrected_episodes(config: DemoConfig, world: PretrainingWorld,
                              trajectories: Sequence[Trajectory]) -> list[Trajectory]:
    """Episodes whose first cell raised, run again from step 1 with the filters' corrective hints."""
    import asyncio

    client, hints, tasks = _policy_client(config), filter_hints(config), {t.id: t for t in world.tasks()}
    wrong = [t for t in trajectories if t.steps and t.steps[0].status == "exception"]
    by_kind: dict[tuple[str, str], list[Trajectory]] = {}
    for t in wrong:
        by_kind.setdefault((t.template, t.prompt.preset), []).append(t)
    chosen = [t for group in by_kind.values() for t in group[: config.standin.corrections_per_template]]
    prompts = {p.name: p for p in PROMPTS.values()}

    async def one(t: Trajectory) -> Trajectory:
        spec = world.episode(tasks[t.task_id], prompts[t.prompt.preset], t.trial)
        return await continue_episode(spec, client, hinted_state(t, 0, hints), replay_cells(t, 0), 0,
                                      agent_config(config))

    return list(await asyncio.gather(*(one(t) for t in chosen)))


def episode_example(traj: Trajectory, index: int) -> Example:
    """A whole episode as one example: every assistant message is a target."""
    last = max(i for i, m in enumerate(traj.messages) if m.role == "assistant")
    messages = [m.model_copy(update={"target": m.role == "assistant"}, deep=True) for m in traj.messages[: last + 1]]
    return Example(id=f"standin:{index}", messages=messages, group=traj.group, template=traj.template,
                   task_id=traj.task_id, success=traj.outcome.success,
                   provenance=Provenance(run="standin", trajectory=traj.key, source="pretraining"))


def question_and_first_step(example: Example) -> Example:
    """The episode's question line as the only prompt, then its first monologue and code (stage 1)."""
    question = next(line for line in example.messages[0].text.splitlines() if line.startswith("Question: "))
    first_code = next(i for i, m in enumerate(example.messages) if m.kind == "code")
    kinds = ("monologue_instruction", "monologue", "code_instruction", "code")
    step = [m for m in example.messages[: first_code + 1] if m.kind in kinds]
    return example.model_copy(update={"id": f"{example.id}:first-step",
                                      "messages": [Message.of("user", question), *step]})


def train_tokenizer(texts: Sequence[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Byte-level BPE over lines (merges cross spaces, never newlines); runs of digits are merged only
    among themselves, so a date becomes five tokens (year, ``-``, month, ``-``, day) that the model
    copies whole: three tokens to copy instead of eight digits in order. (With one token per digit
    the digits still cost 0.78 nats each after 900 steps; with digit runs 67 % of held-out digit
    tokens are predicted right after 600 steps, 31 % after 300.)

    No token spans a newline, so the boundary between a prefilled opening tag and the generated text
    (where training cuts a conversation) tokenises the same in one piece and in two: the agent's
    history, rendered whole by the hf-local client, gives the tokens the model was trained on.
    """
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split("\n", behavior="isolated"),
        pre_tokenizers.Digits(individual_digits=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD,
                                   chat_template=CHAT_TEMPLATE)


def new_model(config: DemoConfig, tokenizer: PreTrainedTokenizerFast) -> LlamaForCausalLM:
    s = config.standin
    torch.manual_seed(s.seed)
    return LlamaForCausalLM(LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=s.hidden_size, intermediate_size=8 * s.hidden_size // 3,
        num_hidden_layers=s.layers, num_attention_heads=s.heads, num_key_value_heads=s.heads,
        max_position_embeddings=4096, tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id))


def pretrain(model: LlamaForCausalLM, items: Sequence[Encoded], steps: int, config: DemoConfig, pad_id: int,
             stage: str) -> list[float]:
    """Cross-entropy on the target tokens, averaged over a batch's tokens (the trainer's padding and
    loss); AdamW, linear warm-up, cosine decay (:mod:`training.optim`). Returns the losses."""
    s = config.standin
    rng = random.Random(f"{s.seed}-{stage}")
    batches: list[list[int]] = []
    recipe = OptimSettings(lr=s.lr, weight_decay=0.01, warmup_steps=s.warmup_steps, clip_norm=1.0)
    optimizer, scheduler = make_optimizer(model.parameters(), recipe, decay_steps=steps)
    model.train()
    losses = []
    bar = tqdm(range(steps), desc=f"stand-in pretraining ({stage})", unit="step")
    for _ in bar:
        if not batches:
            batches = length_batches([len(e) for e in items], s.batch_size, rng)
        loss = target_xent(model, [items[i] for i in batches.pop()], pad_id)
        loss.backward()
        clipped_update(model.parameters(), optimizer, scheduler, recipe.clip_norm)
        losses.append(loss.item())
        bar.set_postfix(loss=f"{loss.item():.3f}")
    model.eval()
    return losses


def target_xent(model: LlamaForCausalLM, batch: Sequence[Encoded], pad_id: int) -> torch.Tensor:
    """The model's cross-entropy on the batch's target tokens, averaged over them (the trainer's chunked loss)."""
    ids, attention, at = pad(batch, pad_id)
    labels = torch.tensor([t for e in batch for t in e.target_ids])
    return chunked_token_loss(hidden_states(model, ids, attention)[at], output_weights(model)[0], None, None, labels,
                              torch.full((len(labels),), 1 / len(labels)), kind="xent", temperature=1.0)[0]


def length_batches(lengths: Sequence[int], size: int, rng: random.Random) -> list[list[int]]:
    """One epoch of batches in random order, each drawn from a shuffled window sorted by length
    (little padding, yet different neighbours every epoch)."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches = []
    for lo in range(0, len(order), 8 * size):
        window = sorted(order[lo:lo + 8 * size], key=lambda i: lengths[i])
        batches += [window[i:i + size] for i in range(0, len(window), size)]
    rng.shuffle(batches)
    return batches


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def ensure_standin(config: DemoConfig) -> Path:
    """The stand-in checkpoint (model, tokenizer, ``standin.json``), trained once and cached."""
    s = config.standin
    behaviour = json.dumps([s.world_seed, s.episodes_per_template, s.corrections_per_template, config.templates,
                            config.slips, config.filters, config.max_steps])
    data_dir = demo_dir() / f"standin-data-{_digest(behaviour)}"
    examples_file = data_dir / "examples.jsonl"
    if not examples_file.exists():
        episodes = pretraining_episodes(config, data_dir / "episodes")
        write_atomic(examples_file, "".join(episode_example(t, i).model_dump_json() + "\n"
                                            for i, t in enumerate(episodes)))
    text = examples_file.read_text()
    out = demo_dir() / f"standin-{_digest(s.model_dump_json() + CHAT_TEMPLATE + TOKENIZER + _digest(text))}"
    if (out / "standin.json").exists():
        return out
    examples = [Example.model_validate_json(line) for line in text.splitlines()]
    tokenizer = train_tokenizer([m["content"] for e in examples for m in to_chat(e.messages)],
                                s.vocab_size)
    items = [encode(e, tokenizer) for e in examples]
    model = new_model(config, tokenizer)
    short = [encode(question_and_first_step(e), tokenizer) for e in examples]
    copy_losses = pretrain(model, short, s.copy_steps, config, tokenizer.pad_token_id, "question and first step")
    losses = pretrain(model, items, s.steps, config, tokenizer.pad_token_id, "whole episodes")
    record = {"config": json.loads(config.standin.model_dump_json()), "examples": str(examples_file),
              "examples_sha256": hashlib.sha256(text.encode()).hexdigest(), "parameters": model.num_parameters(),
              "sequences": len(items), "mean_tokens": sum(map(len, items)) / len(items),
              "final_copy_loss": sum(copy_losses[-20:]) / max(len(copy_losses[-20:]), 1),
              "final_loss": sum(losses[-20:]) / len(losses[-20:])}

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        write_atomic(tmp / "standin.json", json.dumps(record, indent=1))

    return save_dir_atomic(out, write)
