"""Reproducible, tagged retraining of a DVC-versioned digits classifier."""
