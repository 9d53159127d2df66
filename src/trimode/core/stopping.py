"""How a run is stopped from outside, and what stopping it ends.

SIGINT (Ctrl-C) raises KeyboardInterrupt and SIGTERM raises Terminated (a kind of
KeyboardInterrupt) in the main thread, so both unwind the run the same way: every
`finally` and `except BaseException` on the way removes what the run was writing, and
the command line prints one line (exit 130 or 143). The handlers are installed by the
command line's main only, for the length of a command (`handling_signals`); nothing
here touches a signal at import time, and SIGTERM is set only where the platform has it.

A few writes must happen together or not at all (a sample and its metadata):
`interrupts_held` holds both signals until its body ends. `end_workers` ends the
worker processes a run started (joblib's loky executor, multiprocessing's children),
for a run stopped in the middle of parallel work.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

# What a shell reports for a process ended by SIGINT (128 + 2): a command stopped by Ctrl-C
# exits so, even one that kept what it had finished.
EXIT_INTERRUPTED = 130


class Terminated(KeyboardInterrupt):
    """The process was asked to end (SIGTERM): handled as Ctrl-C is."""


# The interrupt raised while held, raised when the hold ends; how many holds are open.
_held: list[type[KeyboardInterrupt]] = []
_holds = 0


def _raiser(kind: type[KeyboardInterrupt]):
    def handle(signum, frame) -> None:
        if _holds:
            _held.append(kind)
            return
        raise kind()

    return handle


@contextlib.contextmanager
def handling_signals() -> Iterator[None]:
    """For the body of a `with` block (on the main thread), SIGINT raises
    KeyboardInterrupt and SIGTERM raises Terminated; the previous handlers come back after.
    A signal the process was started to ignore stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = {signal.SIGINT: KeyboardInterrupt}
    if hasattr(signal, "SIGTERM"):
        wanted[signal.SIGTERM] = Terminated
    previous = {}
    for number, kind in wanted.items():
        current = signal.getsignal(number)
        if current is signal.SIG_IGN:
            continue
        previous[number] = current
        signal.signal(number, _raiser(kind))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM (when handling_signals' handlers are in place) until the body
    of the `with` block ends, then raise the first that came: for writes that must all
    happen or none."""
    global _holds
    _holds += 1
    try:
        yield
    finally:
        _holds -= 1
        if not _holds and _held:
            kind = _held[0]
            _held.clear()
            raise kind()


def end_workers() -> None:
    """End the worker processes this process started: the workers of joblib's reusable
    loky executor (scikit-learn's parallel work) and multiprocessing's children. Killed,
    not asked: a stopped run does not wait for them."""
    executor_module = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(executor_module, "_executor", None)
    if executor is not None:
        for process in list((getattr(executor, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                process.kill()
        with contextlib.suppress(Exception):
            executor.shutdown(wait=False, kill_workers=True)
    if "multiprocessing" in sys.modules:
        import multiprocessing

        for child in multiprocessing.active_children():
            with contextlib.suppress(Exception):
                child.kill()


# Error streams besides sys.stderr that a forced exit's last line goes to: a test runner
# captures sys.stderr (pytest: file descriptor 2 itself) and os._exit drops what it
# caught, so trimode's pytest plugin hands over a copy of the stream it found.
_LAST_WORDS: list[int] = []


def tell_also(descriptor: int) -> None:
    """Write the last line of a forced exit to this file descriptor too."""
    _LAST_WORDS.append(descriptor)


def last_words(line: str) -> None:
    """Say the line that ends the process, where the user will see it."""
    print(line, file=sys.stderr, flush=True)
    for descriptor in _LAST_WORDS:
        with contextlib.suppress(OSError):
            os.write(descriptor, (line + "\n").encode("utf-8", "replace"))
