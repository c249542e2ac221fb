#!/usr/bin/env python3
"""Reads DOCX files with python-docx and prints one JSON object per file (for tests/agreement_render.rs).

Usage: read_docx.py FILE.docx [FILE.docx ...]
Output per file: {"file", "paragraphs": [[style, text]], "tables": [[[cell text]]], "header", "footer",
"footer_fields"}. Exits 2 when python-docx is not installed, 1 when a file cannot be read.
"""
import json
import sys

try:
    import docx  # python-docx
except ImportError:
    sys.stderr.write("python-docx is not installed (pip install python-docx)\n")
    sys.exit(2)


def read(path):
    d = docx.Document(path)
    paragraphs = [[p.style.name if p.style is not None else None, p.text] for p in d.paragraphs]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in d.tables]
    section = d.sections[0]
    header = "\n".join(p.text for p in section.header.paragraphs)
    footer = "\n".join(p.text for p in section.footer.paragraphs)
    footer_xml = section.footer._element.xml
    fields = [f for f in ("NUMPAGES", "PAGE") if f in footer_xml]
    return {
        "file": path,
        "paragraphs": paragraphs,
        "tables": tables,
        "header": header,
        "footer": footer,
        "footer_fields": fields,
    }


def main():
    out = []
    for path in sys.argv[1:]:
        try:
            out.append(read(path))
        except Exception as e:  # report which file failed
            sys.stderr.write(f"{path}: {e}\n")
            sys.exit(1)
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
