"""From trajectories to state–action–hint training data.

* :mod:`filters.spec`: filters and their corrective hints as data files (``library/toolqa/*.yaml``).
* :mod:`filters.rules`, :mod:`filters.judge`, :mod:`filters.base`: rule filters and LLM judges
  behind one interface, ``check(trajectory, step) -> Check(flagged, reason)``.
* :mod:`filters.review`: apply filters to runs (``mnm review``).
* :mod:`filters.correct`: hinted teacher samples and their verification (``mnm correct``).
* :mod:`filters.examples`, :mod:`filters.balance`, :mod:`filters.dataset`, :mod:`filters.export`:
  examples, Appendix-F balancing, train/val split by state, exports (``mnm dataset``).
* ``filters/review_and_correct.py``: the walk-through as ``# %%`` cells.
"""
