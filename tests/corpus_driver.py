"""Run many command lines of a generated project in one Python process, for the bad-input
corpus (tests/test_bad_inputs.py): importing scikit-learn once instead of once per case.

Usage: python corpus_driver.py PACKAGE CASES.json RESULTS.json

CASES.json is a list of {"id", "cwd", "argv"}. Each case runs the package's
`cli.main(argv)` in its own folder, its standard output and error captured; an
exception that escapes `main` is recorded with its traceback, as Python would print
it. RESULTS.json gets, per id, {"rc", "stdout", "stderr"}.
"""

import contextlib
import importlib
import io
import json
import os
import sys
import traceback


def run_case(main, case: dict) -> dict:
    """Run one case; return its exit status and what it printed."""
    stdout, stderr = io.StringIO(), io.StringIO()
    os.chdir(case["cwd"])
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            rc = main(case["argv"])
        except SystemExit as exit_:  # argparse's usage errors
            rc = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:  # what Python would print as a traceback
            traceback.print_exc()
            rc = "uncaught"
    return {"rc": rc, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}


def main() -> None:
    package, cases_path, results_path = sys.argv[1:4]
    cli = importlib.import_module(f"{package}.run.cli")
    with open(cases_path, encoding="utf-8") as handle:
        cases = json.load(handle)
    results = {case["id"]: run_case(cli.main, case) for case in cases}
    with open(results_path, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
