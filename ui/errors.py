"""Show errors to planners as plain messages, never as tracebacks.

Our own :class:`geo.errors.CoverageToolError` messages already say which input was wrong and how
to fix it, so they are shown after a short label of the kind of problem in the interface
language. Anything else is logged with its traceback and replaced by a friendly sentence.
Streamlit's own control-flow exceptions (``st.stop``, ``st.rerun``) derive from
``BaseException`` and pass through untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from geo.errors import CoverageToolError, is_expected, one_line
from geo.messages import Message, text
from maps.i18n import has

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    """Whether the guarded block finished; ``error`` holds the message shown otherwise."""

    ok: bool = True
    error: str | None = None


def message_for(exc: BaseException, *, lang: str) -> str:
    """The text a planner sees for ``exc``: the CLI's one line, led by a label in ``lang``.

    The line itself is :func:`geo.errors.one_line`, so the app and ``cli.py`` say the same.
    """
    line = one_line(exc, lang=lang)
    if isinstance(exc, CoverageToolError):
        # Our messages name the input and the fix; lead with what kind of problem it is (the
        # nearest of our error classes that has a label).
        for cls in type(exc).__mro__:
            code = f"ui.error.kind.{cls.__name__}"
            if has(code):
                return text("ui.error.detail", lang, kind=text(code, lang), detail=line)
        return line
    if isinstance(exc, ModuleNotFoundError):
        return text("ui.error.missing_module", lang, module=exc.name or line)
    if is_expected(exc):
        return line
    return f"{text('ui.error.unexpected', lang)} ({line})"


def renamed(exc: CoverageToolError, names: Mapping[str, str]) -> CoverageToolError:
    """``exc`` with each text ``old`` in its message replaced by ``names[old]``.

    Uploads are read from temporary copies; the planner must see their own file's name. The
    message stays a catalogue message (its parameters are renamed), so it still renders in the
    interface language.
    """

    def fix(value: object) -> object:
        if isinstance(value, Message):
            return Message(value.code, **{k: fix(v) for k, v in value.params.items()})
        if isinstance(value, list | tuple):
            return type(value)(fix(v) for v in value)
        if isinstance(value, str | Path):
            out = str(value)
            for old, new in names.items():
                out = out.replace(old, new)
            return out
        return value

    first = exc.args[0] if exc.args else str(exc)
    return type(exc)(fix(first))


@contextmanager
def guard(*, lang: str, context: str = "") -> Iterator[Outcome]:
    """Run a block; show our errors with ``st.error`` and log unexpected ones.

    Parameters
    ----------
    lang
        Interface language of the message.
    context
        What the block was doing, for the log.

    Yields
    ------
    Outcome
        ``ok`` is False after an error, so the caller can skip what depended on the block.
    """
    outcome = Outcome()
    try:
        yield outcome
    except CoverageToolError as exc:
        logger.info("%s: %s", context or "app", exc)
        outcome.ok = False
        outcome.error = message_for(exc, lang=lang)
        st.error(outcome.error)
    except Exception as exc:
        logger.exception("unexpected error in %s", context or "app")
        outcome.ok = False
        outcome.error = message_for(exc, lang=lang)
        st.error(outcome.error)
