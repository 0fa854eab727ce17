"""Core data model, storage, configuration, settings and LLM clients. Imports no other mnm package."""
