"""trimode's pytest plugin (registered as the `trimode` entry point of pytest11): the
fixtures of a project's test-mode run, and the checks its tests/test_pipeline.py lists
(trimode.testing.checks). Public API, like the names in `trimode.__all__`."""
