"""Synthetic cause-effect pairs."""
