"""Your ML project's own code: the model registry (models.py), how columns become
features (features.py) and what the model must keep doing (expectations.py).

The machinery that runs them in test, human and production mode is the trimode
runtime, a dependency (pyproject.toml); it finds these files through [tool.trimode].
"""
