"""Collecting trajectories: a task set × trials × model × prompt preset, run concurrently and resumably.

``config`` (what to run, presets and their checks), ``runner`` (one collection end to end),
``episodes`` (running and saving episodes in one process), ``shards`` (sharing them among collector
processes), ``tracking`` (progress bar and wandb) and ``report`` (result tables). The run
directory's files are named in :mod:`core.rundir`.
"""
