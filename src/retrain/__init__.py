"""Reproducible, tagged retraining of any DVC pipeline: the release engine (docs/adopt.md)."""
