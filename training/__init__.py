"""Training: hint internalisation by per-token KL distillation into LoRA adapters, and merging."""
