"""Yours: edit freely. The project's extension points, standing apart from the machinery.

- models.py: the model registry, a name -> an unfitted scikit-learn estimator (defaults
  and a search space). Adding a model is one entry there.
- features.py: feature preparation: the column roles and the one preprocessing step
  every model shares.
- expectations.py: what the model must keep doing (directional, invariant, examples),
  checked by test mode on every commit and shown in the report.

The machinery (the other subpackages) imports these and guarantees the rest: every mode
runs the same code, and every registry entry is tested on every commit.
"""
