#!/usr/bin/env python3
"""Makes the demo site's binary attachments (src/emulator/files/): two screenshots and a PDF.

Run once by hand when the pictures should change; the PNGs are committed, so
neither builds nor tests need Pillow. Needs: pip install pillow (>= 10.1, for
the scalable default font).
"""
import pathlib

from PIL import Image, ImageDraw, ImageFont

OUT = pathlib.Path(__file__).resolve().parent.parent / "src" / "emulator" / "files"


def font(size):
    return ImageFont.load_default(size=size)


def login_timeout():
    """DEMO-1: the login page on a throttled 3G connection, with the timeout banner."""
    img = Image.new("RGB", (1280, 800), "#f4f5f7")
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, 1280, 56], fill="#0052cc")
    d.text((24, 14), "Acme Cloud", fill="white", font=font(26))
    d.text((1050, 18), "Network: Slow 3G", fill="#ffe380", font=font(18))
    d.rounded_rectangle([390, 120, 890, 620], radius=12, fill="white", outline="#dfe1e6", width=2)
    d.text((430, 150), "Sign in to your account", fill="#172b4d", font=font(28))
    for y, label in ((220, "Email"), (320, "Password")):
        d.text((430, y), label, fill="#5e6c84", font=font(18))
        d.rounded_rectangle([430, y + 28, 850, y + 72], radius=6, fill="#fafbfc", outline="#c1c7d0", width=2)
    d.text((445, 258), "sam@example.com", fill="#172b4d", font=font(18))
    d.text((445, 358), "**********", fill="#172b4d", font=font(18))
    d.rounded_rectangle([430, 420, 850, 466], radius=6, fill="#97a0af")
    d.text((560, 430), "Signing in...", fill="white", font=font(20))
    d.rounded_rectangle([430, 490, 850, 590], radius=6, fill="#ffebe6", outline="#de350b", width=2)
    d.text((450, 505), "Request timed out (504)", fill="#bf2600", font=font(22))
    d.text((450, 540), "The server took longer than 30 s to answer.", fill="#bf2600", font=font(16))
    d.text((450, 562), "Please try again.", fill="#bf2600", font=font(16))
    d.rectangle([0, 660, 1280, 800], fill="#202124")
    for x, cell in zip((16, 96, 330, 410, 490, 580), ("Network", "Name", "Status", "Type", "Size", "Time")):
        d.text((x, 668), cell, fill="#9aa0a6", font=font(16))
    rows = [
        ("GET  /login", "200", "html", "14 kB", "1.9 s", "#e8eaed"),
        ("GET  /static/app.js", "200", "script", "412 kB", "11.2 s", "#e8eaed"),
        ("POST /api/session", "504", "fetch", "0 B", "30.0 s", "#f28b82"),
    ]
    for n, row in enumerate(rows):
        y = 696 + n * 30
        for x, cell in zip((96, 330, 410, 490, 580), row[:5]):
            d.text((x, y), cell, fill=row[5], font=font(16))
    img.save(OUT / "login-timeout-3g.png", optimize=True)


def dark_mode_table():
    """DEMO-5: the reports table in dark mode, grey text on near-black rows, drawn at
    2x like a Retina screenshot (2880 px wide: past get_attachment's cap, so the demo
    shows a downscaled image)."""
    k = 2
    img = Image.new("RGB", (1440 * k, 900 * k), "#121212")
    d = ImageDraw.Draw(img)

    def text(x, y, value, fill, size):
        d.text((x * k, y * k), value, fill=fill, font=font(size * k))

    def rect(x0, y0, x1, y1, fill):
        d.rectangle([x0 * k, y0 * k, x1 * k, y1 * k], fill=fill)

    text(40, 30, "Reports > Weekly revenue", "#e0e0e0", 30)
    text(40, 80, "Theme: Dark (beta)", "#8a8a8a", 18)
    cols = ["Region", "Orders", "Revenue", "Refunds", "Net"]
    x0, y0, widths = 40, 140, [360, 240, 260, 240, 260]
    rect(x0, y0, x0 + sum(widths), y0 + 50, "#1e1e1e")
    x = x0
    for name, w in zip(cols, widths):
        text(x + 16, y0 + 12, name, "#5a5a5a", 22)
        x += w
    data = [
        ("North America", "12,408", "$1,204,330", "$18,202", "$1,186,128"),
        ("Europe", "9,881", "$902,118", "$11,940", "$890,178"),
        ("Asia Pacific", "7,302", "$655,019", "$9,310", "$645,709"),
        ("Latin America", "2,114", "$150,882", "$2,771", "$148,111"),
        ("Middle East", "1,090", "$98,440", "$1,205", "$97,235"),
        ("Africa", "644", "$41,002", "$388", "$40,614"),
    ]
    for r, row in enumerate(data):
        y = y0 + 50 + r * 56
        rect(x0, y, x0 + sum(widths), y + 56, "#161616" if r % 2 else "#1a1a1a")
        x = x0
        for value, w in zip(row, widths):
            # The bug: body text is #2b2b2b on #1a1a1a, a contrast ratio of about 1.2:1.
            text(x + 16, y + 16, value, "#2b2b2b", 22)
            x += w
    text(40, 540, "Text colour #2b2b2b on #1a1a1a (contrast 1.2:1; WCAG AA needs 4.5:1)", "#8a8a8a", 18)
    img.save(OUT / "dark-mode-table.png", optimize=True)


def incident_pdf():
    """OPS-1: a one-page incident report, a text PDF written by hand (Helvetica, no images)."""
    lines = [
        "Incident report: nightly backup failure on large tenants",
        "Date: 2026-11-27    Severity: S2    Owner: Priya Patel",
        "",
        "Summary: the nightly backup job failed for 3 of 412 tenants (all above 800 GB).",
        "Cause: the snapshot step hit its 4 h timeout while the storage API throttled us.",
        "Impact: no data loss; those tenants had a 26 h recovery point instead of 24 h.",
        "",
        "Actions:",
        "1. Raise the snapshot timeout to 8 h for tenants above 500 GB (OPS-1).",
        "2. Spread large tenants across the window instead of starting all at 01:00.",
        "3. Alert when a backup is more than 2 h late.",
    ]
    def escape(t):
        return t.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    body = ["BT", "/F1 11 Tf", "14 TL", "72 760 Td"]
    for n, line in enumerate(lines):
        op = "Tj" if n == 0 else "'"  # ' moves to the next line, then shows the text
        body.append(f"({escape(line)}) {op}")
    body.append("ET")
    stream = "\n".join(body).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    (OUT / "backup-incident-2026-11-27.pdf").write_bytes(bytes(out))


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    login_timeout()
    dark_mode_table()
    incident_pdf()
