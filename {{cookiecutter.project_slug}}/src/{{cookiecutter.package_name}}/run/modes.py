"""The three modes a run can be in: the same pipeline, configured three ways.

Apart from config.py so that the command line can list them (and answer --help)
without importing the config model and its validation library.
"""

MODES = ("test", "human", "production")
