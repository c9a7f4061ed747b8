#!/usr/bin/env python3
"""Regenerate ``luoghi.tsv`` (codici catastali of comuni and foreign states).

Source
------
The JSON data files shipped in the wheel of the PyPI package
``python-codicefiscale`` (Fabio Caccamo, MIT licence,
https://github.com/fabiocaccamo/python-codicefiscale):

- ``codicefiscale/data/municipalities.json``: every comune, current and
  ceased, with one entry per validity period; the package regenerates it
  every week from ANPR's "Archivio storico dei comuni"
  (https://www.anagrafenazionale.interno.it/area-tecnica/archivio-storico-dei-comuni/,
  Ministero dell'Interno);
- ``codicefiscale/data/countries.json`` and ``deleted-countries.json``:
  foreign states (Z codes), current and ceased, after ISTAT's "Elenco dei
  codici e delle denominazioni delle unita' territoriali estere";
- ``countries-patch.json`` / ``municipalities-patch.json``: the package's
  own corrections (applied here as the package applies them).

Usage
-----
::

    pip download python-codicefiscale==0.12.1 --no-deps -d /tmp/pcf
    # wheel SHA-256 403f029ce8a184650d969ef0eb604b3457128dff4b057de1ee40a56f0674733d
    unzip -oq /tmp/pcf/python_codicefiscale-0.12.1-py3-none-any.whl -d /tmp/pcf/w
    python3 crates/domain/data/make_luoghi.py /tmp/pcf/w/codicefiscale/data \\
        > crates/domain/data/luoghi.tsv

What the script does
--------------------
1. Drops entries whose code is not a codice catastale (ANPR lists a few
   old comuni as ``ND``, "not defined").
2. For each code, sorts the validity periods by start date and merges
   consecutive periods that carry the same name and province (ANPR opens
   a new period at every territorial change that does not touch the
   name), keeping the end date of the last one: the file records, per
   code, each name/province the place bore and the day it stopped bearing
   it (empty while in force).
3. Restores Italian capitalisation: the package title-cases ANPR's
   upper-case names ("Acquaviva Delle Fonti"); articles and prepositions
   after the first word go back to lower case ("Acquaviva delle Fonti",
   "Campione d'Italia", "Ca' de' Stefani", "Sotto il Monte Giovanni
   XXIII"), as in ISTAT's list of comuni.
4. Repairs the few names the source carries mis-encoded or spelt with
   an apostrophe for an accent (``COMUNE_FIXES``, ``COUNTRY_FIXES``) and
   refuses to write a name that still looks mis-encoded.
5. Writes ``code<TAB>name<TAB>province<TAB>ceased``, sorted by code and
   then by ceased date, the entry in force (empty date) last.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SOURCE = "python-codicefiscale 0.12.1 (PyPI)"

# Words written in lower case when they are not the first word of a name.
PARTICLES = {
    "di", "del", "dello", "della", "dei", "degli", "delle", "de", "de'",
    "da", "dal", "dallo", "dalla", "dai", "dagli", "dalle",
    "a", "al", "allo", "alla", "ai", "agli", "alle",
    "in", "nel", "nello", "nella", "nei", "negli", "nelle", "ne'",
    "su", "sul", "sullo", "sulla", "sui", "sugli", "sulle",
    "con", "e", "ed", "il", "lo", "la", "le", "li", "i", "gli", "presso",
    "ob",  # Slovene "by", in "Savogna d'Isonzo-Sovodnje ob Soči"
}
# Elided forms ("D'Italia", "Dell'Emilia"): lower-cased likewise.
ELIDED = {"d'", "dell'", "all'", "nell'", "sull'", "dall'", "l'", "coll'"}
# French particles inside hyphenated names of the Aosta valley.
HYPHEN_PARTICLES = {"en", "du", "des", "de"}
ROMAN = re.compile(r"^[IVX]{2,}$", re.IGNORECASE)

# A comune name that the source carries in mojibake (UTF-8 "Š" read as
# Latin-1): the Slovene name of San Floriano del Collio is Števerjan.
COMUNE_FIXES = {
    "San Floriano Del Collio-\u00c5 Teverjan": "San Floriano Del Collio-\u0160teverjan",
}
MOJIBAKE = re.compile("[\u00c3\u00c5\u00c2]")

# Country names that the source spells with an apostrophe for an accent.
COUNTRY_FIXES = {
    "Sao Tome' E Principe": "São Tomé e Príncipe",
    "Stato Citta' Del Vaticano": "Stato della Città del Vaticano",
}


def fix_word(word: str, first: bool) -> str:
    if ROMAN.match(word) and word.lower() not in PARTICLES:
        return word.upper()
    if "-" in word:
        head, *tail = word.split("-")
        return "-".join(
            [fix_word(head, first)]
            + [p.lower() if p.lower() in HYPHEN_PARTICLES else p for p in tail]
        )
    if first:
        return word
    low = word.lower()
    if low in PARTICLES:
        return low
    for prefix in ELIDED:
        if low.startswith(prefix) and len(word) > len(prefix):
            return low[: len(prefix)] + word[len(prefix):]
    return word


def italian_case(name: str) -> str:
    words = name.split(" ")
    return " ".join(fix_word(w, i == 0) for i, w in enumerate(words))


def day(value: str) -> str:
    # ISO date part; the source has one malformed "1934-01-01:T00:00:00".
    return value[:10]


def load(directory: Path, name: str) -> list[dict]:
    return json.loads((directory / name).read_text(encoding="utf-8"))


def main() -> None:
    directory = Path(sys.argv[1])
    comuni = load(directory, "municipalities.json")
    known = {json.dumps(c, sort_keys=True) for c in comuni}
    for extra in load(directory, "municipalities-patch.json"):
        if json.dumps(extra, sort_keys=True) not in known:
            comuni.append(extra)
    states = {
        c["code"]: c
        for c in load(directory, "deleted-countries.json")
        + load(directory, "countries.json")
    }
    for patch in load(directory, "countries-patch.json"):
        states[patch["code"]] = patch

    by_code: dict[str, list[dict]] = {}
    for c in comuni:
        if re.fullmatch(r"[A-Z][0-9]{3}", c["code"]) and not c["code"].startswith("Z"):
            by_code.setdefault(c["code"], []).append(c)

    rows: list[tuple[str, str, str, str]] = []
    for code, periods in by_code.items():
        periods.sort(key=lambda p: (day(p["date_created"]), day(p["date_deleted"]) or "9999"))
        merged: list[list[str]] = []
        for p in periods:
            name = COMUNE_FIXES.get(p["name"], p["name"])
            province, ceased = p["province"], day(p["date_deleted"])
            if merged and merged[-1][0] == name and merged[-1][1] == province:
                merged[-1][2] = ceased
            else:
                merged.append([name, province, ceased])
        for name, province, ceased in merged:
            rows.append((code, italian_case(name), province, ceased))

    for code, state in states.items():
        if not re.fullmatch(r"Z[0-9]{3}", code):
            continue
        name = COUNTRY_FIXES.get(state["name"], state["name"])
        rows.append((code, italian_case(name), "", day(state["date_deleted"])))

    for row in rows:
        if MOJIBAKE.search(row[1]):
            sys.exit(f"mis-encoded name, add it to COMUNE_FIXES: {row}")
    rows.sort(key=lambda r: (r[0], r[3] or "9999-99-99"))
    out = sys.stdout
    out.write(
        "# Codici catastali (Belfiore codes) of Italian comuni, current and ceased, and of\n"
        "# foreign states (Z codes), current and ceased. Columns, tab-separated:\n"
        "#   code  name  province (sigla; empty for states)  ceased (last day in force, YYYY-MM-DD; empty if in force)\n"
        "# One line per name/province a code bore; the line in force is the last of its code.\n"
        f"# Generated by make_luoghi.py from {SOURCE}, MIT licence, (c) 2017-present Fabio Caccamo,\n"
        "# whose data derive from ANPR's Archivio storico dei comuni (Ministero dell'Interno) and\n"
        "# ISTAT's list of foreign territorial units; open public data (CAD art. 52), ISTAT CC BY 4.0.\n"
        "# MIT licence text: LICENSE-python-codicefiscale.txt; sources and regeneration: README.md.\n"
    )
    for row in rows:
        out.write("\t".join(row) + "\n")


if __name__ == "__main__":
    main()
