"""Generated projects as their users get them: rendered, installed, run.

A default render names its modules in [tool.trimode] (fast). Then, for one
classification project (copier, all defaults) and one regression project (cookiecutter,
another name), each set up once with `uv sync` in its own environment (generated.py):
uv installed the runtime from the template repository's tag; the project's own script
runs every mode (the walkthrough, once a session: generated.Walkthrough; production and
`predict` are checked in test_production_mode.py); its `uv run pytest` runs the plugin's
checks, the notebooks among them, and its own tests, nothing else, and they pass; the
command line answers bad input in one line; ruff is clean.
"""

import ast
import json
import subprocess
import time
import tomllib
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import yaml
from generated import CLASSIFICATION, HUMAN_ROWS, Installed, ok, projects
from rendering import MATRIX, ROOT, TEMPLATE_TAG, VERSION, git

# The tests of the generated projects: installs and runs (the parameters of `projects`
# put each on the xdist worker of its project).
slow = pytest.mark.slow
METRICS_KEYS = {"mode", "model", "task", "metrics", "baseline", "primary_metric", "duration_s"}
MODEL_SUFFIXES = {".skops", ".joblib", ".pkl", ".pickle", ".onnx"}
# The modules [tool.trimode] names, in src/<package>/ (with __init__.py, all it holds).
USER_MODULES = ("models", "features", "expectations", "metrics")
COPIER = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))
# Read by the project's python: the runtime it imports, and how uv installed it (PEP 610).
INSTALLED_RUNTIME = """
import json, importlib.metadata as metadata, trimode
distribution = metadata.distribution("trimode")
print(json.dumps({
    "version": trimode.__version__,
    "file": trimode.__file__,
    "direct_url": json.loads(distribution.read_text("direct_url.json") or "null"),
}))
"""


def timed(record_property, label: str, run) -> subprocess.CompletedProcess:
    """Run a command, record its wall time for the session summary, and return its result."""
    start = time.perf_counter()
    result = run()
    record_property("wall_time", f"{time.perf_counter() - start:6.2f} s  {label}")
    return result


@pytest.mark.parametrize("engine", ["copier", "cookiecutter"])
def test_a_default_render_names_its_modules_in_tool_trimode(engine, renders):
    folder = renders.get(MATRIX[0], engine)
    package = "ml_project"
    settings = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    table = settings["tool"]["trimode"]
    assert {name: table.get(name) for name in USER_MODULES} == {
        name: f"{package}.{name}" for name in USER_MODULES
    }
    assert table.get("configs", "configs") == "configs"  # left out: the default
    assert set(table) <= {*USER_MODULES, "configs"}, table
    # Each names a module of the project, and the package holds nothing else: the
    # machinery is the runtime's.
    modules = sorted(path.name for path in (folder / "src" / package).iterdir())
    assert modules == sorted(["__init__.py", *(f"{name}.py" for name in USER_MODULES)])
    assert settings["project"]["scripts"] == {"ml-project": "trimode.cli.main:main"}


@projects
@slow
def test_the_runtime_is_the_template_repositorys_tag(
    generated, environment, template_repo, record_property
):
    installed: Installed = environment[generated.slug]
    record_property("wall_time", f"{installed.install_s:6.2f} s  uv sync ({generated.slug})")
    tag_commit = git("rev-parse", f"{TEMPLATE_TAG}^{{commit}}", cwd=template_repo).strip()
    settings = tomllib.loads((installed.folder / "pyproject.toml").read_text(encoding="utf-8"))
    source = settings["tool"]["uv"]["sources"]["trimode"]
    assert source.keys() == {"git", "tag"}, source
    assert source["tag"] == TEMPLATE_TAG
    assert source["git"].startswith("file:///"), source
    assert Path(source["git"].removeprefix("file://")).resolve() == template_repo.resolve()
    # uv locked the tag's commit...
    lock = tomllib.loads((installed.folder / "uv.lock").read_text(encoding="utf-8"))
    (locked,) = [package for package in lock["package"] if package["name"] == "trimode"]
    assert locked["version"] == VERSION
    assert locked["source"] == {"git": f"{source['git']}?tag={TEMPLATE_TAG}#{tag_commit}"}
    # ...and installed it (not an editable checkout) in the project's .venv.
    shown = json.loads(ok(installed.python(INSTALLED_RUNTIME)).stdout)
    assert shown["version"] == VERSION
    assert Path(shown["file"]).is_relative_to(installed.venv), shown["file"]
    assert "site-packages" in Path(shown["file"]).parts
    direct = shown["direct_url"]
    assert direct["url"] == source["git"], direct
    assert direct["vcs_info"] == {
        "vcs": "git",
        "commit_id": tag_commit,
        "requested_revision": TEMPLATE_TAG,
    }


def listed_checks(path: Path) -> dict[str, str]:
    """The tests a test_pipeline.py lists: {test name: the plugin's check it is}."""
    listed = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute):
            (target,) = node.targets
            assert isinstance(node.value.value, ast.Name) and node.value.value.id == "checks"
            listed[target.id] = node.value.attr
    return listed


