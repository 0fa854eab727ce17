"""vLLM in completions mode: the prompt is rendered here with the served model's chat template.

The messages are rendered by the model's own Hugging Face chat template
(:func:`core.chat_template.render_prompt`: same-role runs joined, the generation prompt, then the
prefill (opening tag)), and the text goes to ``/v1/completions``. The model thus continues right after
the tag, exactly as training renders the same conversation.

Double BOS: chat templates usually write the BOS token themselves, and vLLM would add another
when it tokenises a completions prompt. The rendered text is sent unchanged (it stays readable in
logs and identical to what training tokenises) with ``add_special_tokens=False``, so the server
adds nothing. Stop strings are kept in the output (``include_stop_str_in_output``). Input token
counts come from the server's usage; :meth:`VLLMCompletionsClient.count_tokens` gives the same
number before a call, which is how a request is fitted into the served model's context
(``max_model_len`` from ``/v1/models``, asked once): ``max_tokens`` is clamped to the room left,
and a prompt that leaves none is refused without being sent.
"""

from __future__ import annotations

from typing import Any

import openai
from transformers import PreTrainedTokenizerBase

from core.chat_template import count_tokens, load_tokenizer, render_prompt
from core.llm.base import Completion, Request
from core.llm.openai_chat import OpenAIProtocolClient, post_and_read
from core.llm.remote import common_args
from core.llm.retry import MalformedResponse
from core.llm.sampling import fit_context


class VLLMCompletionsClient(OpenAIProtocolClient):
    backend = "vllm-completions"
    self_hosted = True

    def __init__(self, model: str, base_urls: list[str], *,
                 tokenizer: str | PreTrainedTokenizerBase, **kwargs: Any) -> None:
        super().__init__(model, base_urls, **kwargs)
        self.tokenizer = load_tokenizer(tokenizer) if isinstance(tokenizer, str) else tokenizer

    async def fit(self, request: Request) -> Request:
        context = await self.context_length()
        return request if context is None else fit_context(request, self.count_tokens(request), context, self.model)

    def render(self, request: Request) -> str:
        return render_prompt(self.tokenizer, request.messages, request.prefill)

    def exact_prompt(self, request: Request) -> str:
        return self.render(request)

    def count_tokens(self, request: Request) -> int:
        """Exact prompt length in tokens, as the server will count it."""
        return count_tokens(self.tokenizer, self.render(request))

    def prepare(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {"include_stop_str_in_output": True, "add_special_tokens": False}
        if request.min_p is not None:
            body["min_p"] = request.min_p
        args = {**common_args(self.model, request), "prompt": self.render(request), **body, **request.extra}
        if request.logprobs:
            args["logprobs"] = 1
        return args

    async def send(self, sdk: openai.AsyncOpenAI, base_url: str, request: Request,
                   args: dict[str, Any]) -> Completion:
        def read(choices: list[dict[str, Any]]) -> Completion:
            choices = sorted(choices, key=lambda c: c["index"])
            texts = [c["text"] for c in choices]
            if not all(isinstance(t, str) for t in texts):
                raise MalformedResponse("a choice without text", endpoint=base_url)
            logprobs = None
            if request.logprobs:
                logprobs = [[lp for lp in (c.get("logprobs") or {}).get("token_logprobs") or [] if lp is not None]
                            for c in choices]
            return Completion(texts=texts, logprobs=logprobs,
                              finish_reasons=[c.get("finish_reason") or "" for c in choices])

        return await post_and_read(sdk, "/completions", args, base_url, read)
