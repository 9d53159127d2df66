"""Run many command lines of generated projects in one Python process, for the bad-input
corpus (tests/test_bad_inputs.py): importing scikit-learn once instead of once per case.

Usage: python corpus_driver.py PACKAGE CASES.json RESULTS.json

CASES.json is a list of {"id", "cwd", "project", "argv"}. Each case runs the runtime's
command line, `trimode.cli.main.main(argv)`, in its own folder, its standard output and
error captured; an exception that escapes `main` is recorded with its traceback, as
Python would print it. RESULTS.json gets, per id, {"rc", "stdout", "stderr"}.

Each case is a copy of a project, and its own code (the package PACKAGE in its src/:
models.py, features.py, expectations.py) may differ from the installed project's: the
package is imported afresh from the copy's src/ for each case, so that a case runs the
code of its own copy.
"""

import contextlib
import importlib
import io
import json
import os
import sys
import traceback


def use_own_code(package: str, project: str | None) -> None:
    """Forget the package's modules that an earlier case imported, and make the case's
    src/ the only folder of the import path that holds the package (not the installed
    project's, nor an earlier case's)."""
    for name in [name for name in sys.modules if name.split(".")[0] == package]:
        del sys.modules[name]
    sys.path[:] = [entry for entry in sys.path if not os.path.isdir(os.path.join(entry, package))]
    if project is not None:
        sys.path.insert(0, os.path.join(project, "src"))
    importlib.invalidate_caches()


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
    # A case's own code is imported from its copy: no __pycache__ written there (the case
    # checks that a failed run wrote nothing).
    sys.dont_write_bytecode = True
    from trimode.cli.main import main as command_line

    with open(cases_path, encoding="utf-8") as handle:
        cases = json.load(handle)
    results = {}
    for case in cases:
        use_own_code(package, case.get("project"))
        results[case["id"]] = run_case(command_line, case)
    with open(results_path, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
