"""A small HTTP file server on 127.0.0.1 for the tests: range requests, basic auth."""

import base64
import functools
import http.server
import io
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class RangeRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Serve a folder, honouring `Range: bytes=...` (fsspec reads Parquet by ranges), to
    anyone, or only to requests with the basic-auth credentials the server was given."""

    credentials: str | None = None

    def send_head(self):
        expected = self.credentials
        given = self.headers.get("Authorization", "")
        if expected and given != "Basic " + base64.b64encode(expected.encode()).decode():
            self.send_error(401)
            return None
        wanted = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        path = Path(self.translate_path(self.path))
        if wanted is None or not path.is_file():
            return super().send_head()
        data = path.read_bytes()
        first, last = wanted.groups()
        if first:
            start, end = int(first), min(int(last or len(data) - 1), len(data) - 1)
        else:  # a suffix: the last N bytes
            start, end = max(len(data) - int(last), 0), len(data) - 1
        if start > end:
            self.send_error(416)
            return None
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        return io.BytesIO(data[start : end + 1])

    def end_headers(self):
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def log_message(self, format, *args):
        """Quiet: the tests' output is for failures."""


@contextmanager
def http_server(
    folder: Path, credentials: str | None = None, handler: type = RangeRequestHandler
) -> Iterator[str]:
    """Serve folder on 127.0.0.1 (a free port) from a thread, to requests with the
    credentials ("user:password") when given, by handler (a RangeRequestHandler); yield
    its base URL."""
    handler_class = type("Handler", (handler,), {"credentials": credentials})
    serving = functools.partial(handler_class, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), serving)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
