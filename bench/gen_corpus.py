#!/usr/bin/env python3
"""Generate a deterministic synthetic procdoc site for benchmarks (issue 6).

    python3 bench/gen_corpus.py --n 1000 --seed 1 --out target/bench/n1000

writes
  DIR/          a procdoc site: procdoc.toml and procedures/<slug>/index.md,
                each bundle with its three screenshots screen-1.png..screen-3.png
  DIR-hugo/     the same procedures as a Hugo site (page bundles, a
                render-image hook that resizes every screenshot to 800 px)
  DIR-mdbook/   the same procedures as an mdBook (one chapter per procedure)

The PNGs are hard-linked between the three trees when the file system allows.
Everything is derived from --seed, so two runs with the same N and seed give
byte-identical files; a stamp file makes the second run a no-op.

Python 3 standard library only. The screenshots (1280x800 RGB) are drawn row
by row with bytes operations and compressed with zlib, in worker processes.
"""

import argparse
import json
import multiprocessing
import os
import random
import shutil
import struct
import sys
import time
import zlib

GENERATOR_VERSION = 1
STAMP = ".bench-corpus.json"
W, H = 1280, 800

# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------

CATEGORIES = [
    "E-Filing (CM/ECF)",
    "PACER Accounts",
    "Attorney Admissions",
    "Jury Service",
    "Fees and Payments",
    "Transcripts and Records",
    "Bankruptcy Filings",
    "Courtroom Technology",
]

VERBS = ["File", "Submit", "Request", "Update", "Register", "Pay", "Link",
         "Cancel", "Renew", "Order", "Withdraw", "Review", "Correct", "Upload"]
OBJECTS = ["a Notice of Appearance", "a Pro Hac Vice Motion", "Your E-Filing Account",
           "a Transcript", "Juror Questionnaire Answers", "the Filing Fee",
           "a Certificate of Service", "Exhibits for Trial", "a Sealed Document",
           "Your Mailing Address", "a Bankruptcy Petition", "an Appeal Bond",
           "a Subpoena Form", "Courtroom Equipment", "a Docket Sheet",
           "Your Attorney Bar Status", "a Proposed Order", "a Deficiency Notice"]
QUALIFIERS = ["Online", "in CM/ECF", "Through PACER", "Before a Hearing",
              "After Hours", "for a Closed Case", "by Credit Card", "for a New Case",
              "as a Non-Party", "with a Paper Copy"]
MENUS = ["Civil", "Criminal", "Utilities", "Reports", "Query", "Bankruptcy",
         "Adversary", "Search", "Maintain Your Account", "Payment History",
         "Court Information", "Attorney Services"]
BUTTONS = ["Next", "Submit", "Continue", "Save", "Accept", "Upload", "Pay Now",
           "Confirm", "Search", "Add to List", "Run Report", "Finish"]
FIELDS = ["Case Number", "Document Type", "Filer", "Party Name", "Date Filed",
          "Email Address", "Bar Number", "Amount", "Description", "Attachment",
          "Judge", "Hearing Date"]
PAGES = ["login", "case search", "document upload", "payment", "account settings",
         "docket report", "filer selection", "confirmation", "party list",
         "attachment", "notice of electronic filing", "transaction receipt"]
APPS = ["CM/ECF", "PACER", "Pay.gov", "eJuror", "NextGen CM/ECF", "eTranscript"]
# What the middle of each kind of screenshot holds (see draw_screenshot).
PANELS = ["a form with labelled fields", "a table of results",
          "panels of explanatory text"]
TAILS = ["The page refreshes when the change is saved.",
         "Check the spelling before you go on.",
         "The list shows only cases you are a party to.",
         "The field accepts up to 80 characters.",
         "A message confirms the change at the top of the page.",
         "Leave the other fields as they are.",
         "The clerk's office reviews the request within one business day.",
         "Keep the receipt number for your records."]
