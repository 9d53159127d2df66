"""`serve`'s HTTP application (FastAPI): GET /health, GET /model, POST /predict.

Every refused request is a 4xx JSON answer {"error": "<one line>"}: the body is read here,
within serve.max_body_bytes (413) and serve.read_timeout_s (408), then parsed and checked
(serve_rows.py); FastAPI's and Starlette's own errors (404, 405, validation) are answered
in the same shape. Nothing of a request reaches a traceback or a log but its path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from threadpoolctl import ThreadpoolController

from trimode.core.errors import DataError
from trimode.core.secrets import redact
from trimode.workflows.predict import Seen
from trimode.workflows.serve import ModelHolder, Served
from trimode.workflows.serve_rows import BadRequest, read_rows, rows_table

# A body past the limit is read on (and dropped) up to this many times the limit, so the
# client reads the 413 instead of a reset connection; a larger one is cut off.
DRAIN_FACTOR = 4
JSON_TYPES = ("application/json",)


def build_app(holder: ModelHolder, settings: Any) -> FastAPI:
    """The application serving holder's current model under settings' limits."""
    # The native thread pools the loaded model uses: found once, as finding them takes
    # milliseconds and a limit set through them microseconds.
    pools = ThreadpoolController()
    # /docs and /redoc with their scripts served from here, not from a CDN: they work on a
    # machine that reaches no other host (FastAPI's own pages load them from jsDelivr).
    app = FastAPIOffline(
        title="trimode model server",
        description="The published production model: POST rows to /predict.",
        version=holder.current.summary["version"],
    )

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, error: BadRequest) -> JSONResponse:
        return refusal(error.status, error.message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        detail = str(error.detail).rstrip(".").lower()
        message = f"{request.method} {request.url.path}: {detail}"
        if error.status_code == 405:
            allowed = error.headers.get("Allow", "") if error.headers else ""
            message += f" (allowed: {allowed})" if allowed else ""
        return refusal(error.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        fault = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(map(str, fault["loc"]))
        return refusal(422, f"{where}: {fault['msg']}")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Whether the server answers, and the model it serves."""
        served = holder.current
        return {
            "status": "ok",
            "model": served.summary["model"],
            "version": served.summary["version"],
        }

    @app.get("/model")
    async def model() -> dict[str, Any]:
        """The served model's summary: name, version, metrics, columns, the runtime."""
        return holder.current.summary

    @app.post("/predict")
    async def predict(request: Request) -> JSONResponse:
        """Rows as records (a list of objects) or columns (an object of lists): each row's
        prediction, one probability per class, and its ID columns."""
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in JSON_TYPES and not media.endswith("+json"):
            raise BadRequest(415, f"expected Content-Type application/json, got {media!r}")
        body = await read_body(request, settings.max_body_bytes, settings.read_timeout_s)
        served = holder.current  # the one model of this request, whatever a swap does
        values = read_rows(body, served.rows, settings.max_rows)
        try:
            answer = await run_in_threadpool(one_thread_each, pools, predictions, served, values)
        except DataError as error:
            raise BadRequest(422, redact(error)) from None
        return JSONResponse(answer)

    app.openapi = lambda: openapi_document(app, holder.current)  # type: ignore[method-assign]
    return app


def one_thread_each(pools: ThreadpoolController, work: Callable[..., Any], *arguments: Any) -> Any:
    """work(*arguments) on one OpenMP thread: concurrent requests are the server's workers,
    and each starting a thread a core (gradient boosting's) would leave them waiting for
    each other. OpenMP's limit is the calling thread's own, so requests never race on it."""
    with pools.limit(limits=1, user_api="openmp"):
        return work(*arguments)


def refusal(status: int, message: str) -> JSONResponse:
    """A refused request's answer: {"error": one line, credentials hidden}."""
    return JSONResponse({"error": redact(" ".join(message.split()))}, status_code=status)


async def read_body(request: Request, limit: int, timeout_s: float) -> bytes:
    """The request's body, whole within timeout_s seconds (else 408) and limit bytes
    (else 413, once the body is read: the client then reads the answer)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit()):
        raise BadRequest(400, f"Content-Length {declared!r} is not a number of bytes")
    if declared is not None and int(declared) > DRAIN_FACTOR * limit:
        raise BadRequest(413, too_large(int(declared), limit))
    deadline = time.monotonic() + timeout_s
    chunks: list[bytes] = []
    size = 0
    stream = request.stream().__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), deadline - time.monotonic())
        except StopAsyncIteration:
            break
        except TimeoutError:
            raise BadRequest(
                408, f"the body did not arrive within {timeout_s:g}s (serve.read_timeout_s)"
            ) from None
        except ClientDisconnect:
            raise BadRequest(400, "the client left before its body arrived") from None
        size += len(chunk)
        if size > DRAIN_FACTOR * limit:
            break
        if size <= limit:
            chunks.append(chunk)
    if size > limit:
        raise BadRequest(413, too_large(size, limit))
    return b"".join(chunks)


def too_large(size: int, limit: int) -> str:
    """Why a body of size bytes is refused."""
    return f"the body holds {size:,} bytes or more: at most {limit:,} (serve.max_body_bytes)"


def predictions(served: Served, values: dict[str, list]) -> dict[str, Any]:
    """The rows scored as batch `predict` scores them: per row, its ID columns, the
    prediction and one probability per class (probability_<class>, as predict writes)."""
    rows = served.rows
    seen = Seen()
    result = served.scoring.score(rows_table(values, rows), seen)
    columns: dict[str, list] = {name: values[name] for name in rows.ids}
    columns |= {name: result.column(name).to_pylist() for name in result.column_names}
    names = list(columns)
    rows_of = zip(*columns.values(), strict=True)
    records = [dict(zip(names, values, strict=True)) for values in rows_of]
    return {
        "model": served.summary["model"],
        "version": served.summary["version"],
        "rows": records,
        "warnings": list(seen.warnings.values()),
    }


def openapi_document(app: FastAPI, served: Served) -> dict[str, Any]:
    """The OpenAPI document, its /predict request body the served model's rows: their real
    column names and types, as records or as columns."""
    if app.openapi_schema and app.openapi_schema["info"]["version"] == served.summary["version"]:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=served.summary["version"],
        description=f"Serves {served.summary['model']} (task: {served.summary['task']}).",
        routes=app.routes,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    reference = "#/components/schemas/{model}"
    for model in (served.rows.row, served.rows.columns_model):
        schema = model.model_json_schema(ref_template=reference)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    document["paths"]["/predict"]["post"]["requestBody"] = {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {"type": "array", "items": {"$ref": "#/components/schemas/Row"}},
                        {"$ref": "#/components/schemas/Columns"},
                    ]
                }
            }
        },
    }
    app.openapi_schema = document
    return document
