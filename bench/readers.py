"""The Python alternatives to lc_core's streaming readers, written the fair streaming way, for
`make bench`. Each prints one JSON line like `lc-bench`: items read, file bytes, and the seconds
the reading took inside the process (interpreter start-up excluded).

    readers.py export-count FILE     ElementTree.iterparse, elements cleared as they end; counts
                                     resources and hashes the bytes (SHA-256) as summarize does
    readers.py export-records FILE   the same, reading every resource's and community's attributes
                                     as lc_core::export::resources does
    readers.py report-rows FILE      html.parser.HTMLParser subclass fed 64 KiB at a time; keeps
                                     only the current row's cell text and counts the data rows
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

CHUNK = 64 * 1024


class HashingFile:
    """A binary file whose bytes are hashed as iterparse reads them."""

    def __init__(self, path: str):
        self.f = open(path, "rb")
        self.sha = hashlib.sha256()
        self.bytes = 0

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.sha.update(data)
        self.bytes += len(data)
        return data

    def close(self) -> None:
        self.f.close()


def export_read(path: str, records: bool) -> dict:
    start = time.perf_counter()
    source = HashingFile(path)
    items = 0
    chars = 0
    root = None
    depth = 0
    for event, elem in ET.iterparse(source, events=("start", "end")):
        if event == "start":
            depth += 1
            if root is None:
                root = elem
            continue
        depth -= 1
        if depth == 1 and elem.tag == "resource":
            items += 1
            if records:
                chars += len(elem.get("id", "")) + len(elem.get("communityUuid", ""))
                community = elem.find("community")
                if community is not None:
                    chars += sum(len(v) for v in community.attrib.values())
            # Drop what was read: the resource and its children, and the root's reference to it.
            elem.clear()
            root.clear()
    source.close()
    return {"items": items, "bytes": source.bytes, "seconds": time.perf_counter() - start,
            "check": source.sha.hexdigest()[:16] if not records else chars}


class RowCounter(HTMLParser):
    """Counts the data rows of a report table: rows of `<td>` cells after the `<th>` header row.
    Only the current row is kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows = 0
        self.chars = 0
        self.cell: list[str] | None = None
        self.row: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.row = []
        elif tag == "td":
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row:
            self.rows += 1
            self.chars += sum(len(c) for c in self.row)
            self.row = []

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def report_rows(path: str) -> dict:
    start = time.perf_counter()
    parser = RowCounter()
    with open(path, encoding="utf-8") as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            parser.feed(chunk)
    parser.close()
    return {"items": parser.rows, "bytes": os.path.getsize(path),
            "seconds": time.perf_counter() - start, "check": parser.chars}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    what, path = argv
    if what == "export-count":
        out = export_read(path, records=False)
    elif what == "export-records":
        out = export_read(path, records=True)
    elif what == "report-rows":
        out = report_rows(path)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
