"""HTTP + WebSocket surface: FastAPI app, strawberry GraphQL schema, auth, metrics."""
