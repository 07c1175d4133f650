"""Writes the option facts of every binary module's documentation from the module itself.

Each module binary prints its argument spec with ``<binary> --argspec`` (lc_core's
``ArgSpec::describe``): names, types, list elements, required, defaults, choices, aliases,
no_log, and the rules between options. This script rewrites, in each sidecar
``ansible/plugins/modules/<module>.yml`` and in the ``connections.dr.wsadmin`` doc fragment:

- the ``options`` block: every option in the spec's order, with its hand-written
  ``description`` (and ``suboptions`` or ``version_added`` if any) kept as written, and
  ``type``, ``elements``, ``required``, ``default``, ``choices`` and ``aliases`` from the spec;
- the notes that state the rules (mutually exclusive options, options required when another has
  a value, one of several required, secrets): generated, first in ``notes``; every other note is
  kept as written.

The options of the doc fragment are those every lc_* module shares (the fragment's own list);
they must be the same in each module that extends it. An option the module takes without a
description, or one documented that the module does not take, is an error naming the file.

    python tools/module_docs.py [--check] BIN_DIR MODULE...

``--check`` writes nothing and fails, naming the files, when any would change (``make test``).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
MODULES_DIR = REPO / "ansible" / "plugins" / "modules"
FRAGMENT = REPO / "ansible" / "plugins" / "doc_fragments" / "wsadmin.py"
FRAGMENT_NAME = "connections.dr.wsadmin"
# What stays as written in an option's documentation; everything else comes from the spec.
KEPT = ("description", "suboptions", "version_added")
WIDTH = 100


class DocError(Exception):
    pass


def spec_of(bin_dir: Path, module: str) -> dict:
    proc = subprocess.run([str(bin_dir / module), "--argspec"], capture_output=True, text=True, timeout=30)
    try:
        out = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise DocError(f"{bin_dir / module} --argspec printed no spec (built from an older source? run make build)")
    return out["spec"]


def flow(v) -> str:
    """A value as YAML flow text: [a, b], {k: v}, quoted only where YAML needs it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        text = yaml.safe_dump(v, default_flow_style=True, width=10**6).strip()
        text = text.removesuffix("...").strip()
        if any(c in text for c in ",[]{}") and not text.startswith(("'", '"')):
            text = "'" + text.replace("'", "''") + "'"
        return text
    if isinstance(v, list):
        return "[" + ", ".join(flow(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{flow(k)}: {flow(x)}" for k, x in v.items()) + "}"
    raise DocError(f"cannot write {v!r} as YAML")


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def block(lines: list[str], key: str, base: int, start: int = 0) -> tuple[int, int] | None:
    """(first, end) of the lines below ``key:`` at indentation ``base``: from the line after the key
    to the next line at ``base`` or less (blank lines at its end left out)."""
    head = " " * base + key + ":"
    for i in range(start, len(lines)):
        if lines[i].rstrip("\n").rstrip() == head:
            end = i + 1
            while end < len(lines) and (not lines[end].strip() or indent_of(lines[end]) > base):
                end += 1
            while end > i + 1 and not lines[end - 1].strip():
                end -= 1
            return i + 1, end
    return None


def read_options(lines: list[str], where: str, base: int) -> dict[str, dict[str, list[str]]]:
    """Each option's documented keys, as their raw lines."""
    out: dict[str, dict[str, list[str]]] = {}
    current = None
    key = None
    for n, line in enumerate(lines):
        if not line.strip():
            if current is not None and key is not None:
                out[current][key].append(line)
            continue
        ind = indent_of(line)
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$", line.strip())
        if ind == base + 2 and m and not m.group(2):
            current, key = m.group(1), None
            out[current] = {}
        elif ind == base + 4 and m and current is not None:
            key = m.group(1)
            out[current][key] = [line]
        elif ind > base + 4 and key is not None:
            out[current][key].append(line)
        else:
            raise DocError(f"{where}: cannot read this line of the options: {line.strip()!r}")
    for keys in out.values():
        for k, raw in keys.items():
            while raw and not raw[-1].strip():
                raw.pop()
    return out


def option_lines(name: str, opt: dict, documented: dict[str, list[str]], base: int, where: str) -> list[str]:
    if "description" not in documented:
        raise DocError(f"{where}: option {name} has no description: write one")
    pad = " " * (base + 4)
    out = [" " * (base + 2) + name + ":\n"]
    for k in KEPT:
        out += documented.get(k, [])
    out.append(f"{pad}type: {opt['type']}\n")
    if opt["elements"]:
        out.append(f"{pad}elements: {opt['elements']}\n")
    if opt["required"]:
        out.append(f"{pad}required: true\n")
    if opt["default"] is not None:
        out.append(f"{pad}default: {flow(opt['default'])}\n")
    if opt["choices"]:
        out.append(f"{pad}choices: {flow(opt['choices'])}\n")
    if opt["aliases"]:
        out.append(f"{pad}aliases: {flow(opt['aliases'])}\n")
    return out


def o(name: str) -> str:
    return f"O({name})"


def and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def rule_notes(spec: dict, options: list[dict]) -> list[str]:
    notes = []
    for group in spec["mutually_exclusive"]:
        notes.append(f"{and_list([o(n) for n in group])} are mutually exclusive.")
    for key, value, needed in spec["required_if"]:
        verb = "is" if len(needed) == 1 else "are"
        notes.append(f"{and_list([o(n) for n in needed])} {verb} required when {o(key)} is V({value}).")
    for group in spec["required_one_of"]:
        notes.append(f"One of {and_list([o(n) for n in group])} is required.")
    for opt in options:
        if opt["no_log"]:
            notes.append(f"{o(opt['name'])} is a secret (no_log), masked in the task's result and never printed.")
    return notes


RULE = re.compile(r"are mutually exclusive\.$|(is|are) required when O\(\w+\) is V\([^)]*\)\.$|^One of .* is required\.$"
                  r"|is a secret \(no_log\), ")


def rewrite_notes(lines: list[str], generated: list[str], base: int, after: int, where: str) -> list[str]:
    """The notes block with the generated notes first and every other note as it was; inserted
    at ``after`` when there is none."""
    found = block(lines, "notes", base)
    items: list[list[str]] = []
    if found:
        first, end = found
        for line in lines[first:end]:
            if line.strip().startswith("- ") and indent_of(line) == base + 2:
                items.append([line])
            elif items:
                items[-1].append(line)
            else:
                raise DocError(f"{where}: cannot read this line of the notes: {line.strip()!r}")
    kept = [item for item in items if not RULE.search(" ".join(x.strip() for x in item).removeprefix("- "))]
    new = []
    for text in generated:
        wrapped = textwrap.wrap(text, width=WIDTH - base - 4)
        new.append(" " * (base + 2) + "- " + wrapped[0] + "\n")
        new += [" " * (base + 4) + w + "\n" for w in wrapped[1:]]
    body = new + [x for item in kept for x in item]
    if found:
        return lines[:first] + body + lines[end:]
    if not body:
        return lines
    return lines[:after] + [" " * base + "notes:\n"] + body + lines[after:]


def rewrite(text: str, spec: dict, base: int, where: str, only: set[str] | None, skip: set[str]) -> str:
    """``text`` with its options block (at indentation ``base``) and rule notes written from
    ``spec``; ``only`` keeps just those options (the fragment), ``skip`` leaves those out (a
    module's options that the fragment documents)."""
    lines = text.splitlines(keepends=True)
    found = block(lines, "options", base)
    if not found:
        raise DocError(f"{where}: no options block")
    first, end = found
    documented = read_options(lines[first:end], where, base)
    options = [opt for opt in spec["options"]
               if (only is None or opt["name"] in only) and opt["name"] not in skip]
    taken = {opt["name"] for opt in options}
    extra = sorted(set(documented) - taken)
    if extra:
        raise DocError(f"{where}: {', '.join(extra)} documented, but the module does not take "
                       f"{'it' if len(extra) == 1 else 'them'}")
    body = [x for opt in options for x in option_lines(opt["name"], opt, documented.get(opt["name"], {}), base, where)]
    lines = lines[:first] + body + lines[end:]
    return "".join(rewrite_notes(lines, rule_notes(own_rules(spec, skip), options), base, first + len(body), where))


def own_rules(spec: dict, skip: set[str]) -> dict:
    """The spec's rules, without those only about the fragment's options (the fragment has none)."""
    return {k: [g for g in spec[k] if not set(g if k != "required_if" else [g[0], *g[2]]) <= skip]
            for k in ("mutually_exclusive", "required_if", "required_one_of")}


def fragment_parts(text: str) -> tuple[str, str, str]:
    m = re.search(r'(DOCUMENTATION = r""")(.*?)(""")', text, re.S)
    if not m:
        raise DocError(f"{FRAGMENT}: no DOCUMENTATION string")
    return text[:m.end(1)], m.group(2), text[m.start(3):]


def check_notes(doc: dict, spec: dict, options: list[dict], where: str) -> None:
    """Every generated note reads back from the written text as the one string it is."""
    read = [" ".join(n.split()) for n in doc.get("notes") or [] if isinstance(n, str)]
    for note in rule_notes(spec, options):
        if note not in read:
            raise DocError(f"{where}: the note {note!r} does not read back as written")


def check_against_spec(doc_options: dict, options: list[dict], where: str) -> None:
    """What YAML reads back from the written text is what the spec says (the writer's own check)."""
    for opt in options:
        got = doc_options[opt["name"]]
        want = {"type": opt["type"], "elements": opt["elements"], "required": opt["required"] or None,
                "default": opt["default"], "choices": opt["choices"], "aliases": opt["aliases"] or None}
        read = {k: got.get(k) for k in want}
        if read != want:
            raise DocError(f"{where}: option {opt['name']} reads back as {read}, not {want}")


def main(argv: list[str]) -> int:
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    if len(args) < 2:
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        return 2
    bin_dir, modules = Path(args[0]), args[1:]
    fragment_text = FRAGMENT.read_text(encoding="utf-8")
    head, frag_doc, tail = fragment_parts(fragment_text)
    frag_names = set(yaml.safe_load(frag_doc)["options"])
    frag_spec = None
    changed = {}
    try:
        for module in modules:
            spec = spec_of(bin_dir, module)
            path = MODULES_DIR / f"{module}.yml"
            text = path.read_text(encoding="utf-8")
            doc = yaml.safe_load(text)["DOCUMENTATION"]
            extends = FRAGMENT_NAME in (doc.get("extends_documentation_fragment") or [])
            skip = set()
            if extends:
                shared = [opt for opt in spec["options"] if opt["name"] in frag_names]
                missing = frag_names - {opt["name"] for opt in shared}
                if missing:
                    raise DocError(f"{path}: extends {FRAGMENT_NAME} but does not take {', '.join(sorted(missing))}")
                if frag_spec is None:
                    frag_spec = {"options": shared, "mutually_exclusive": [], "required_if": [], "required_one_of": []}
                elif shared != frag_spec["options"]:
                    raise DocError(f"{path}: its wsadmin options differ from those of the other modules "
                                   f"({FRAGMENT_NAME} documents them once)")
                skip = frag_names
            new = rewrite(text, spec, 2, str(path), None, skip)
            own = [x for x in spec["options"] if x["name"] not in skip]
            check_against_spec(yaml.safe_load(new)["DOCUMENTATION"]["options"], own, str(path))
            check_notes(yaml.safe_load(new)["DOCUMENTATION"], own_rules(spec, skip), own, str(path))
            if new != text:
                changed[path] = new
        if frag_spec is not None:
            new_doc = rewrite(frag_doc, frag_spec, 0, str(FRAGMENT), frag_names, set())
            check_against_spec(yaml.safe_load(new_doc)["options"], frag_spec["options"], str(FRAGMENT))
            check_notes(yaml.safe_load(new_doc), frag_spec, frag_spec["options"], str(FRAGMENT))
            new = head + new_doc + tail
            if new != fragment_text:
                changed[FRAGMENT] = new
    except DocError as e:
        print(f"module docs: {e}", file=sys.stderr)
        return 1
    if check:
        if changed:
            names = ", ".join(str(p.relative_to(REPO)) for p in changed)
            print(f"module docs out of date: {names}: run `make docs`", file=sys.stderr)
            return 1
        return 0
    for path, text in changed.items():
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
