"""The manifest language: YAML loading with positions, the pydantic kinds, semantic checks."""
