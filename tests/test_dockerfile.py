"""The generated project's container recipe.

Its Dockerfile passes hadolint (nothing at any level, both engines' renders); its
.dockerignore, read by Docker's own rules (docker-py's exclude_paths), sends a build
nothing but the image's makings: no .env, no data, no other mode's outputs, no .git.
And where a container engine answers (`docker info`), the image is built from the
production model a walkthrough published and run: it reports healthy through its own
HEALTHCHECK, runs as a user other than root, holds only what serving needs, and
`POST /predict` answers a row as batch `predict` did. Without an engine that test is
skipped, saying so; nothing else can build an image.
"""

import json
import shutil
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from docker.utils.build import exclude_paths
from generated import CLASSIFICATION, Installed, Walkthroughs, ok, on
from rendering import MATRIX, ROOT, template_files, tool

ENGINES = ["copier", "cookiecutter"]
DEFAULTS = next(case for case in MATRIX if case.id == "defaults")
PY312 = next(case for case in MATRIX if case.answers["python_version"] == "3.12")
# The port the image's server listens on (EXPOSE, CMD and HEALTHCHECK in the Dockerfile).
PORT = 8000
# Bounds of the container test: the image build (the locked environment's packages are
# downloaded into it), and the server's start up to a healthy status.
BUILD_TIMEOUT_S = 1_800
HEALTHY_TIMEOUT_S = 180


