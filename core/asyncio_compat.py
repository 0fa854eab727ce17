"""Run a coroutine to completion from plain scripts *and* from `# %%` cells in IPython/Jupyter.

Inside a running event loop (IPython kernels run one) ``asyncio.run`` refuses to start, so the
coroutine runs on a fresh loop in a worker thread while the caller waits. No top-level ``await``
is ever needed in cell scripts.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
