"""OfficeBench: 300 office tasks (Word, Excel, PDF, OCR, calendar, e-mail) over 1, 2 or 3 apps, run
locally on a fresh per-episode copy of each task's testbed and graded by a faithful evaluator
with an ``errata`` switch (``original`` released semantics vs ``corrected`` task-data fixes).

The task tree under ``data/`` is vendored unchanged from github.com/zlwang-cs/OfficeBench
(Apache-2.0, see ``data/LICENSE``).
"""
