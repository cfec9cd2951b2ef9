"""Builders for sample and hostile documents, written into a test's temp folder."""

from __future__ import annotations

import io
import zlib
from pathlib import Path


def make_pdf(path: Path, pages: list[str], title: str | None = None) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def make_encrypted_pdf(path: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf(path.with_suffix(".plain.pdf"), ["Top secret salary bands."])
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt(user_password="hunter2", owner_password="owner", algorithm="RC4-128")
    with path.open("wb") as fh:
        writer.write(fh)
    plain.unlink()
    return path


def make_scanned_pdf(path: Path) -> Path:
    """Pages with pictures and drawings only, as a scanner produces: no text layer."""
    from fpdf import FPDF

    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.set_fill_color(200, 200, 200)
        pdf.rect(20, 20, 170, 250, style="F")
    pdf.output(str(path))
    return path


def page_image(lines: list[str], size: tuple[int, int] = (827, 1169), font_size: int = 20):  # type: ignore[no-untyped-def]
    """A scanned page: black text on white, about 100 dpi for A4 (a Pillow image, no text layer; OCR
    reads it as well as a 150 dpi one, in half the time)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=font_size)
    for number, line in enumerate(lines):
        draw.text((size[0] // 11, size[1] // 12 + number * int(font_size * 1.8)), line, fill="black", font=font)
    return image


def make_image_pdf(path: Path, pages: list[list[str] | str]) -> Path:
    """A PDF whose pages are scans (a list of lines, drawn into an image) or typeset text (a str)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for page in pages:
        pdf.add_page()
        if isinstance(page, str):
            pdf.multi_cell(0, 6, page, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.image(page_image(page), x=0, y=0, w=210, h=297)
    pdf.output(str(path))
    return path


def _raw_pdf(content_streams: list[bytes], stream_refs: list[int]) -> bytes:
    """A minimal one-page PDF whose /Contents is an array referencing the given (compressed) streams."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents [" + b" ".join(f"{5 + i} 0 R".encode() for i in stream_refs) + b"] >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for data in content_streams:
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream")
    return _pdf_file(objects)


def _pdf_file(objects: list[bytes]) -> bytes:
    """Numbered objects, a cross-reference table and a trailer whose root is object 1."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def make_cyclic_pdf(path: Path) -> Path:
    """A page tree that contains itself: a naive walker never ends."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"]
    path.write_bytes(_pdf_file(objects))
    return path


def make_bomb_pdf(path: Path, stream_mb: int = 60, copies: int = 30) -> Path:
    """One small compressed stream that inflates to `stream_mb` MB, referenced `copies` times."""
    inflated = b" " * (stream_mb * 1024 * 1024)
    path.write_bytes(_raw_pdf([zlib.compress(inflated, 9)], [0] * copies))
    return path


def make_slow_pdf(path: Path, operators: int = 300_000, copies: int = 4) -> Path:
    """A content stream of endless tiny text operations: cheap to store, slow to extract."""
    ops = b"BT /F1 1 Tf 1 1 Td (a) Tj ET\n" * operators
    path.write_bytes(_raw_pdf([zlib.compress(ops, 9)], [0] * copies))
    return path


def make_slow_pages_pdf(path: Path, pages: int = 20, operators: int = 300_000) -> Path:
    """Many pages sharing one slow content stream: each page is slow, none needs much memory.

    Each page also says one sentence of its own (words, not digits), so none reads as a running header.
    """
    kids = b" ".join(b"%d 0 R" % (5 + 2 * i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    ops = zlib.compress(b"BT /F1 1 Tf 1 1 Td (a) Tj ET\n" * operators, 9)
    objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(ops) + ops + b"\nendstream")
    letters = "abcdefghijklmnopqrstuvwxyz"
    for i in range(pages):
        own = f"BT /F1 12 Tf 72 700 Td (The slow page called {letters[i // 26 % 26]}{letters[i % 26]}x "
        own += "holds a sentence of its own.) Tj ET"
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
                       b"/Contents [4 0 R %d 0 R] >>" % (6 + 2 * i))
        objects.append(b"<< /Length %d >>\nstream\n" % len(own) + own.encode() + b"\nendstream")
    path.write_bytes(_pdf_file(objects))
    return path


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = "Team rituals"
    document.add_paragraph("Team rituals", style="Title")
    document.add_paragraph("Standups", style="Heading 1")
    document.add_paragraph("The daily standup starts at 09:45 and lasts fifteen minutes.")
    document.add_paragraph("Retrospectives", style="Heading 1")
    document.add_paragraph("Retrospectives happen every second Friday after the demo.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Facilitator"
    table.rows[0].cells[1].text = "rotates alphabetically"
    document.save(str(path))
    return path


PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


ADMIN_GUIDE_PAGES = [
    # (outline entries starting on the page as (level, title), body lines)
    ([], ["Contents"] + [f"{n} {t} . . . . . . . . . . . . . . . . . . {p}" for n, t, p in
                         [("1", "Backups", 2), ("1.1", "Restoring a single table", 3), ("2", "Monitoring", 5),
                          ("2.1", "Alerts", 5), ("A", "Index", 6)]]),
    ([(0, "Backups")], ["1 Backups", "Backups run nightly at 02:00 and are kept for thirty days. The sched-",
                        "ule is set in backup.yaml on the primary server.",
                        "Each backup is encrypted before it leaves the machine."]),
    ([(1, "Restoring a single table")], ["1.1 Restoring a single table",
                                         "To restore one table, stop the writer service first. Then fetch",
                                         "the latest backup from the vault and unpack it in a scratch folder."]),
    ([], ["Run restore --table NAME against the scratch copy and compare the row count with the",
          "production table before you switch over. Keep the scratch copy for a week."]),
    ([(0, "Monitoring"), (1, "Alerts")], ["2 Monitoring", "Dashboards live in Grafana under the ops folder.",
                                          "2.1 Alerts", "Alerts page the on-call engineer through the pager bot."]),
    ([(0, "Index")], ["Index"] + [f"{w} . . . . . . . . . . . . . . . . . . . . {p}" for w, p in
                                  [("alerts", 5), ("backups", 2), ("grafana", 5), ("restore", 3), ("vault", 3)]]),
]


def make_structured_pdf(path: Path, outline: bool = True) -> Path:
    """An admin guide as real manuals are: a contents page, running header and footer, a word hyphenated
    across lines, a section running over a page break, bookmarks (or only numbered headings), an index."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Admin guide")
    pdf.set_font("Helvetica", size=11)
    for number, (entries, lines) in enumerate(ADMIN_GUIDE_PAGES, 1):
        pdf.add_page()
        pdf.cell(0, 6, f"Lumen Admin Guide {number}", new_x="LMARGIN", new_y="NEXT")
        for level, title in entries:
            if outline:
                pdf.start_section(title, level=level)
        for line in lines:
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 6, "Confidential: for Lumen staff only", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 6, str(number), new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


COMMAND_REFERENCE = {
    "backup": ("backup [--full] [--to TARGET]", "Copy every table of the running database to TARGET"),
    "restore": ("restore [--table NAME] SNAPSHOT", "Bring back one table or the whole database from SNAPSHOT"),
    "rotate": ("rotate [--keep N]", "Delete all but the newest N snapshots from the backup target"),
}


def make_command_reference_pdf(path: Path) -> Path:
    """A reference manual's command list as texinfo and man pages print it: each command's name on a line
    of its own, its synopsis below, then about 90 words of description, and no bookmark per command."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("lumenctl reference")
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.start_section("Commands", level=0)
    lines = ["Commands", "These commands manage the snapshots of a Lumen database. Each one runs against",
             "the server named in lumenctl.yaml and prints what it did."]
    lines += [f"Rule {rule}: a command that cannot reach the server waits ten seconds and tries again."
              for rule in range(1, 7)]  # an introduction longer than half a passage
    for name, (synopsis, summary) in COMMAND_REFERENCE.items():
        lines += [name, synopsis, f"{summary}. The {name} command"]
        lines += [f"checks its arguments first and stops with a message when one is wrong, so step {step} of"
                  for step in range(1, 8)]
        lines[-1] = lines[-1].removesuffix(" of") + "."
    for line in lines:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path
