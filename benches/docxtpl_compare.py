#!/usr/bin/env python3
"""Renders the standard three-party agreement through docxtpl, for comparison with samverkan.

The Word template is made from samverkan's own contract template (`contract-templates/<lang>/three-party.hbs`
with its partials inlined), translated mechanically from Handlebars to docxtpl's Jinja: the same text, the
same conditions and loops, one Word paragraph per markup line (tables are flattened into paragraphs,
which only makes docxtpl's job easier). The data are the same view samverkan's templates see, written
by `cargo bench --bench agreement` to a JSON file.

Usage: docxtpl_compare.py --view VIEW.json [--templates DIR] [--lang sv] [--iterations 50] [--out FILE.docx]
Prints one JSON line: {"tool": "docxtpl", "iterations": N, "mean_ms": ..., "min_ms": ...}.
Needs: pip install docxtpl (brings python-docx and Jinja2).
"""
import argparse
import io
import json
import os
import re
import sys
import tempfile
import time

try:
    import docx
    from docxtpl import DocxTemplate
    import jinja2
except ImportError as e:  # pragma: no cover
    sys.stderr.write(f"docxtpl is not installed ({e}); pip install docxtpl\n")
    sys.exit(2)

MONTHS = {
    "sv": ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
           "oktober", "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"],
}


def filters(lang):
    def date(s):
        y, m, d = (int(x) for x in s.split("-"))
        return f"{d} {MONTHS[lang][m - 1]} {y}"

    def money(ore):
        kr, o = divmod(int(ore), 100)
        digits = f"{kr:,}"
        if lang == "sv":
            return digits.replace(",", "\u00a0") + f",{o:02}\u00a0kr"
        return f"SEK\u00a0{digits}.{o:02}"

    def percent(bp):
        whole, frac = divmod(int(bp), 100)
        n = str(whole) if frac == 0 else f"{whole}{',' if lang == 'sv' else '.'}{frac:02}".rstrip("0")
        return f"{n}\u00a0%" if lang == "sv" else f"{n}%"

    return {"date": date, "money": money, "percent": percent}


TAG = re.compile(r"\{\{(.*?)\}\}")


def inline_partials(text, partials_dir):
    text = re.sub(r"\{\{!--.*?--\}\}", "", text, flags=re.S)

    def repl(m):
        with open(os.path.join(partials_dir, m.group(1).strip() + ".hbs"), encoding="utf-8") as f:
            return inline_partials(f.read(), partials_dir)

    return re.sub(r"\{\{>\s*([\w-]+)\s*\}\}", repl, text)


def translate(hbs):
    """Handlebars (our subset) → Jinja, one output line per input line."""
    stack = []  # loop variables of open {{#each}} blocks
    out_lines = []

    def path(p):
        p = p.strip()
        if p == "this":
            return stack[-1] if stack else "this"
        if p == "@first":
            return "loop.first"
        if p.startswith("this."):
            p = p[5:]
        p = p.replace("/", ".")
        return f"{stack[-1]}.{p}" if stack else p

    def tag(expr):
        expr = expr.strip()
        if expr.startswith("#each "):
            var = f"it{len(stack)}"
            src = path(expr[6:])
            stack.append(var)
            return f"{{% for {var} in {src} %}}", True
        if expr == "/each":
            stack.pop()
            return "{% endfor %}", True
        if expr.startswith("#if "):
            return f"{{% if {path(expr[4:])} %}}", True
        if expr.startswith("#unless "):
            return f"{{% if not {path(expr[8:])} %}}", True
        if expr == "else":
            return "{% else %}", True
        if expr in ("/if", "/unless"):
            return "{% endif %}", True
        parts = expr.split()
        if parts[0] in ("date", "money", "percent"):
            return f"{{{{ {path(parts[1])}|{parts[0]} }}}}", False
        return f"{{{{ {path(expr)} }}}}", False

    for line in hbs.splitlines():
        tags = TAG.findall(line)
        rest = TAG.sub("", line).strip()
        if len(tags) == 1 and not rest and tags[0].strip()[:1] in "#/" or tags == ["else"] and not rest:
            jinja, _ = tag(tags[0])
            out_lines.append(jinja.replace("{% ", "{%p ", 1))  # a paragraph-level tag
        else:
            out_lines.append(TAG.sub(lambda m: tag(m.group(1))[0], line))
    return out_lines


def build_template(templates, lang, path):
    with open(os.path.join(templates, lang, "three-party.hbs"), encoding="utf-8") as f:
        hbs = inline_partials(f.read(), os.path.join(templates, lang, "partials"))
    d = docx.Document()
    for line in translate(hbs):
        s = line.strip()
        if not s:
            continue
        if s.startswith("# "):
            d.add_paragraph(s[2:], style="Title")
        elif s.startswith("§ ") or s.startswith("## ") or s.startswith("@appendix "):
            d.add_paragraph(s.split(":", 1)[-1].strip() if s.startswith(("§", "@")) else s[3:], style="Heading 1")
        elif s.startswith("- "):
            d.add_paragraph(s[2:], style="List Bullet")
        elif s.startswith("+ "):
            d.add_paragraph(s[2:], style="List Number")
        else:
            d.add_paragraph(s)
    section = d.sections[0]
    section.header.paragraphs[0].text = "Avtal nr {{ agreement_number }}, version {{ version }}"
    d.save(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--view", required=True)
    ap.add_argument("--templates", default=os.path.join(os.path.dirname(__file__), "..", "contract-templates"))
    ap.add_argument("--lang", default="sv")
    ap.add_argument("--iterations", type=int, default=50)
    ap.add_argument("--out")
    a = ap.parse_args()
    with open(a.view, encoding="utf-8") as f:
        view = json.load(f)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters.update(filters(a.lang))
    with tempfile.TemporaryDirectory() as tmp:
        tpl = os.path.join(tmp, "three-party.docx")
        build_template(a.templates, a.lang, tpl)
        times = []
        data = b""
        for _ in range(a.iterations):
            t0 = time.perf_counter()
            doc = DocxTemplate(tpl)
            doc.render(view, jinja_env=env, autoescape=True)
            buf = io.BytesIO()
            doc.save(buf)
            data = buf.getvalue()
            times.append((time.perf_counter() - t0) * 1000.0)
        if a.out:
            with open(a.out, "wb") as f:
                f.write(data)
        text = "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
        assert view["company"]["name"] in text, "docxtpl output lacks the company"
        print(json.dumps({
            "tool": "docxtpl",
            "iterations": a.iterations,
            "mean_ms": sum(times) / len(times),
            "min_ms": min(times),
            "bytes": len(data),
        }))


if __name__ == "__main__":
    main()
