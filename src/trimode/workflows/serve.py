"""`serve`: the published production model over HTTP (the `serve` extra: FastAPI, uvicorn).

The model is found as `predict` finds it (the production output root, or --model) and
loaded with the same trust checks (its sha256 and the types it holds); `serve` refuses
to start, in one line, when it is missing, fails them, was not trained in production
mode or did not pass the quality gate its manifest records.

Hot swap: a watcher looks for a newly published model every serve.reload_interval_s
(and at once on SIGHUP, where the platform has it). A new one is loaded and verified
beside the one serving, which answers meanwhile; then one assignment swaps them, so a
request is scored by the one model or the other, whole. A model that fails the checks is
not swapped in: the old one keeps serving and the log says why, once.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trimode.artifacts.manifest import DIGEST_FIELD
from trimode.core.errors import ArtifactError, ProjectError
from trimode.core.layout import MANIFEST_FILE, VERSION
from trimode.core.project import Project
from trimode.core.secrets import redact, redacted
from trimode.workflows.predict import ScoringModel, load_scoring_model, model_record
from trimode.workflows.serve_rows import RequestRows, request_rows

LOG = logging.getLogger("trimode.serve")


def require_extra() -> Any:
    """uvicorn, or one line naming the extra that installs the server."""
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError:
        raise ProjectError(
            "serve needs trimode's serve extra (FastAPI, uvicorn): install trimode[serve], "
            "e.g. `uv sync --extra serve` in a generated project"
        ) from None
    return uvicorn


@dataclass(frozen=True)
class Served:
    """A model being served: loaded and verified, with its request rows and summary."""

    scoring: ScoringModel
    rows: RequestRows
    # The sealed manifest's digest: what tells one published model from the next.
    digest: str
    summary: dict[str, Any] = field(repr=False)


def published_digest(manifest: dict[str, Any]) -> str:
    """What tells one published model from another: its sealed manifest's digest (the
    model file's sha256 for an older, unsealed record)."""
    artifact = manifest.get("artifact") or {}
    return str(manifest.get(DIGEST_FIELD) or artifact.get("sha256"))


def open_served(project: Project, root: Path) -> Served:
    """The model published at root, loaded for serving, or ArtifactError saying why not:
    missing, untrusted (sha256, types), not a production model, or not through the gate."""
    path, manifest = model_record(root)
    recorded = manifest.get("gate")
    gate: dict[str, Any] = recorded if isinstance(recorded, dict) else {}
    if gate.get("passed") is not True:
        raise ArtifactError(
            f"{path}: refusing to serve a model that did not pass the quality gate "
            f"({MANIFEST_FILE}: gate.passed is {gate.get('passed')!r}); train --mode "
            "production with evaluation.gate = true until it passes"
        )
    scoring = load_scoring_model(project, path, manifest, "request")
    return Served(scoring, request_rows(scoring), published_digest(manifest), summary(scoring))


def summary(scoring: ScoringModel) -> dict[str, Any]:
    """What GET /model answers: the model, its version, metrics and data contract, the
    runtime; every credential redacted (nothing of the config or the data source)."""
    manifest = scoring.manifest
    recorded = (manifest.get("contract") or {}).get("columns", {})
    roles = scoring.features.get("roles", {})
    ids = [name for name, role in roles.items() if role == "id"]
    columns = [
        {"name": name, "kind": (recorded.get(name) or {}).get("kind"), "role": roles.get(name)}
        for name in [*ids, *scoring.columns]
    ]
    artifact = manifest.get("artifact") or {}
    record = {
        "model": manifest.get("model"),
        "estimator": manifest.get("estimator"),
        "task": manifest.get("task"),
        "target": manifest.get("target"),
        "version": published_digest(manifest)[:12],
        "trained_at": manifest.get("finished_at"),
        "artifact_sha256": artifact.get("sha256"),
        "classes": manifest.get("classes"),
        "primary_metric": manifest.get("primary_metric"),
        "metrics": manifest.get("metrics"),
        "baseline": manifest.get("baseline"),
        "gate": manifest.get("gate"),
        "columns": columns,
        "trained_with": (manifest.get("libraries") or {}).get("trimode"),
        "runtime": VERSION,
    }
    return redacted(record)


