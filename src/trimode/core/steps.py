"""Which step of a command was under way when something failed, for its one error line.

Every step of a run (load, split, fit, evaluate, save, and each command as a whole) runs
inside `step(name, subject)`. An exception leaving a step is marked with the innermost
step it left and that step's input (a source, a model, a file), so that the command
line can say, for any failure, even one no check foresaw: `error: step 'fit' (model
'svm'): ValueError: ...`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager

# The attribute an exception carries: (the step, its input).
_MARK = "trimode_step"


@contextmanager
def step(name: str, subject: str = "") -> Iterator[None]:
    """Run the body as the step `name` (of `subject`: what it reads or makes); an
    exception leaving it carries them, unless an inner step marked it first."""
    try:
        yield
    except BaseException as error:
        if getattr(error, _MARK, None) is None:
            with contextlib.suppress(AttributeError):  # an exception without __dict__
                setattr(error, _MARK, (name, subject))
        raise


def failed_step(error: BaseException) -> str:
    """The step an exception left, in words ("step 'fit' (model 'svm')"), or ""."""
    mark = getattr(error, _MARK, None)
    if mark is None:
        return ""
    name, subject = mark
    return f"step {name!r}" + (f" ({subject})" if subject else "")