REMINDERS = ["Keep your login and password to yourself; do not share the account.",
             "The clerk's office cannot give legal advice.",
             "Filings made after midnight are dated the next day.",
             "Call the help desk at 601-555-0100 if a screen looks different.",
             "Save a PDF copy of every receipt.",
             "Fees are not refunded when a document is filed in error.",
             "Check the docket the next business day to confirm the entry.",
             "Use the most recent version of the form from the court's website.",
             "Documents must be text-searchable PDF files.",
             "Log out when you have finished, especially on a shared computer."]
CALLOUT_TEXTS = ["You need an upgraded PACER account before you start.",
                 "Have the case number and the PDF of the document ready before you start.",
                 "This procedure takes about ten minutes.",
                 "Only attorneys admitted to practice before this court can do this.",
                 "The system is unavailable on Sundays from 6 a.m. to 8 a.m. for maintenance."]
SECTION_A = ["Log in", "Open the case", "Start the event", "Find the form",
             "Prepare the document", "Select the case"]
SECTION_B = ["Enter the details", "Upload the document", "Pay and confirm",
             "Submit the request", "Review and file", "Finish"]


def slugify(text):
    out, dash = [], False
    for ch in text.lower():
        if ch.isascii() and ch.isalnum():
            out.append(ch)
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    return "".join(out).strip("-")


def make_procedures(n, seed):
    """The text of every procedure, as plain data (no Markdown yet)."""
    rng = random.Random(f"procdoc-bench:{seed}:meta")
    procs = []
    for i in range(n):
        title = f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(QUALIFIERS)}"
        slug = f"{slugify(title)}-{i + 1:04d}"
        procs.append({
            "index": i,
            "title": title,
            "slug": slug,
            "category": CATEGORIES[rng.randrange(len(CATEGORIES))],
            "updated": f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "weight": rng.randint(1, 50),
        })
    for p in procs:
        r = random.Random(f"procdoc-bench:{seed}:proc:{p['index']}")
        app = r.choice(APPS)
        p["summary"] = (f"How to {p['title'][0].lower() + p['title'][1:]}, "
                        f"step by step, in {app}.")
        p["note"] = r.choice(CALLOUT_TEXTS)
        p["sections"] = [r.choice(SECTION_A), r.choice(SECTION_B)]
        other = r.randrange(n - 1) if n > 1 else 0
        if n > 1 and other >= p["index"]:
            other += 1
        p["other"] = other
        image_steps = sorted(r.sample(range(1, 11), 3))
        link_step = r.choice([s for s in range(1, 11) if s not in image_steps])
        list_step = 10
        steps = []
        for s in range(1, 11):
            kind = r.randrange(5)
            if kind == 0:
                action = f"Click **{r.choice(MENUS)}**, then select **{r.choice(MENUS)}**."
            elif kind == 1:
                action = f"Enter the {r.choice(FIELDS).lower()} in the **{r.choice(FIELDS)}** field."
            elif kind == 2:
                action = f"Click **{r.choice(BUTTONS)}**. {r.choice(TAILS)}"
            elif kind == 3:
                action = f"Select the document type from the **{r.choice(FIELDS)}** list and click **{r.choice(BUTTONS)}**."
            else:
                action = f"Check that the {r.choice(FIELDS).lower()} is correct. {r.choice(TAILS)}"
            steps.append({"n": s, "action": action})
        # One cross-reference to another existing step.
        ref_from = r.choice([s for s in range(2, 10) if s != link_step])
        ref_to = r.choice([s for s in range(1, 11) if s != ref_from])
        steps[ref_from - 1]["action"] += f" If the page does not load, see step {ref_to}."
        # The screenshots.
        pictures = []
        for k, s in enumerate(image_steps, start=1):
            button = r.choice(BUTTONS)
            panel = PANELS[(p["index"] + k) % 3]
            alt = (f"The {app} {r.choice(PAGES)} page, with a menu bar across the top, "
                   f"links on the left and {panel} in the middle; the {button} button "
                   f"is highlighted with a red box.")
            pictures.append({"k": k, "step": s, "alt": alt, "file": f"screen-{k}.png"})
            steps[s - 1]["image"] = (alt, f"screen-{k}.png")
        steps[link_step - 1]["link"] = True
        steps[list_step - 1]["list"] = r.sample(TAILS, 2)
        p["steps"] = steps
        p["pictures"] = pictures
        p["reminders"] = r.sample(REMINDERS, 3)
    return procs


