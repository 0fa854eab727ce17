"""Core data model, the run directory and provenance, storage, configuration, settings and LLM
clients. Imports no other mnm package."""
