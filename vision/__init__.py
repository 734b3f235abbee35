"""Causal signals in images."""