class ModelHolder:
    """The model being served, and the swap to a newly published one."""

    def __init__(self, project: Project, root: Path) -> None:
        self.project = project
        self.root = root
        self.current = open_served(project, root)
        # The digest of a published model that failed its checks: warned about once.
        self._refused: str | None = None
        self._wake = threading.Event()
        self._stopping = False

    def reload(self) -> bool:
        """Swap in the model published at root when it is new and passes every check;
        True when it was swapped in. A failure leaves the current model serving."""
        try:
            _, manifest = model_record(self.root)
        except ProjectError as error:
            return self._refuse(f"unreadable:{error}", error)
        digest = published_digest(manifest)
        if digest in (self.current.digest, self._refused):
            return False
        try:
            candidate = open_served(self.project, self.root)
        except ProjectError as error:
            # Read while a publishing swapped the folder: the next look reads it whole.
            try:
                moved_on = published_digest(model_record(self.root)[1]) != digest
            except ProjectError:
                moved_on = True
            return False if moved_on else self._refuse(digest, error)
        self.current = candidate  # one assignment: a request holds one model or the other
        self._refused = None
        LOG.info(
            "serving the newly published model %s (version %s)",
            candidate.summary["model"],
            candidate.summary["version"],
        )
        return True

    def _refuse(self, digest: str, error: Exception) -> bool:
        if digest != self._refused:
            LOG.warning("kept the model serving; the published one is refused: %s", redact(error))
            self._refused = digest
        return False

    def wake(self) -> None:
        """Look for a new model now (SIGHUP)."""
        self._wake.set()

    @contextmanager
    def watching(self, interval_s: float) -> Iterator[None]:
        """Look for a newly published model every interval_s seconds (0: only when woken)
        in a thread of its own, while the block runs."""

        def watch() -> None:
            while True:
                self._wake.wait(interval_s or None)
                self._wake.clear()
                if self._stopping:
                    return
                try:
                    self.reload()
                except Exception as error:  # the watcher outlives any one failure
                    LOG.warning("looking for a new model failed: %s", redact(error))

        thread = threading.Thread(target=watch, name="trimode-serve-watcher", daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._stopping = True
            self._wake.set()
            thread.join(timeout=10)


@contextmanager
def reloading_on_sighup(holder: ModelHolder) -> Iterator[None]:
    """SIGHUP wakes the watcher, where the platform has it and in the main thread."""
    hangup = getattr(signal, "SIGHUP", None)
    if hangup is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(hangup, lambda *_: holder.wake())
    try:
        yield
    finally:
        signal.signal(hangup, previous)


def configure_logging() -> None:
    """uvicorn's log lines, and the server's own (a swap, a refused model), on stderr.

    Each record's message is whole (and redacted) once made (core/secrets.py), so the
    access lines take the plain formatter: uvicorn's own would unpack the request's
    arguments again."""
    import logging.config

    plain = {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"}
    handler = {"formatter": "plain", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    logger = {"handlers": ["stderr"], "level": "INFO", "propagate": False}
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"plain": plain},
            "handlers": {"stderr": handler},
            "loggers": dict.fromkeys(("uvicorn", "uvicorn.access", LOG.name), logger),
        }
    )


def serve(project: Project, root: Path, settings: Any) -> None:
    """Serve the model published at root on settings.host:settings.port until stopped
    (Ctrl-C, SIGTERM). settings: the [serve] config section, with the command's options."""
    uvicorn = require_extra()
    from trimode.workflows.serve_app import build_app

    configure_logging()
    holder = ModelHolder(project, root)
    LOG.info(
        "serving %s (version %s) from %s",
        holder.current.summary["model"],
        holder.current.summary["version"],
        holder.current.scoring.path,
    )
    app = build_app(holder, settings)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,  # configure_logging's
            timeout_keep_alive=5,
            server_header=False,
        )
    )
    with holder.watching(settings.reload_interval_s), reloading_on_sighup(holder):
        try:
            server.run()
        except SystemExit:  # uvicorn's way to say it could not start (its log says why)
            if server.started:
                raise
            raise ProjectError(
                f"serve could not listen on {settings.host}:{settings.port} (the line above "
                "says why, e.g. the port is in use): choose another with --port or serve.port"
            ) from None
