"""The package of the project: one ML pipeline in test, human and production mode.

The project's description lives in pyproject.toml.
"""

__version__ = "0.1.0"
