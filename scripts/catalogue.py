"""Maintain the message catalogue (``data/locale/*/LC_MESSAGES/*.po``) with Babel.

    .venv/bin/python scripts/catalogue.py add geo.tables.empty_file \
        --en "{file}: the file is empty." --zh "{file}：文件是空的。"
    .venv/bin/python scripts/catalogue.py check

``add`` writes the code into both languages' PO file of its domain (the code's first segment),
creating the file when needed; ``--replace`` overwrites an existing text. ``check`` prints every
problem ``tests/test_messages.py`` would fail on. Both keep the files in Babel's own format, so
``pybabel compile`` and any PO editor read them.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.messages import LOCALE_DIR, LOCALES, fields

logger = logging.getLogger("catalogue")


def po_path(locale: str, domain: str) -> Path:
    """The PO file of ``domain`` in ``locale``."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"


def load(locale: str, domain: str) -> Catalog:
    """The catalogue of one domain and locale (a new empty one when the file is missing)."""
    path = po_path(locale, domain)
    if not path.exists():
        return Catalog(locale=locale, domain=domain, project="lcc", fuzzy=False)
    with path.open("rb") as fh:
        return read_po(fh, locale=locale, domain=domain)


def save(cat: Catalog, locale: str, domain: str) -> None:
    """Write ``cat`` back (insertion order kept, no line wrapping, so diffs stay small)."""
    path = po_path(locale, domain)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, cat, width=0, omit_header=False, include_lineno=False)


def add(code: str, *, en: str, zh: str, comment: str = "", replace: bool = False) -> None:
    """Add ``code`` with its two texts to its domain's PO files."""
    if "." not in code:
        raise SystemExit(f"code {code!r}: write it as domain.module.what (e.g. geo.tables.empty)")
    if fields(en) != fields(zh):
        fe, fz = sorted(fields(en)), sorted(fields(zh))
        raise SystemExit(f"{code}: the fields differ: en {fe}, zh {fz}")
    domain = code.split(".", 1)[0]
    for lang, value in (("en", en), ("zh", zh)):
        locale = LOCALES[lang]
        cat = load(locale, domain)
        if code in cat and not replace:
            raise SystemExit(f"{code} is already in {po_path(locale, domain)}; pass --replace")
        if code in cat:
            # Babel's Catalog.add keeps an existing entry's text: replace it explicitly.
            cat.delete(code)
        cat.add(code, value, auto_comments=[comment] if comment else ())
        save(cat, locale, domain)


def problems() -> list[str]:
    """Codes missing a language, empty texts, fields that differ between languages."""
    out: list[str] = []
    per_lang: dict[str, dict[str, str]] = {}
    for lang, locale in LOCALES.items():
        texts: dict[str, str] = {}
        for po in sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po")):
            with po.open("rb") as fh:
                cat = read_po(fh, locale=locale, domain=po.stem)
            for entry in cat:
                if not entry.id:
                    continue
                code = str(entry.id)
                if code.split(".", 1)[0] != po.stem:
                    out.append(f"{po}: {code} belongs in {code.split('.', 1)[0]}.po")
                if code in texts:
                    out.append(f"{po}: {code} appears twice")
                if not entry.string:
                    out.append(f"{po}: {code} has no text")
                texts[code] = str(entry.string or "")
        per_lang[lang] = texts
    zh, en = per_lang["zh"], per_lang["en"]
    for code in sorted(set(zh) ^ set(en)):
        out.append(f"{code}: only in {'zh_CN' if code in zh else 'en'}")
    for code in sorted(set(zh) & set(en)):
        try:
            fz, fe = fields(zh[code]), fields(en[code])
        except ValueError as exc:
            out.append(f"{code}: unreadable fields ({exc})")
            continue
        if fz != fe:
            out.append(f"{code}: fields differ (zh {sorted(fz)}, en {sorted(fe)})")
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_add = sub.add_parser("add", help="add a code in both languages")
    p_add.add_argument("code")
    p_add.add_argument("--en", required=True)
    p_add.add_argument("--zh", required=True)
    p_add.add_argument("--comment", default="")
    p_add.add_argument("--replace", action="store_true")
    sub.add_parser("check", help="list problems")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.cmd == "add":
        add(args.code, en=args.en, zh=args.zh, comment=args.comment, replace=args.replace)
        return 0
    found = problems()
    for line in found:
        logger.info("%s", line)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
