"""`mnm demo`: the whole coaching loop on a tiny stand-in model, on a CPU, in minutes."""
