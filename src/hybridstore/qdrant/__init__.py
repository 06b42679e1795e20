"""Qdrant layer: schema, payload layout, filters and query plans (pure, no I/O)."""
