"""Fakes shared by the tests and the perf benchmarks: the local OpenAI/Anthropic-protocol server
(``openai_server``), scripted agents (``agents``, built on :mod:`agent.scripted`) and the tiny
random-weight model and its examples (``tiny_model``)."""
