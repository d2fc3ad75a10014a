"""Built-in example agents and the ``baton demo`` showcases (deterministic, no LLM)."""
