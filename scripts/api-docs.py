#!/usr/bin/env python3
"""Writes the API reference (docs/api/*.md, one page per namespace) from the XML documentation files that the Release
build produces for the packages (src/*/bin/Release/net10.0/*.xml), limited to the public API recorded in
src/*/PublicAPI.txt (the XML also documents internals). Run after `dotnet build -c Release`:
    python3 scripts/api-docs.py
"""
import collections
import pathlib
import re
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ["LowRankBias.Torch", "LowRankBias", "LowRankBias.Onnx"]
OUT = ROOT / "docs" / "api"


def text(element):
    """The documentation text of an element, with <see cref> and <paramref> turned into code spans."""
    if element is None:
        return ""
    parts = [element.text or ""]
    for child in element:
        if child.tag in ("see", "seealso"):
            ref = child.get("cref") or child.get("langword") or child.get("href") or ""
            parts.append(f"`{short(ref)}`")
        elif child.tag in ("paramref", "typeparamref"):
            parts.append(f"`{child.get('name')}`")
        elif child.tag == "c":
            parts.append(f"`{text(child)}`")
        elif child.tag == "code":
            parts.append(f"\n```csharp\n{(child.text or '').strip()}\n```\n")
        else:
            parts.append(text(child))
        parts.append(child.tail or "")
    return re.sub(r"[ \t]*\n[ \t]*", " ", "".join(parts)).strip()


def short(cref):
    """T:LowRankBias.Lora.LoraModel -> LoraModel; M:...Type.method(System.Int64) -> Type.method(long)."""
    name = re.sub(r"^[A-Z]:", "", cref)
    args = ""
    if "(" in name:
        name, args = name.split("(", 1)
        args = "(" + simplify(args.rstrip(")")) + ")"
    pieces = name.split(".")
    return ".".join(pieces[-2:]) + args if cref[:2] in ("M:", "P:", "F:", "E:") else pieces[-1]


def simplify(args):
    keywords = {"System.Int64": "long", "System.Int32": "int", "System.Double": "double", "System.Single": "float",
                "System.Boolean": "bool", "System.String": "string", "System.Object": "object", "System.Byte": "byte"}
    for k, v in keywords.items():
        args = args.replace(k, v)
    args = re.sub(r"\b(?:[A-Za-z_][A-Za-z0-9_]*\.)+([A-Za-z_][A-Za-z0-9_]*)", r"\1", args)
    return args.replace("{", "<").replace("}", ">").replace("@", "").replace(",", ", ")


def cell(description):
    """A description inside a Markdown table cell: one line, pipes escaped."""
    return description.replace("|", "\\|").replace("\n", " ")


def public_names(package):
    """Public type names and "Type.member" names from PublicAPI.txt (nested types there use '.', XML uses '.')."""
    types, members = set(), set()
    for line in (ROOT / "src" / package / "PublicAPI.txt").read_text().splitlines():
        if re.match(r"^(sealed |abstract |static )?(class|struct|interface|enum|delegate) ", line):
            types.add(line.split(" : ")[0].split()[-1].split("<")[0])
        else:
            head = line.split("(")[0].split(" : ")[0]
            owner, _, member = head.rpartition(".")
            members.add(f"{owner}.{member.split()[-1].split('<')[0]}")
    return types, members


def main():
    types = collections.OrderedDict()  # full type name -> (summary, [(member, summary)])
    for package in PACKAGES:
        public_types, public_members = public_names(package)
        xml = ROOT / "src" / package / "bin" / "Release" / "net10.0" / f"{package}.xml"
        for member in ET.parse(xml).getroot().iter("member"):
            name = member.get("name")
            kind, full = name[0], name[2:]
            summary = text(member.find("summary"))
            if kind == "T":
                if full.replace("+", ".") in public_types:
                    types.setdefault(full, [summary, []])[0] = summary
            else:
                owner = full.split("(")[0].rsplit(".", 1)[0]
                label = full[len(owner) + 1:]
                bare = label.split("(")[0].split("`")[0].replace("#ctor", "ctor")
                if owner not in public_types or f"{owner}.{bare}" not in public_members:
                    continue
                label = label.replace("#ctor", "constructor")
                if "(" in label:
                    head, args = label.split("(", 1)
                    label = f"{head}({simplify(args.rstrip(')'))})"
                types[owner][1].append((label, summary))

    namespaces = collections.defaultdict(list)
    for full in types:
        # Nested types keep their declaring type in the name; the namespace is the longest known prefix.
        ns = full.rsplit(".", 1)[0]
        while ns in types:
            ns = ns.rsplit(".", 1)[0]
        namespaces[ns].append(full)

    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.md"):
        old.unlink()
    index = ["# API reference", "", "Generated from the XML documentation by `python3 scripts/api-docs.py`.", ""]
    for ns in sorted(namespaces):
        page = [f"# {ns}", ""]
        for full in sorted(namespaces[ns]):
            summary, members = types[full]
            page += [f"## {full[len(ns) + 1:]}", "", summary, ""]
            if members:
                page += ["| member | description |", "|---|---|"]
                page += [f"| `{label}` | {cell(desc)} |" for label, desc in members]
                page.append("")
        (OUT / f"{ns}.md").write_text("\n".join(page))
        index.append(f"- [{ns}]({ns}.md): {len(namespaces[ns])} types")
    (OUT / "README.md").write_text("\n".join(index) + "\n")


if __name__ == "__main__":
    main()
