"""Use cases: one module per capability, pure Python around named Cypher statements."""
