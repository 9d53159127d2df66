"""Your pipeline in test mode, on your configured data (configs/, test mode): the checks
trimode runs on every commit (pre-commit runs `pytest -m "not slow"`; CI runs them all).

Each line is one check of trimode's pytest plugin (trimode.testing.checks, where each
says what it checks). Delete a line to switch a check off. Your own tests go in other
files (see test_features.py); the plugin's fixtures are theirs too: test_config,
test_task, test_run (the pipeline run once in test mode).
"""

from trimode.testing import checks

# Your configs: every mode loads; test and human mode sample, production reads every row.
test_every_mode_loads = checks.every_mode_loads
test_modes_keep_to_their_jobs = checks.modes_keep_to_their_jobs
# The pipeline on your data: it runs, publishes, and its model is not garbage.
test_writes_model_metrics_and_manifest = checks.writes_model_metrics_and_manifest
test_saved_model_loads = checks.saved_model_loads_and_predicts_like_the_trained_one
test_beats_the_dummy_baseline = checks.beats_the_dummy_baseline
test_predictions_are_sane = checks.predictions_are_sane
test_training_is_deterministic = checks.training_is_deterministic
test_no_feature_leaks_the_target = checks.no_feature_leaks_the_target
test_the_leakage_check_finds_a_planted_leak = checks.the_leakage_check_finds_a_planted_leak
# Your expectations (src/.../expectations.py), one test each.
test_expectation_holds = checks.expectation_holds
# Your notebooks: committed without outputs; run top to bottom in test mode (slow).
test_notebook_is_committed_without_outputs = checks.notebook_is_committed_without_outputs
test_notebook_runs_in_test_mode = checks.notebook_runs_in_test_mode
# The report of the test-mode run (slow).
test_report_is_written = checks.report_is_written