def defined_tests(path: Path) -> set[str]:
    """The test functions a test file defines."""
    return {
        node.name
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def junit_cases(path: Path) -> list[dict]:
    """Each test case of a JUnit XML report: its file, name, parameter and outcome."""
    cases = []
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        name, _, parameter = case.get("name").partition("[")
        outcome = next((child.tag for child in case if child.tag != "properties"), "passed")
        if outcome in {"system-out", "system-err"}:
            outcome = "passed"
        cases.append(
            {
                "file": case.get("classname").replace(".", "/") + ".py",
                "name": name,
                "parameter": parameter.removesuffix("]"),
                "outcome": outcome,
            }
        )
    return cases


@projects
@slow
def test_its_pytest_runs_the_plugins_checks_and_its_own_tests_and_they_pass(
    generated, environment, tmp_path, record_property
):
    installed: Installed = environment[generated.slug]
    tests = installed.folder / "tests"
    # The suite holds the list of checks and the user's own tests: no machinery tests.
    assert sorted(path.name for path in tests.iterdir() if path.name != "__pycache__") == [
        "test_features.py",
        "test_pipeline.py",
    ]
    report = tmp_path / "junit.xml"
    result = timed(
        record_property,
        f"uv run pytest ({generated.slug})",
        lambda: installed.uv_run("pytest", f"--junitxml={report}"),
    )
    ok(result)
    cases = junit_cases(report)
    record_property("wall_time", f"{len(cases):6d} tests  uv run pytest ({generated.slug})")
    assert [case for case in cases if case["outcome"] != "passed"] == [], result.stdout
    by_file: dict[str, list[dict]] = {}
    for case in cases:
        by_file.setdefault(case["file"], []).append(case)
    assert sorted(by_file) == ["tests/test_features.py", "tests/test_pipeline.py"]
    # Every test of test_pipeline.py is one of the plugin's checks it lists, each ran.
    listed = listed_checks(tests / "test_pipeline.py")
    assert {case["name"] for case in by_file["tests/test_pipeline.py"]} == listed.keys()
    assert {case["name"] for case in by_file["tests/test_features.py"]} == defined_tests(
        tests / "test_features.py"
    )

    def parameters(check: str) -> set[str]:
        (name,) = [name for name, listed_as in listed.items() if listed_as == check]
        return {case["parameter"] for case in cases if case["name"] == name}

    assert parameters("every_mode_loads") == {"test", "human", "production"}
    # The notebooks through the plugin's checks: committed clean, and run in test mode.
    notebooks = {path.stem for path in (installed.folder / "notebooks").glob("*.ipynb")}
    assert len(notebooks) == 3
    assert parameters("notebook_is_committed_without_outputs") == notebooks
    assert parameters("notebook_runs_in_test_mode") == notebooks
    assert parameters("expectation_holds"), "no expectation was checked"


@projects
@slow
def test_train_in_test_mode_writes_metrics_and_a_model(
    generated, environment, walkthroughs, record_property
):
    walkthrough = walkthroughs.of(generated)
    step = walkthrough.steps["train test"]
    # The yardstick beside the train run: printed, never asserted.
    imports = ["python", "-c", "import pandas, sklearn.ensemble"]
    ok(
        timed(
            record_property,
            f"uv run {' '.join(imports)}",
            lambda: environment[generated.slug].uv_run(*imports),
        )
    )
    record_property("wall_time", step.wall_time(generated.slug))
    record = walkthrough.records["test"]
    metrics, manifest = record["metrics"], record["manifest"]
    assert set(metrics) >= METRICS_KEYS
    assert metrics == {key: manifest[key] for key in metrics}  # a subset, same names
    assert (metrics["mode"], metrics["task"]) == ("test", generated.task)
    assert manifest["data"]["rows"] > 0
    assert metrics["primary_metric"] in metrics["metrics"]
    assert metrics["primary_metric"] in metrics["baseline"]
    assert any(Path(name).suffix in MODEL_SUFFIXES for name in record["files"]), record["files"]
    assert "outputs: outputs/test/" in step.result.stdout


@projects
@slow
def test_human_mode_fetches_compares_trains_and_reports(generated, walkthroughs, record_property):
    walkthrough = walkthroughs.of(generated)
    for name in ("fetch-sample human", "compare human", "train human", "report human"):
        record_property("wall_time", walkthrough.steps[name].wall_time(generated.slug))
    fetched = walkthrough.steps["fetch-sample human"].result.stdout
    assert f"{HUMAN_ROWS:,} of 200,000 rows" in fetched, fetched
    assert "data/human/sample.parquet" in fetched, fetched
    compared = walkthrough.steps["compare human"].result.stdout
    models = walkthrough.records["human"]["manifest"]["config"]["compare"]["models"]
    for model in [*models, "dummy"]:
        assert model in compared, compared
    # train with several models keeps the one cross-validation ranks first.
    manifest = walkthrough.records["human"]["manifest"]
    assert manifest["data"]["rows"] == HUMAN_ROWS
    assert set(manifest["candidates"]) == set(manifest["config"]["train"]["models"])
    assert manifest["model"] in manifest["candidates"]
    # The leaderboard compare wrote stays beside the model train published.
    assert {"leaderboard.csv", "leaderboard.json", "model.skops", "manifest.json"} <= set(
        walkthrough.records["human"]["files"]
    )
    reported = walkthrough.steps["report human"].result.stdout.strip()
    assert reported == "outputs/human/report.html", reported
    assert walkthrough.report.startswith("<!DOCTYPE html>"), walkthrough.report[:80]
    assert manifest["model"] in walkthrough.report


@projects
@slow
def test_promote_writes_human_modes_choice_into_productions_config(
    generated, walkthroughs, record_property
):
    walkthrough = walkthroughs.of(generated)
    record_property("wall_time", walkthrough.steps["promote"].wall_time(generated.slug))
    chosen = walkthrough.records["human"]["manifest"]["model"]
    promoted = tomllib.loads(walkthrough.promoted)
    assert promoted["train"]["models"] == [chosen]
    # Production then trained that model, on every row.
    production = walkthrough.records["production"]["manifest"]
    assert production["model"] == chosen
    assert production["config"]["train"]["models"] == [chosen]
    said = walkthrough.steps["promote"].result.stdout
    assert f"train.models = [{chosen!r}] (from human mode)" in said, said


@projects
@slow
def test_the_projects_script_and_python_m_trimode_are_the_runtimes(generated, environment):
    installed: Installed = environment[generated.slug]
    assert ok(installed.script("--version")).stdout.strip() == (
        f"{generated.slug} (trimode {VERSION})"
    )
    helped = ok(installed.script("--help")).stdout
    for command in ("train", "fetch-sample", "compare", "promote", "report", "predict"):
        assert command in helped, helped
    module = ok(installed.uv_run("python", "-m", "trimode", "--version")).stdout.strip()
    assert module == f"python -m trimode (trimode {VERSION})"


# Of every distribution a generated project's uv.lock holds, the ones no environment here
# installs (other platforms'), with their import names: a new one fails the test below
# until its names join copier.yml's reserved_package_names.
PLATFORM_ONLY = {
    "appnope": {"appnope"},
    "colorama": {"colorama"},
    "pywin32": {
        *("win32", "win32api", "win32com", "win32comext", "win32con", "win32gui", "winerror"),
        *("pythoncom", "pythonwin", "pywintypes", "isapi", "adodbapi"),
    },
    "pywinpty": {"winpty"},
    "waitress": {"waitress"},
}
# What the project's python reads: each installed distribution and its import names.
IMPORT_NAMES = """
import json, importlib.metadata as metadata
from packaging.utils import canonicalize_name
names = {}
for module, distributions in metadata.packages_distributions().items():
    for distribution in distributions:
        names.setdefault(canonicalize_name(distribution), []).append(module)
print(json.dumps(names))
"""


@slow
@pytest.mark.xdist_group(CLASSIFICATION.group)
def test_no_package_name_the_validators_accept_shadows_what_a_project_installs(environment):
    """The default project with every extra and its dev tools installed: each import name
    of each distribution (and of the platform-only ones its lock holds) is refused as a
    package name by both engines' validators (copier.yml's list, which cookiecutter.json
    copies), whatever its case."""
    installed: Installed = environment[CLASSIFICATION.slug]
    import_names = json.loads(ok(installed.python(IMPORT_NAMES)).stdout)
    lock = tomllib.loads((installed.folder / "uv.lock").read_text(encoding="utf-8"))
    locked = {package["name"] for package in lock["package"]} - {CLASSIFICATION.slug}
    assert locked - set(import_names) - {"trimode"} <= set(PLATFORM_ONLY), (
        "a distribution of uv.lock that is not installed here: add it to PLATFORM_ONLY"
    )
    public = {
        module.lower()
        for modules in [*import_names.values(), *PLATFORM_ONLY.values()]
        for module in modules
        if module.isidentifier() and not module.startswith("_")
    }
    reserved = set(COPIER["reserved_package_names"]["default"])
    assert public - reserved == set(), "add these to copier.yml's reserved_package_names"


@projects
@slow
def test_ruff_check_and_format_are_clean(generated, environment):
    installed: Installed = environment[generated.slug]
    ok(installed.uv_run("ruff", "check", "."))
    ok(installed.uv_run("ruff", "format", "--check", "."))


@pytest.mark.parametrize(
    "arguments",
    [["train", "--mode", "nope"], ["train", "--mode", "test", "--model", "nope"]],
    ids=["unknown-mode", "unknown-model"],
)
@slow
@pytest.mark.xdist_group(CLASSIFICATION.group)
def test_bad_input_gets_a_one_line_reason(arguments, environment):
    result = environment[CLASSIFICATION.slug].script(*arguments)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "nope" in lines[0]
