"""HumanEval (164 Python problems): data, sandboxed test execution, pass@k, and the benchmark in
two modes (agentic, and plain completion as the reference's ``run_humaneval.py`` ran it)."""
