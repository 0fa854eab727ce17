"""Errors that carry enough context (file, line, field) to be reported in one line."""

from __future__ import annotations


class MnmError(Exception):
    """Base class for every error this project raises on purpose."""


class DataError(MnmError):
    """Bad input data: names the file, line and field when known."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        where = ":".join(str(x) for x in (path, line) if x is not None)
        prefix = f"{where}: " if where else ""
        suffix = f" (field {field!r})" if field else ""
        super().__init__(f"{prefix}{message}{suffix}")
        self.path, self.line, self.field = path, line, field


class ConfigError(MnmError):
    """A configuration file or override that does not validate."""


class LLMError(MnmError):
    """An LLM call that failed for good (after retries)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