def link_sentence(p, procs, href):
    o = procs[p["other"]]
    return f"For the related procedure, read [{o['title']}]({href(o)})."


def step_cell(p, step, procs, flavour):
    """The Action cell of one step, in one of three Markdown flavours."""
    text = step["action"]
    if step.get("link"):
        if flavour == "procdoc":
            href = lambda o: f"../{o['slug']}/index.md"
        elif flavour == "hugo":
            href = lambda o: f"../{o['slug']}/"
        else:
            href = lambda o: f"../{o['slug']}/index.md"
        text += " " + link_sentence(p, procs, href)
    if "list" in step:
        items = "".join(f"<li>{t}</li>" for t in step["list"])
        text += f" If something goes wrong:<ul>{items}</ul>"
    if "image" in step:
        alt, file = step["image"]
        text += f" ![{alt}]({file})"
    return text


def render_markdown(p, procs, flavour):
    lines = []
    if flavour == "procdoc":
        lines += ["+++",
                  f'title = "{p["title"]}"',
                  f'summary = "{p["summary"]}"',
                  f'category = "{p["category"]}"',
                  f"updated = {p['updated']}",
                  f"weight = {p['weight']}",
                  "+++", "",
                  "> [!NOTE]", f"> {p['note']}", ""]
    elif flavour == "hugo":
        lines += ["+++",
                  f'title = "{p["title"]}"',
                  f'summary = "{p["summary"]}"',
                  f'category = "{p["category"]}"',
                  f"date = {p['updated']}",
                  f"weight = {p['weight']}",
                  "+++", "",
                  f"> **Note:** {p['note']}", ""]
    else:  # mdbook
        lines += [f"# {p['title']}", "",
                  f"*{p['summary']}*", "",
                  f"Category: {p['category']}. Updated {p['updated']}.", "",
                  f"> **Note:** {p['note']}", ""]
    for sec, (lo, hi) in zip(p["sections"], [(1, 5), (6, 10)]):
        lines += [f"## {sec}", "", "| Step | Action |", "|-----:|--------|"]
        for step in p["steps"][lo - 1:hi]:
            lines.append(f"| {step['n']} | {step_cell(p, step, procs, flavour)} |")
        lines.append("")
    lines += ["## Reminders", ""]
    lines += [f"- {t}" for t in p["reminders"]]
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Screenshots
# --------------------------------------------------------------------------

def _make_font():
    """96 glyphs, 11 px tall, 3 to 6 px of ink and a 1 px gap; cell levels:
    0 background, 1 ink, 2 and 3 anti-aliased fringe (2/3 and 1/3 ink)."""
    rng = random.Random("procdoc-bench-font")
    glyphs = []
    for g in range(96):
        gw = rng.randint(3, 6)
        tall = rng.random() < 0.35      # ascender
        desc = rng.random() < 0.12      # descender
        top = 1 if tall else 4
        bot = 11 if desc else 9
        cells = [[0] * (gw + 1) for _ in range(11)]
        cols = rng.sample(range(gw), min(gw, rng.randint(1, 3)))
        for c in cols:                       # vertical strokes
            for y in range(top, bot):
                cells[y][c] = 1
        for y in rng.sample(range(4, 9), rng.randint(1, 2)):   # horizontal bars
            for c in range(min(cols), gw):
                cells[y][c] = 1
        for y in range(11):                  # anti-aliasing fringe
            for c in range(gw):
                if cells[y][c] == 0 and (
                        (c > 0 and cells[y][c - 1] == 1) or (c < gw - 1 and cells[y][c + 1] == 1)
                        or (0 < y < 10 and (cells[y - 1][c] == 1 or cells[y + 1][c] == 1))):
                    cells[y][c] = rng.choice((0, 0, 2, 3))
        glyphs.append(cells)
    return glyphs


