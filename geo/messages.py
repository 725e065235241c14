"""The message catalogue: every sentence a planner reads, by code, in Chinese and English.

Core code never writes a user-facing sentence. It emits a *code* with parameters,
``msg("geo.tables.empty_file", file=name)``, and the catalogue holds the texts:
``data/locale/<locale>/LC_MESSAGES/<domain>.po`` (gettext PO files, read with Babel), one file per
domain, the domain being the code's first segment (``geo``, ``coverage``, ``maps``, ``ui`` …).
Locales: ``zh_CN`` (the app's ``"zh"``) and ``en``. ``tests/test_messages.py`` fails when a code
used anywhere lacks a text in either language, or when the two texts disagree on their fields.

A :class:`Message` *is* a ``str`` (its English text), so logs, the CLI, JSON files and
``pytest.raises(match=…)`` read it as before, while the app and the reports call
:meth:`Message.text` (or :func:`localise`) for the planner's language. Parameters may themselves
be messages (a rejected row's reason inside an error); they are rendered in the same language.

Why hand-written on top of Babel: gettext's ``_()`` translates an English source sentence at the
call site; we want the core to stay language-free and the rendering to happen late, in whichever
language the reader chose (the same warning is shown in Chinese in the app and logged in English).
"""

from __future__ import annotations

import functools
import logging
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from babel.messages.pofile import read_po

logger = logging.getLogger(__name__)

__all__ = [
    "LOCALES",
    "LOCALE_DIR",
    "Message",
    "catalogue",
    "fields",
    "localise",
    "msg",
    "text",
]

#: Interface language → gettext locale of its catalogue.
LOCALES: Mapping[str, str] = MappingProxyType({"zh": "zh_CN", "en": "en"})

#: Where the PO files live.
LOCALE_DIR = Path(__file__).resolve().parent.parent / "data" / "locale"

#: Language of ``str(message)``: logs, the CLI, support requests.
_LOG_LANG = "en"


@functools.cache
def catalogue(lang: str) -> Mapping[str, str]:
    """All texts of one language, by code.

    Parameters
    ----------
    lang
        ``"zh"`` or ``"en"`` (or a locale name such as ``"zh_CN"``).

    Returns
    -------
    Mapping[str, str]
        Read-only mapping code → template (``str.format`` fields such as ``{file}``).
    """
    locale = LOCALES.get(lang, lang)
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    out: dict[str, str] = {}
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as fh:
            cat = read_po(fh, locale=locale, domain=po.stem)
        for entry in cat:
            # An empty text means "not translated yet": fall back rather than show nothing.
            if (
                isinstance(entry.id, str)
                and entry.id
                and isinstance(entry.string, str)
                and entry.string
            ):
                out[entry.id] = entry.string
    return MappingProxyType(out)


def fields(template: str) -> frozenset[str]:
    """The names of the ``str.format`` fields in ``template`` (``"{n:,} rows"`` → ``{"n"}``)."""
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None and name != "":
            names.add(name.split(".")[0].split("[")[0])
    return frozenset(names)


def localise(value: Any, lang: str) -> str:
    """``value`` as text in ``lang``: messages and our errors are rendered, anything else ``str``.

    Parameters
    ----------
    value
        A :class:`Message`, an exception whose first argument is one, a list of those (joined with
        the language's list separator), or anything else.
    lang
        ``"zh"`` or ``"en"``.
    """
    if isinstance(value, Message):
        return value.text(lang)
    if isinstance(value, BaseException):
        if value.args and isinstance(value.args[0], Message):
            return value.args[0].text(lang)
        return str(value)
    if isinstance(value, list | tuple) and any(isinstance(v, Message) for v in value):
        sep = "；" if lang == "zh" else "; "
        return sep.join(localise(v, lang) for v in value)
    return str(value)


def _values(params: Mapping[str, Any], lang: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        listed = isinstance(value, list | tuple) and any(isinstance(v, Message) for v in value)
        if listed or isinstance(value, Message | BaseException):
            out[key] = localise(value, lang)
        else:
            out[key] = value
    return out


def text(code: str, /, lang: str = "zh", **params: Any) -> str:
    """The text of ``code`` in ``lang`` with ``params`` filled in.

    A code missing from ``lang`` falls back to English, then to the code itself (logged), so a
    missing text shows on screen instead of breaking a page; the catalogue test catches it first.
    """
    template = catalogue(lang).get(code)
    if template is None:
        template = catalogue(_LOG_LANG).get(code)
        if template is None:
            logger.warning("messages: no text for code %r", code)
            extra = ", ".join(f"{k}={v}" for k, v in params.items())
            return f"{code} ({extra})" if extra else code
    if not params:
        # No fields given: the template is the text (doubled braces still need undoubling).
        return template.replace("{{", "{").replace("}}", "}") if "{" in template else template
    try:
        return template.format(**_values(params, lang))
    except (KeyError, IndexError, ValueError) as exc:
        logger.warning("messages: cannot fill %r in %s: %s", code, lang, exc)
        return template


class Message(str):
    """A user-facing message: a catalogue code and its parameters.

    As a ``str`` it is the English text (for logs and the CLI); :meth:`text` renders it in any
    catalogue language. Immutable like any ``str``; pickles and deep-copies by code and params
    (pandas copies ``DataFrame.attrs`` deeply).
    """

    code: str
    params: Mapping[str, Any]

    def __new__(cls, code: str, /, **params: Any) -> Message:  # noqa: D102
        self = super().__new__(cls, text(code, _LOG_LANG, **params))
        self.code = code
        self.params = MappingProxyType(dict(params))
        return self

    def text(self, lang: str) -> str:
        """Render the message in ``lang`` (``"zh"`` or ``"en"``)."""
        if lang == _LOG_LANG:
            return str.__str__(self)
        return text(self.code, lang, **self.params)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.code, dict(self.params)))

    def __repr__(self) -> str:
        return f"Message({self.code!r}, {dict(self.params)!r})"


def _rebuild(code: str, params: dict[str, Any]) -> Message:
    return Message(code, **params)


def msg(code: str, /, **params: Any) -> Message:
    """Build a :class:`Message` (the short spelling used at raise and warning sites)."""
    return Message(code, **params)


def codes(domain: str | None = None) -> Iterable[str]:
    """Every code of the English catalogue (of one ``domain`` when given)."""
    return [c for c in catalogue("en") if domain is None or c.split(".", 1)[0] == domain]
