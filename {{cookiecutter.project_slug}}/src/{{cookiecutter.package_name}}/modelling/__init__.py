"""Modelling: split, compare, tune, fit and judge models, the same in every mode.

Guarantees: one training pipeline for all modes (a mode changes configuration only);
every command holds out and folds rows the same way for a seed; a model is judged
against the dummy baseline, and not published when it fails the quality gate.
"""