FONT = _make_font()
_GLYPH_CACHE = {}


def _glyph_rows(fg, bg, scale):
    """For each pixel row of a line of text, the bytes of every glyph (and,
    last, of a word space) drawn in fg on bg."""
    key = (fg, bg, scale)
    rows = _GLYPH_CACHE.get(key)
    if rows is None:
        mid = tuple((a * 2 + b) // 3 for a, b in zip(fg, bg))
        light = tuple((a + b * 2) // 3 for a, b in zip(fg, bg))
        px = [bytes(bg) * scale, bytes(fg) * scale, bytes(mid) * scale, bytes(light) * scale]
        space = bytes(bg) * (4 * scale)
        rows = []
        for y in range(11):
            tab = [b"".join(px[v] for v in cells[y]) for cells in FONT] + [space]
            rows.extend([tab] * scale)
        widths = [len(cells[0]) * scale for cells in FONT] + [4 * scale]
        rows = (rows, widths)
        _GLYPH_CACHE[key] = rows
    return rows


class Canvas:
    def __init__(self, bg):
        row = bytes(bg) * W
        self.rows = [bytearray(row) for _ in range(H)]

    def rect(self, x, y, w, h, col):
        x0, x1 = max(0, x), min(W, x + w)
        if x1 <= x0:
            return
        seg = bytes(col) * (x1 - x0)
        for r in range(max(0, y), min(H, y + h)):
            self.rows[r][3 * x0:3 * x1] = seg

    def frame(self, x, y, w, h, col, t=1):
        self.rect(x, y, w, t, col)
        self.rect(x, y + h - t, w, t, col)
        self.rect(x, y, t, h, col)
        self.rect(x + w - t, y, t, h, col)

    def text(self, rng, x, y, maxw, fg, bg, scale=1, words=None):
        """Rows of glyph-like strokes standing for a line of text; returns its width."""
        rows, widths = _glyph_rows(fg, bg, scale)
        space = len(FONT)
        chars = []
        width = 0
        budget = maxw if words is None else min(maxw, words * 36 * scale)
        while True:
            word = [rng.randrange(space) for _ in range(rng.randint(2, 9))]
            ww = sum(widths[c] for c in word)
            if width + ww > budget and chars:
                break
            chars.extend(word)
            chars.append(space)
            width += ww + widths[space]
        if chars:
            chars.pop()
            width -= widths[space]
        x = max(0, x)
        width = min(width, budget, W - x)
        if width <= 0:
            return 0
        for yy in range(11 * scale):
            r = y + yy
            if 0 <= r < H:
                line = b"".join(map(rows[yy].__getitem__, chars))
                self.rows[r][3 * x:3 * x + 3 * width] = line[:3 * width]
        return width

    def photo(self, rng, x, y, w, h):
        """A photograph-like area: colours drifting smoothly in 2x2 blocks."""
        n = w // 2
        prev = [[rng.randint(60, 200) for _ in range(3)]] * n
        ri = rng.randint
        for by in range(y, min(H, y + h), 2):
            cur = []
            left = prev[0]
            for p in prev:
                left = [min(255, max(0, (a + b) // 2 + ri(-7, 7))) for a, b in zip(p, left)]
                cur.append(left)
            line = b"".join(bytes(c) * 2 for c in cur)
            for r in (by, by + 1):
                if r < H:
                    self.rows[r][3 * x:3 * x + len(line)] = line
            prev = cur

    def png(self):
        raw = b"".join(b"\x00" + bytes(r) for r in self.rows)
        def chunk(tag, data):
            return (struct.pack(">I", len(data)) + tag + data
                    + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))
        return (b"\x89PNG\r\n\x1a\n"
                + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 6))
                + chunk(b"IEND", b""))


ACCENTS = [(28, 52, 97), (16, 84, 64), (122, 31, 43), (0, 98, 110), (74, 44, 110),
           (40, 40, 48), (150, 72, 0), (30, 80, 150)]
DARK = (33, 37, 41)
GREY = (108, 117, 125)
WHITE = (255, 255, 255)
RED = (214, 30, 30)


def _tint(c, f):
    return tuple(int(v + (255 - v) * f) for v in c)


def draw_screenshot(seed, i, k):
    rng = random.Random(f"procdoc-bench:{seed}:png:{i}:{k}")
    accent = rng.choice(ACCENTS)
    page = (rng.randint(242, 250),) * 3
    cv = Canvas(page)
    # Browser chrome: tab strip, address bar.
    chrome = (222, 225, 230)
    cv.rect(0, 0, W, 72, chrome)
    cv.rect(8, 6, 230, 30, (246, 247, 249))
    cv.text(rng, 20, 15, 190, DARK, (246, 247, 249), words=3)
    cv.rect(110, 40, 900, 26, WHITE)
    cv.frame(110, 40, 900, 26, (190, 194, 200))
    cv.text(rng, 122, 47, 500, GREY, WHITE, words=1)
    for b in range(3):
        cv.rect(20 + b * 28, 44, 18, 18, (150, 155, 162))
    cv.rect(0, 71, W, 1, (180, 184, 190))
    # Application header and menu bar.
    top = 72
    hh = rng.randint(56, 80)
    cv.rect(0, top, W, hh, accent)
    cv.photo(rng, 24, top + (hh - 40) // 2, 40, 40)        # the seal
    cv.text(rng, 80, top + (hh - 22) // 2, 520, WHITE, accent, scale=2, words=5)
    menu_y = top + hh
    menu = _tint(accent, 0.82)
    cv.rect(0, menu_y, W, 34, menu)
    x = 24
    for _ in range(rng.randint(4, 7)):
        w = cv.text(rng, x, menu_y + 12, 160, DARK, menu, words=2)
        x += w + 36
        if x > W - 200:
            break
    body_y = menu_y + 34
    footer_h = 36
    # Sidebar.
    sw = rng.randint(200, 260)
    side = (233, 236, 239)
    cv.rect(0, body_y, sw, H - body_y - footer_h, side)
    cv.rect(sw, body_y, 1, H - body_y - footer_h, (206, 212, 218))
    hi = rng.randrange(8)
    y = body_y + 16
    for j in range(rng.randint(8, 14)):
        if y > H - footer_h - 30:
            break
        bg = side
        if j == hi:
            bg = _tint(accent, 0.7)
            cv.rect(0, y - 6, sw, 24, bg)
        cv.text(rng, 18, y, sw - 36, accent if j != hi else DARK, bg, words=rng.randint(1, 4))
        y += 28
    # Main column.
    mx = sw + 32
    mw = W - mx - 32
    y = body_y + 20
    cv.text(rng, mx, y, mw, DARK, page, scale=2, words=rng.randint(3, 7))
    y += 40
    if rng.random() < 0.4:                                  # a banner picture
        bw = rng.randint(240, 420)
        cv.photo(rng, mx + mw - bw, y, bw, 110)
        for _ in range(5):
            cv.text(rng, mx, y, mw - bw - 30, (73, 80, 87), page)
            y += 18
        y += 30
    for _ in range(rng.randint(1, 3)):
        cv.text(rng, mx, y, mw, (73, 80, 87), page)
        y += 18
    y += 12
    kind = (i + k) % 3        # must match PANELS, which the alt text uses
    panel_h = H - footer_h - 110 - y
    cv.rect(mx, y, mw, panel_h, WHITE)
    cv.frame(mx, y, mw, panel_h, (206, 212, 218))
    py = y + 18
    button_at = None
    if kind == 0:          # a form: labels, inputs, buttons
        lw = 170
        while py < y + panel_h - 90:
            cv.text(rng, mx + 20, py + 8, lw - 30, DARK, WHITE, words=rng.randint(1, 3))
            iw = rng.randint(200, mw - lw - 60)
            cv.rect(mx + lw, py, iw, 28, WHITE)
            cv.frame(mx + lw, py, iw, 28, (173, 181, 189))
            if rng.random() < 0.6:
                cv.text(rng, mx + lw + 10, py + 8, iw - 20, (73, 80, 87), WHITE,
                        words=rng.randint(1, 5))
            py += 42
        button_at = (mx + lw, y + panel_h - 60)
    elif kind == 1:        # a table of results
        cols = rng.randint(3, 6)
        cw = (mw - 40) // cols
        cv.rect(mx + 20, py, mw - 40, 30, _tint(accent, 0.85))
        for c in range(cols):
            cv.text(rng, mx + 30 + c * cw, py + 9, cw - 20, DARK, _tint(accent, 0.85),
                    words=2)
        py += 30
        row = 0
        while py < y + panel_h - 90:
            bg = WHITE if row % 2 == 0 else (248, 249, 250)
            cv.rect(mx + 20, py, mw - 40, 26, bg)
            for c in range(cols):
                col = accent if c == 0 else DARK
                cv.text(rng, mx + 30 + c * cw, py + 7, cw - 20, col, bg,
                        words=rng.randint(1, 3))
            cv.rect(mx + 20, py + 25, mw - 40, 1, (222, 226, 230))
            py += 26
            row += 1
        button_at = (mx + mw - 330, y + panel_h - 60)
    else:                  # cards with paragraphs
        cards = rng.randint(2, 3)
        cw = (mw - 20 - 20 * cards) // cards
        ch = panel_h - 110
        for c in range(cards):
            cx = mx + 20 + c * (cw + 20)
            cv.frame(cx, py, cw, ch, (206, 212, 218))
            cv.rect(cx + 1, py + 1, cw - 2, 34, (248, 249, 250))
            cv.text(rng, cx + 14, py + 12, cw - 28, DARK, (248, 249, 250), words=3)
            ty = py + 50
            while ty < py + ch - 20:
                cv.text(rng, cx + 14, ty, cw - 28 - rng.randrange(0, 60), (73, 80, 87), WHITE)
                ty += 18
        button_at = (mx + 20, y + panel_h - 60)
    # The highlighted button, and a plain one beside it.
    bx, by = button_at
    bw = rng.randint(110, 170)
    cv.rect(bx, by, bw, 36, accent)
    cv.text(rng, bx + 16, by + 13, bw - 32, WHITE, accent, words=1)
    cv.frame(bx - 7, by - 7, bw + 14, 50, RED, 3)
    cv.rect(bx + bw + 24, by, 110, 36, (233, 236, 239))
    cv.frame(bx + bw + 24, by, 110, 36, (173, 181, 189))
    cv.text(rng, bx + bw + 40, by + 13, 78, DARK, (233, 236, 239), words=1)
    # Text below the panel and the footer.
    y = y + panel_h + 16
    for _ in range(rng.randint(2, 4)):
        if y > H - footer_h - 24:
            break
        cv.text(rng, mx, y, mw - rng.randrange(0, 300), (73, 80, 87), page)
        y += 18
    cv.rect(0, H - footer_h, W, footer_h, (52, 58, 64))
    cv.text(rng, 24, H - footer_h + 13, 600, (206, 212, 218), (52, 58, 64), words=8)
    return cv.png()


def _write_png(task):
    seed, i, k, path = task
    data = draw_screenshot(seed, i, k)
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)
    return len(data)


# --------------------------------------------------------------------------
# Sites
# --------------------------------------------------------------------------

HUGO_TOML = """\
baseURL = "https://www.example.gov/procedures/"
languageCode = "en"
title = "E-Filing Procedures (benchmark corpus)"
disableKinds = ["taxonomy", "term", "RSS"]

[params]
# The render-image hook resizes every screenshot to 800 px when true;
# hugo --config hugo.toml,noresize.toml turns it off.
resize = true

[markup.goldmark.renderer]
unsafe = true   # the step cells hold a little HTML (<ul><li>)
"""

HUGO_NORESIZE_TOML = """\
[params]
resize = false
"""

HUGO_LAYOUTS = {
    "_default/baseof.html": """\
<!DOCTYPE html>
<html lang="{{ site.LanguageCode }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ if not .IsHome }}{{ .Title }} - {{ end }}{{ site.Title }}</title>
</head>
<body>
<header><a href="{{ "/" | relURL }}">{{ site.Title }}</a></header>
<main>
{{ block "main" . }}{{ end }}
</main>
</body>
</html>
""",
    "_default/single.html": """\
{{ define "main" }}
<h1>{{ .Title }}</h1>
<p>{{ .Params.category }}. Updated <time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "January 2, 2006" }}</time>.</p>
{{ .Content }}
{{ end }}
""",
    "_default/list.html": """\
{{ define "main" }}
<h1>{{ .Title }}</h1>
<ul>
{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>
{{ end }}
</ul>
{{ end }}
""",
    "index.html": """\
{{ define "main" }}
<h1>{{ site.Title }}</h1>
{{ range site.RegularPages.GroupByParam "category" }}
<h2>{{ .Key }}</h2>
<ul>
{{ range .Pages.ByWeight }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> - {{ .Summary }}</li>
{{ end }}
</ul>
{{ end }}
{{ end }}
""",
    "_default/_markup/render-image.html": """\
{{- $img := .Page.Resources.GetMatch .Destination -}}
{{- if and $img site.Params.resize -}}
{{- $small := $img.Resize "800x" -}}
<a href="{{ $img.RelPermalink }}"><img src="{{ $small.RelPermalink }}" width="{{ $small.Width }}" height="{{ $small.Height }}" alt="{{ .Text }}"></a>
{{- else if $img -}}
<a href="{{ $img.RelPermalink }}"><img src="{{ $img.RelPermalink }}" width="{{ $img.Width }}" height="{{ $img.Height }}" alt="{{ .Text }}"></a>
{{- else -}}
<img src="{{ .Destination | safeURL }}" alt="{{ .Text }}">
{{- end -}}
""",
}


def _link_or_copy(src, dst):
    if os.path.exists(dst):
        os.remove(dst)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def _stamp_of(n, seed):
    return {"generator": GENERATOR_VERSION, "n": n, "seed": seed}


def _read_stamp(out):
    try:
        with open(os.path.join(out, STAMP), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _clear(path):
    """Remove a previous corpus, but only a folder this script made (or an empty one)."""
    if not os.path.exists(path):
        return
    stamped = os.path.exists(os.path.join(path, STAMP))
    if not stamped and os.listdir(path):
        sys.exit(f"gen_corpus: {path} exists and was not made by this script; "
                 "remove it or choose another --out")
    shutil.rmtree(path)


def generate(n, seed, out, jobs):
    hugo, book = out + "-hugo", out + "-mdbook"
    want = _stamp_of(n, seed)
    if (_read_stamp(out) == want and _read_stamp(hugo) == want
            and _read_stamp(book) == want):
        print(f"gen_corpus: {out} already holds N={n} seed={seed}; nothing to do")
        return
    for d in (out, hugo, book):
        _clear(d)
        # Marks the folder as this script's, so that an interrupted run is
        # cleared and redone next time; replaced by the real stamp at the end.
        _write(os.path.join(d, STAMP), json.dumps({"incomplete": True}) + "\n")
    t0 = time.monotonic()
    procs = make_procedures(n, seed)

    # procdoc site
    _write(os.path.join(out, "procdoc.toml"),
           '# Synthetic benchmark site made by bench/gen_corpus.py.\n'
           'title = "E-Filing Procedures (benchmark corpus)"\n'
           'court = "United States District Court for the Southern District of Mississippi"\n'
           'base-url = "https://www.example.gov/procedures/"\n'
           'language = "en"\n'
           'theme = "default"\n'
           'paper = "letter"\n')
    tasks = []
    for p in procs:
        d = os.path.join(out, "procedures", p["slug"])
        _write(os.path.join(d, "index.md"), render_markdown(p, procs, "procdoc"))
        for pic in p["pictures"]:
            tasks.append((seed, p["index"], pic["k"], os.path.join(d, pic["file"])))

    total = 0
    if jobs > 1 and len(tasks) > 8:
        with multiprocessing.Pool(jobs) as pool:
            for size in pool.imap_unordered(_write_png, tasks, chunksize=8):
                total += size
    else:
        for t in tasks:
            total += _write_png(t)

    # Hugo site
    _write(os.path.join(hugo, "hugo.toml"), HUGO_TOML)
    _write(os.path.join(hugo, "noresize.toml"), HUGO_NORESIZE_TOML)
    for name, text in HUGO_LAYOUTS.items():
        _write(os.path.join(hugo, "layouts", name), text)
    _write(os.path.join(hugo, "content", "_index.md"),
           '+++\ntitle = "E-Filing Procedures (benchmark corpus)"\n+++\n')
    # mdBook
    _write(os.path.join(book, "book.toml"),
           '[book]\ntitle = "E-Filing Procedures (benchmark corpus)"\n'
           'language = "en"\nsrc = "src"\n\n[output.html]\n')
    summary = ["# Summary", ""]
    for cat in CATEGORIES:
        members = [p for p in procs if p["category"] == cat]
        if not members:
            continue
        summary += [f"# {cat}", ""]
        summary += [f"- [{p['title']}]({p['slug']}/index.md)" for p in members]
        summary.append("")
    _write(os.path.join(book, "src", "SUMMARY.md"), "\n".join(summary))

    for p in procs:
        src = os.path.join(out, "procedures", p["slug"])
        hd = os.path.join(hugo, "content", p["slug"])
        bd = os.path.join(book, "src", p["slug"])
        _write(os.path.join(hd, "index.md"), render_markdown(p, procs, "hugo"))
        _write(os.path.join(bd, "index.md"), render_markdown(p, procs, "mdbook"))
        for pic in p["pictures"]:
            _link_or_copy(os.path.join(src, pic["file"]), os.path.join(hd, pic["file"]))
            _link_or_copy(os.path.join(src, pic["file"]), os.path.join(bd, pic["file"]))

    for d in (hugo, book, out):   # the procdoc stamp last: it marks the whole set done
        _write(os.path.join(d, STAMP), json.dumps(want) + "\n")
    secs = time.monotonic() - t0
    print(f"gen_corpus: N={n} seed={seed}: {n} procedures, {len(tasks)} screenshots "
          f"({total / 1e6:.1f} MB, {total / max(1, len(tasks)) / 1e3:.0f} KB each) "
          f"in {secs:.1f} s -> {out}, {hugo}, {book}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, required=True, help="number of procedures")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--out", required=True, help="the procdoc site folder to write")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="worker processes for the screenshots (default 2)")
    a = ap.parse_args()
    if a.n < 1:
        ap.error("--n must be at least 1")
    generate(a.n, a.seed, os.path.normpath(a.out), max(1, a.jobs))


if __name__ == "__main__":
    main()
