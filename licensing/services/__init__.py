"""Writes of the licensing area (STYLE 3): one module per sub-area."""
