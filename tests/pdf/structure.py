"""Print what a tagged PDF tells assistive technology, as JSON.

Usage: python3 structure.py FILE.pdf

Reads the catalog (/Lang, /MarkInfo, /ViewerPreferences /DisplayDocTitle,
the PDF/UA identifier in the XMP metadata), walks the structure tree
(element counts, each /Figure's /Alt, /TH scopes, headings), lists the link
annotations and the outline (bookmarks). Used by tests/pdf.rs.
"""
import collections
import json
import sys

import pikepdf


def main(path):
    pdf = pikepdf.open(path)
    root = pdf.Root
    meta = pdf.open_metadata()
    counts = collections.Counter()
    figures, th_scopes, artifacts_ok = [], [], True

    def walk(node):
        if isinstance(node, pikepdf.Array):
            for kid in node:
                walk(kid)
            return
        if not isinstance(node, pikepdf.Dictionary) or node.get("/S") is None:
            return  # marked-content or object references
        name = str(node.S)[1:]
        counts[name] += 1
        if name == "Figure":
            figures.append(str(node.get("/Alt", "")))
        if name == "TH":
            attrs = node.get("/A")
            attrs = attrs if isinstance(attrs, pikepdf.Array) else [attrs] if attrs is not None else []
            scope = next((str(a.Scope)[1:] for a in attrs if isinstance(a, pikepdf.Dictionary) and "/Scope" in a), None)
            th_scopes.append(scope)
        if "/K" in node:
            walk(node.K)

    walk(root.StructTreeRoot.K)

    links = []
    for number, page in enumerate(pdf.pages, 1):
        for annot in page.get("/Annots", []):
            if str(annot.Subtype) != "/Link":
                continue
            action = annot.get("/A")
            uri = str(action.URI) if action is not None and "/URI" in action else None
            links.append({"page": number, "uri": uri, "tagged": "/StructParent" in annot})

    # Text drawn inside /Artifact marked content (running header and footer)
    # and inside tagged marked content, page by page.
    artifact_text, tagged_text, untagged_text = [], [], []
    for page in pdf.pages:
        stack, art, tag, loose = [], 0, 0, 0
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op in ("BDC", "BMC"):
                stack.append(str(operands[0]))
            elif op == "EMC" and stack:
                stack.pop()
            elif op in ("Tj", "TJ", "'", '"'):
                if "/Artifact" in stack:
                    art += 1
                elif stack:
                    tag += 1
                else:
                    loose += 1
        artifact_text.append(art)
        tagged_text.append(tag)
        untagged_text.append(loose)

    def outline(items):
        return [{"title": str(i.title), "children": outline(i.children)} for i in items]

    with pdf.open_outline() as o:
        bookmarks = outline(o.root)

    print(json.dumps({
        "lang": str(root.get("/Lang", "")),
        "marked": bool(root.get("/MarkInfo", {}).get("/Marked", False)),
        "display_doc_title": bool(root.get("/ViewerPreferences", {}).get("/DisplayDocTitle", False)),
        "pdfua_part": meta.get("pdfuaid:part"),
        "title": meta.get("dc:title"),
        "counts": dict(sorted(counts.items())),
        "figures": figures,
        "th_scopes": th_scopes,
        "links": links,
        "bookmarks": bookmarks,
        "pages": len(pdf.pages),
        "artifact_text_per_page": artifact_text,
        "tagged_text_per_page": tagged_text,
        "untagged_text_per_page": untagged_text,
        "media_boxes": sorted({tuple(round(float(x), 1) for x in p.MediaBox) for p in pdf.pages}),
    }, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
