#!/usr/bin/env python3
"""Validate UBL invoices and credit notes against the Peppol BIS Billing 3.0 rules (issue 15, item 7).

The rules are the two Schematron files in shared/peppol-rules/ (EN 16931 bound to UBL, and the
Peppol BIS 3 rules with the national ones such as SE-R-*). Each is compiled to XSLT once per
machine and cached; each UBL file is then transformed to an SVRL report with Saxon-HE (saxonche,
PyPI). Every failed assert is printed with its rule id and flag; the exit status is 1 when any has
flag="fatal", 2 on a usage or setup error, 0 otherwise (warnings are printed, not failed).

The Schematron-to-XSLT compiler is the ISO Schematron "skeleton" (Rick Jelliffe et al.) as the lxml
wheel (PyPI) ships it, lxml/isoschematron/resources/xsl/iso-schematron-xslt1: include, abstract
expansion, then iso_svrl_for_xslt1.xsl, each run by Saxon. The rules declare queryBinding="xslt2";
the skeleton's steps are the same for both bindings except that it refuses any binding it does not
name, so the schema is handed to it as "xslt", the XSLT functions the Peppol file declares are
passed through (allow-foreign), and the generated stylesheet is marked version 2.0 so that Saxon
evaluates the rules' XPath 2.0 as written.

Usage: peppol-validate.py [--rules DIR] [--cache DIR] FILE.xml [FILE.xml ...]
  --rules  the folder with the .sch files (default: $PEPPOL_RULES_DIR, else ../shared/peppol-rules
           beside the repository)
  --cache  where compiled XSLT is kept (default: $CARGO_TARGET_DIR/peppol, else
           target/peppol in the repository)
"""
import argparse
import hashlib
import os
import sys
from pathlib import Path

RULE_FILES = ("CEN-EN16931-UBL.sch", "PEPPOL-EN16931-UBL.sch")
SVRL = "http://purl.oclc.org/dsdl/svrl"
XSL = "http://www.w3.org/1999/XSL/Transform"
COMPILER_VERSION = "iso-skeleton-xslt1-as-2.0/1"


def fail_setup(msg):
    print(f"peppol-validate: {msg}", file=sys.stderr)
    sys.exit(2)


try:
    import lxml
    from lxml import etree
    from saxonche import PySaxonProcessor
except ImportError as e:  # pragma: no cover - setup
    fail_setup(f"{e}: install saxonche and lxml (see .ci/run, the venv ~/.cache/samverkan-smtp-venv)")

REPO = Path(__file__).resolve().parent.parent
SKELETON = Path(lxml.__file__).parent / "isoschematron/resources/xsl/iso-schematron-xslt1"


def default_rules():
    env = os.environ.get("PEPPOL_RULES_DIR")
    if env:
        return Path(env)
    for base in (REPO.parent / "shared", REPO.parent.parent / "shared"):
        if (base / "peppol-rules").is_dir():
            return base / "peppol-rules"
    return REPO.parent / "shared" / "peppol-rules"


def default_cache():
    target = os.environ.get("CARGO_TARGET_DIR")
    return Path(target) / "peppol" if target else REPO / "target" / "peppol"


def transform(proc, xslt, stylesheet, text, params=None):
    ex = xslt.compile_stylesheet(stylesheet_file=str(stylesheet))
    for k, v in (params or {}).items():
        ex.set_parameter(k, proc.make_string_value(v))
    doc = proc.parse_xml(xml_text=text)
    return ex.transform_to_string(xdm_node=doc)


def compile_rules(proc, xslt, sch: Path, cache: Path) -> Path:
    """The compiled XSLT of `sch`, from the cache when its source and compiler are unchanged."""
    src = sch.read_bytes()
    h = hashlib.sha256(src + COMPILER_VERSION.encode() + lxml.__version__.encode()).hexdigest()[:16]
    out = cache / f"{sch.stem}-{h}.xsl"
    if out.is_file():
        return out
    text = src.decode("utf-8")
    # The skeleton names the XSLT 1 binding only; the steps are the same for xslt2 (see above).
    text = text.replace('queryBinding="xslt2"', 'queryBinding="xslt"', 1)
    text = transform(proc, xslt, SKELETON / "iso_dsdl_include.xsl", text)
    text = transform(proc, xslt, SKELETON / "iso_abstract_expand.xsl", text)
    text = transform(proc, xslt, SKELETON / "iso_svrl_for_xslt1.xsl", text, {"allow-foreign": "true"})
    root = etree.fromstring(text.encode("utf-8"))
    root.set("version", "2.0")
    cache.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    os.replace(tmp, out)
    return out


def validate(proc, executables, path: Path):
    """(fatal count, lines to print) for one UBL file."""
    fatal = 0
    lines = []
    xml_text = path.read_text(encoding="utf-8")
    for name, ex in executables:
        doc = proc.parse_xml(xml_text=xml_text)
        report = ex.transform_to_string(xdm_node=doc)
        svrl = etree.fromstring(report.encode("utf-8"))
        fired = svrl.findall(f"{{{SVRL}}}fired-rule")
        if not fired:
            lines.append(f"{name}: no rule fired: is {path} a UBL Invoice or CreditNote?")
            fatal += 1
        for fa in svrl.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
            flag = fa.get("flag") or "fatal"
            rid = fa.get("id") or "?"
            msg = " ".join("".join(fa.itertext()).split())
            lines.append(f"{flag.upper()} {rid} at {fa.get('location')}: {msg}")
            if flag == "fatal":
                fatal += 1
    return fatal, lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=Path, default=None)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("files", nargs="+", type=Path)
    a = ap.parse_args()
    rules = a.rules or default_rules()
    cache = a.cache or default_cache()
    for f in RULE_FILES:
        if not (rules / f).is_file():
            fail_setup(f"{rules / f} not found (set --rules or PEPPOL_RULES_DIR)")
    any_fatal = False
    with PySaxonProcessor(license=False) as proc:
        xslt = proc.new_xslt30_processor()
        executables = []
        for f in RULE_FILES:
            compiled = compile_rules(proc, xslt, rules / f, cache)
            executables.append((f, xslt.compile_stylesheet(stylesheet_file=str(compiled))))
        for path in a.files:
            fatal, lines = validate(proc, executables, path)
            status = "FAIL" if fatal else "OK"
            print(f"{status} {path}: {fatal} fatal")
            for line in lines:
                print(f"  {line}")
            any_fatal = any_fatal or fatal > 0
    sys.exit(1 if any_fatal else 0)


if __name__ == "__main__":
    main()