def hadolint(dockerfile: Path) -> subprocess.CompletedProcess:
    """hadolint on a Dockerfile: every finding, of any level, fails (exit status 1)."""
    command = [tool("hadolint"), "--no-color", "--failure-threshold", "style", dockerfile.name]
    return subprocess.run(command, cwd=dockerfile.parent, capture_output=True, text=True)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_dockerfile_passes_hadolint(engine, renders):
    dockerfile = renders.get(DEFAULTS, engine) / "Dockerfile"
    result = hadolint(dockerfile)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_hadolint_finds_what_it_should(tmp_path):
    """The lint can fail: a recipe with an unpinned pip install and no USER is refused."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11-slim\nRUN pip install uv\n", encoding="utf-8")
    result = hadolint(bad)
    assert result.returncode == 1 and "DL3013" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("case", [DEFAULTS, PY312], ids=lambda case: case.id)
def test_the_image_runs_the_projects_python(case, renders):
    """Both stages stand on the Python the project was made for (its venv links to it)."""
    text = (renders.get(case, "copier") / "Dockerfile").read_text(encoding="utf-8")
    version = case.answers["python_version"]
    assert f"ARG PYTHON_IMAGE=python:{version}-slim-trixie\n" in text
    assert text.count("FROM ${PYTHON_IMAGE}") == 2


def dockerignore_patterns(project: Path) -> list[str]:
    """The patterns of a project's .dockerignore, as the docker command line reads them:
    lines trimmed, blank lines and comments skipped."""
    lines = (project / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def build_context(project: Path) -> set[str]:
    """The files a `docker build` of the project sends to the engine (Docker's rules)."""
    kept = exclude_paths(str(project), dockerignore_patterns(project))
    return {path for path in kept if (project / path).is_file()}


# Files a worked-on project holds that no image may: secrets, data, other modes' outputs,
# environments, git's own, tracking stores, notebooks and tests.
KEPT_OUT = [
    ".env",
    ".env.local",
    "configs/.env",
    "outputs/production/.env",
    "data/test/sample.parquet",
    "data/human/contract.json",
    "outputs/human/model.skops",
    "outputs/test/manifest.json",
    "outputs/.production.lock",
    ".trimode/predictions.parquet",
    ".venv/bin/python",
    "mlruns.db",
    "mlruns/1/meta.yaml",
    "src/{package}/__pycache__/models.cpython-311.pyc",
]
# Files of the production model an image is made of.
PUBLISHED = [
    "outputs/production/model.skops",
    "outputs/production/manifest.json",
    "outputs/production/metrics.json",
    "outputs/production/model-card.md",
    "outputs/production/.trimode-output.json",
]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_build_sees_only_the_images_makings(engine, renders, tmp_path):
    rendered = renders.get(DEFAULTS, engine)
    project = tmp_path / "project"
    shutil.copytree(rendered, project, symlinks=True)
    package = DEFAULTS.answers["package_name"]
    kept_out = {name.format(package=package) for name in KEPT_OUT}
    for name in [*kept_out, *PUBLISHED, "uv.lock"]:
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("DB_PASSWORD=s3cret\n" if ".env" in name else "x\n", encoding="utf-8")
    on_disk = {
        path.relative_to(project).as_posix() for path in project.rglob("*") if path.is_file()
    }
    # Docker always sends the Dockerfile and the .dockerignore (the build reads them).
    makings = {"Dockerfile", ".dockerignore", "pyproject.toml", "uv.lock", "README.md", "LICENSE"}
    inside = ("src/", "configs/", "outputs/production/")
    expected = {name for name in on_disk - kept_out if name in makings or name.startswith(inside)}
    assert {name for name in on_disk if name.startswith(".git/")}, "the render has no .git"
    assert {"notebooks/1-inspect-data.ipynb", "tests/test_pipeline.py"} <= on_disk
    assert build_context(project) == expected


@pytest.fixture(scope="session")
def container_engine() -> str:
    """The docker command, when an engine answers it; else the test is skipped, saying why
    (only an engine can build an image: there is nothing else to run it with)."""
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no container engine: no docker command on PATH")
    try:
        info = subprocess.run(
            [docker, "info"], capture_output=True, text=True, timeout=60, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.skip("no container engine: `docker info` did not answer within 60 s")
    if info.returncode != 0:
        said = " ".join((info.stderr or info.stdout).split()) or f"exit status {info.returncode}"
        pytest.skip(f"no container engine: `docker info` failed: {said}")
    return docker


# What building the runtime's wheel reads besides src/trimode/ (its pyproject.toml's
# readme and license-files).
RUNTIME_FILES = {"pyproject.toml", "README.md", "LICENSE"}


def vendored_copy(installed: Installed, destination: Path) -> Path:
    """The project as docs/production.md tells a project to build without reaching the
    runtime's repository: the runtime's source in runtime/, pinned by path, let into the
    build by .dockerignore, locked again."""
    shutil.copytree(
        installed.folder,
        destination,
        symlinks=True,
        ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__"),
    )
    for path in template_files(ROOT):
        if path.parts[:2] == ("src", "trimode") or path.as_posix() in RUNTIME_FILES:
            target = destination / "runtime" / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, target)
    pyproject = destination / "pyproject.toml"
    lines = pyproject.read_text(encoding="utf-8").splitlines(keepends=True)
    [pin] = [index for index, line in enumerate(lines) if line.startswith("trimode = {")]
    lines[pin] = 'trimode = { path = "runtime" }\n'
    pyproject.write_text("".join(lines), encoding="utf-8")
    ignore = destination / ".dockerignore"
    text = ignore.read_text(encoding="utf-8")
    assert "!configs/\n" in text
    ignore.write_text(text.replace("!configs/\n", "!configs/\n!runtime/\n"), encoding="utf-8")
    ok(
        subprocess.run(
            ["uv", "lock"],
            cwd=destination,
            env=installed.shell,
            text=True,
            capture_output=True,
            timeout=600,
        )
    )
    return destination


def docker_run(docker: str, *arguments: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """A docker command, its output captured; bounded by timeout."""
    return subprocess.run(
        [docker, *arguments], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def image(container_engine: str, walkthroughs: Walkthroughs, tmp_path: Path) -> Iterator[str]:
    """The image of the classification project after its walkthrough published the
    production model; removed after the test."""
    installed = walkthroughs.of(CLASSIFICATION).installed
    context = vendored_copy(installed, tmp_path / "context")
    # A secret for local work, as a user has one: the image must not take it.
    (context / ".env").write_text("DB_PASSWORD=s3cret\n", encoding="utf-8")
    tag = f"trimode-test-{uuid.uuid4().hex[:12]}"
    try:
        ok(
            docker_run(
                container_engine, "build", "--tag", tag, str(context), timeout=BUILD_TIMEOUT_S
            )
        )
        yield tag
    finally:
        docker_run(container_engine, "image", "rm", "--force", tag)


@pytest.fixture
def container(container_engine: str, image: str) -> Iterator[str]:
    """A container of the image, its port published on 127.0.0.1 only; removed after."""
    started = ok(
        docker_run(
            container_engine,
            "run",
            "--detach",
            "--publish",
            f"127.0.0.1::{PORT}",
            # The image's own health check, run often enough for a test to see it pass.
            "--health-interval",
            "2s",
            image,
        )
    )
    name = started.stdout.strip()
    try:
        yield name
    finally:
        docker_run(container_engine, "rm", "--force", name)


def wait_until_healthy(docker: str, container: str) -> None:
    """Wait, at most HEALTHY_TIMEOUT_S, for the image's HEALTHCHECK to report healthy;
    fail with the container's log if it stops or does not get there."""
    deadline = time.monotonic() + HEALTHY_TIMEOUT_S
    state = {}
    while time.monotonic() < deadline:
        inspected = ok(docker_run(docker, "inspect", "--format", "{{json .State}}", container))
        state = json.loads(inspected.stdout)
        if (state.get("Health") or {}).get("Status") == "healthy" or not state.get("Running"):
            break
        time.sleep(1)
    logs = docker_run(docker, "logs", container)
    assert (state.get("Health") or {}).get("Status") == "healthy", (
        f"{json.dumps(state)}\n--- log\n{logs.stdout}{logs.stderr}"
    )


def served_records(body) -> list[dict]:
    """The rows of a /predict answer ({"model", "version", "rows", "warnings"})."""
    rows = body["rows"]
    assert isinstance(rows, list) and all(isinstance(row, dict) for row in rows), body
    return rows


@pytest.mark.slow
@pytest.mark.parametrize("generated", [on(CLASSIFICATION, CLASSIFICATION)], ids=["classification"])
def test_the_image_serves_the_production_model(
    generated, container_engine, walkthroughs, container, tmp_path
):
    walkthrough = walkthroughs.of(generated)
    wait_until_healthy(container_engine, container)
    user = ok(docker_run(container_engine, "exec", container, "id", "-u")).stdout.strip()
    assert user != "0", "the server runs as root"
    listing = "import json, os; print(json.dumps([sorted(os.listdir()), os.listdir('outputs')]))"
    held = ok(docker_run(container_engine, "exec", container, "python", "-c", listing))
    assert json.loads(held.stdout) == [
        [".venv", "configs", "outputs", "pyproject.toml"],
        ["production"],
    ]
    address = ok(docker_run(container_engine, "port", container, str(PORT))).stdout.split()[0]
    with urllib.request.urlopen(f"http://{address}/health", timeout=10) as answer:
        assert answer.status == 200
    # The first row batch `predict` scored in the walkthrough, as JSON records (its ID
    # column is none of the model's: the server would refuse it as unknown).
    row = pq.read_table(walkthrough.workspace / "rows.parquet").slice(0, 1).to_pandas()
    body = row.drop(columns="customer_id").to_json(orient="records", date_format="iso")
    [expected] = pq.read_table(walkthrough.predictions).slice(0, 1).to_pylist()
    request = urllib.request.Request(
        f"http://{address}/predict",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        [served] = served_records(json.loads(answer.read()))
    assert served["prediction"] == expected["prediction"]
    for name, value in expected.items():
        if name.startswith("probability_"):
            assert served[name] == pytest.approx(value, abs=1e-9), name
