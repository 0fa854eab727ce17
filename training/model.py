"""Loading a round's base (earlier adapters merged or stacked), adding the new LoRA, and the two
forward passes the loss needs: final hidden states and the output layer's weights.

The teacher is the same network with the new adapter disabled (``disable_adapter()``): earlier
rounds' adapters are merged into the base weights in memory before the new adapter is added, so
disabling it leaves exactly the round's base, as in the paper (round k trains on round k-1's
merged model).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from peft.tuners.lora import LoraLayer
from torch.distributed.tensor import DTensor
from transformers import AutoModelForCausalLM, PreTrainedModel

from training.config import LoraSettings

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def load_model(base: str | Path, adapters: Sequence[str | Path] = (), *, dtype: str = "float32",
               stacked: bool = False) -> PreTrainedModel | PeftModel:
    """``base`` with ``adapters`` applied in order: merged into the weights, or kept as active adapters."""
    model = AutoModelForCausalLM.from_pretrained(base, dtype=DTYPES[dtype])
    if not adapters:
        return model
    untie_output_layer(model)  # an adapter may adapt the output layer
    if not stacked:
        for path in adapters:
            model = PeftModel.from_pretrained(model, path).merge_and_unload()
        return model
    names = [f"round{i}" for i in range(len(adapters))]
    model = PeftModel.from_pretrained(model, adapters[0], adapter_name=names[0])
    for name, path in zip(names[1:], adapters[1:], strict=True):
        model.load_adapter(path, adapter_name=name)
    model.base_model.set_adapter(names, inference_mode=True)
    return model


def add_lora(model: PreTrainedModel, settings: LoraSettings) -> PeftModel:
    """Wrap ``model`` with a fresh trainable LoRA adapter (B = 0, so it starts as the identity)."""
    targets: list[str] | str = settings.target_modules
    if settings.output_layer:
        untie_output_layer(model)
        targets = sorted(_linear_leaf_names(model) | set(targets if isinstance(targets, list) else []))
    elif targets == "all-linear":
        targets = sorted(_linear_leaf_names(model) - {_output_name(model)})
    config = LoraConfig(r=settings.rank, lora_alpha=settings.lora_alpha, lora_dropout=settings.dropout,
                        target_modules=targets, task_type="CAUSAL_LM")
    return get_peft_model(model, config)


def untie_output_layer(model: PreTrainedModel) -> None:
    """Give the output layer its own copy of a weight it shares with the input embeddings.

    Small models tie the two (SmolLM2, Gemma 3, Qwen2.5, Llama 3.2). An adapter on the output layer
    changes only the output layer; merged into a tied weight it would change the input embeddings
    too, so the merged model would not be the student that was trained. The checkpoint then saves
    both matrices (``tie_word_embeddings: false``).
    """
    out, inp = model.get_output_embeddings(), model.get_input_embeddings()
    if out is None or out.weight is not inp.weight:
        return
    out.weight = torch.nn.Parameter(out.weight.detach().clone(), requires_grad=out.weight.requires_grad)
    for config in {id(c): c for c in (model.config, model.config.get_text_config())}.values():
        config.tie_word_embeddings = False


def _linear_leaf_names(model: PreTrainedModel) -> set[str]:
    return {name.rsplit(".", 1)[-1] for name, m in model.named_modules() if isinstance(m, torch.nn.Linear)}


def _output_name(model: PreTrainedModel) -> str:
    out = model.get_output_embeddings()
    return next(name.rsplit(".", 1)[-1] for name, m in model.named_modules() if m is out)


def hidden_states(model: torch.nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Final hidden states ``[B, L, H]`` (what the output layer consumes), without full logits.

    The call goes through the top-level module (so DDP/FSDP wrappers see it) with
    ``logits_to_keep=1``; the decoder's output is captured with a forward hook.
    """
    captured: list[torch.Tensor] = []
    decoder = _causal_lm(model).get_decoder()
    handle = decoder.register_forward_hook(lambda _m, _i, out: captured.append(out.last_hidden_state))
    try:
        model(input_ids=input_ids, attention_mask=attention_mask, logits_to_keep=1, use_cache=False)
    finally:
        handle.remove()
    return captured[0]


def output_weights(model: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """The output layer's weight ``[V, H]`` for the student (adapter on) and the teacher (base).

    With a LoRA on the output layer the student's weight is ``W + ΔW`` (differentiable in the
    adapter; LoRA dropout is not applied on this layer), rounded to the weights' dtype: exactly the
    output layer of the merged checkpoint, which is saved in that dtype.
    """
    out = _causal_lm(model).get_output_embeddings()
    if not isinstance(out, LoraLayer):
        return _full(out.weight), _full(out.weight)
    base = _full(out.get_base_layer().weight)
    delta = sum(out.get_delta_weight(name) for name in out.active_adapters if name in out.lora_A)
    return (base + _full(delta)).to(base.dtype), base


def _full(weight: torch.Tensor) -> torch.Tensor:
    """The whole tensor of a parameter sharded by FSDP2 (a DTensor), or the tensor itself."""
    return weight.full_tensor() if isinstance(weight, DTensor) else weight


def _causal_lm(model: torch.nn.Module) -> PreTrainedModel:
    inner = getattr(model, "module", model)  # DDP
    return inner.get_base_model() if isinstance(inner, PeftModel) else inner


def check_teacher_differs(model: PeftModel, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> None:
    """Raise if disabling the adapter does not change the hidden states (adapter silently left on)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        student = hidden_states(model, input_ids, attention_mask)
        with model.disable_adapter():
            teacher = hidden_states(model, input_ids, attention_mask)
    model.train(was_training)
    if torch.equal(student, teacher):
        raise RuntimeError("teacher and student outputs are identical after an update: the teacher "
                           "forward is not running with the new adapter disabled")
