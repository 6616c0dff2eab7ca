"""End-to-end: the weekly review email a head of service reads on a phone, from
`casewatchd --once` on a generated 2,000-row extract, delivered to a REAL SMTP server on loopback
and parsed back part by part with Python's `email` package.

- No Person ID in any header, body part or attachment with the default `[review] fields`; they
  are there when a route widens its own `fields`.
- The HTML part stays under 100 KB (bodies list at most `body_items` per team).
- The subject is under 80 characters, plain ASCII, unencoded, and a team route's subject names
  the route, not its glob.
- The team x band table matches counts computed here from the generated rows.
- The attached CSV opens with Python's csv module, with a UTF-8 byte order mark.
- Headless Chromium renders the HTML part at 400 and 1200 px without errors and without
  horizontal overflow (measured by a script added to a copy of the page; the mail has none).
"""
import csv
import datetime
import io
import pathlib
import re
import shutil
import struct
import subprocess
import textwrap
import unittest

from test_mail import MailTestCase, inspect
from once_support import CASE_HEADER, CASES_CONFIG

AS_OF = datetime.date(2026, 11, 16)  # a Monday: 2026-W47
TEAMS = ["Adoption and Permanence", "Children in Care East", "Children in Care West",
         "Disabled Children", "Family Support North", "Family Support South",
         "Front Door (MASH)", "Leaving Care", "North Assessment", "South Assessment"]
# Days unallocated, each well inside one default band (DESIGN.md "Unallocated").
BANDS = [(3, "Under 1 week"), (10, "1 to 2 weeks"), (17, "2 to 3 weeks"),
         (24, "3 to 4 weeks"), (45, "1 to 2 months"), (75, "2 to 3 months"),
         (120, "3 months or more")]
UNTRUSTED = "Inaccuracies due to involvement end dates"

ROUTES = """
[[route]]
name = "all"
to = ["head@council.example"]

[[route]]
name = "north"
to = ["north@council.example"]
teams = ["North*", "Family Support North"]

[[route]]
name = "performance"
to = ["performance@council.example"]
fields = ["rule", "key", "person", "team", "worker", "band", "status", "since",
          "days_unallocated", "note", "reason"]
"""


def uk(day):
    return day.strftime("%d/%m/%Y")


def generated_extract(rows=2000):
    """The extract's text and, per team, the count of unallocated open cases per band."""
    lines = [CASE_HEADER]
    expected = {}
    for i in range(rows):
        team = TEAMS[i % len(TEAMS)]
        key, person = f"EP-{i:06d}", f"P{900000 + i}"
        days, band = BANDS[(i // len(TEAMS)) % len(BANDS)]
        referral = uk(AS_OF - datetime.timedelta(days=days))
        kind = i % 8
        if kind in (0, 1, 2):  # allocated: on no list
            lines.append(f"{key},{person},{team},Worker {i % 37},{referral},,Open,{referral},")
            continue
        if kind == 3:  # a pseudo-worker
            lines.append(f"{key},{person},{team},DUTY,{referral},,Open,,")
        elif kind == 4:  # the worker's allocation has ended
            start = uk(AS_OF - datetime.timedelta(days=days + 30))
            lines.append(f"{key},{person},{team},A Former,{uk(AS_OF - datetime.timedelta(days=days + 60))}"
                         f",,Open,{start},{referral}")
        elif kind == 5 and i % 3 == 0:  # allocation end before start: untrusted dates
            lines.append(f"{key},{person},{team},,{referral},,Open,01/02/2026,05/01/2026")
            band = UNTRUSTED
        else:
            lines.append(f"{key},{person},{team},,{referral},,Open,,")
        expected.setdefault(team, {}).setdefault(band, 0)
        expected[team][band] += 1
    return "\r\n".join(lines) + "\r\n", expected


def parse_text_table(text, heading):
    """{first cell: [numbers]} of the text table under `heading`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    # Past the heading's own underline, the table's rule of dashes.
    header_end = next(i for i in range(start + 2, len(lines))
                      if lines[i].strip().startswith("---"))
    header = re.split(r"\s{2,}", lines[header_end - 1].strip())
    rows = {}
    for line in lines[header_end + 1:]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = [int(c) for c in cells[1:]]
    return header, rows


def png_size(path):
    data = pathlib.Path(path).read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise AssertionError(f"{path} is not a PNG")
    return struct.unpack(">II", data[16:24])


MEASURE = """
<script>
window.__errors = [];
window.addEventListener("error", function (e) { window.__errors.push(String(e.message)); });
function measure(width) {
  document.documentElement.style.width = width + "px";
  var worst = 0, what = "";
  var nodes = document.querySelectorAll("table, p, h1, h2, h3, td, th");
  for (var i = 0; i < nodes.length; i++) {
    var right = Math.ceil(nodes[i].getBoundingClientRect().right);
    if (right > worst) {
      worst = right;
      what = nodes[i].tagName + ": " + nodes[i].textContent.slice(0, 60);
    }
  }
  return {width: width, scroll: document.documentElement.scrollWidth, right: worst, what: what,
          tables: document.querySelectorAll("table").length};
}
document.body.setAttribute("data-measured",
    JSON.stringify({narrow: measure(400), wide: measure(1200), errors: window.__errors,
                    images: document.images.length, links: document.querySelectorAll(
                        "link, script[src], img[src], iframe").length}));
</script>
"""


def chromium(*args):
    return subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                           "--no-first-run", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=120)


class ReviewEmail(MailTestCase):
    def setUp(self):
        super().setUp()
        server = self.start_server()
        mail = textwrap.dedent(f"""
            [mail]
            server = "smtp://127.0.0.1:{server.port}"
            tls = "none"
            from = "casewatch@council.example"
            allowed_domains = ["council.example"]
            """)
        self.write_config(CASES_CONFIG + mail + textwrap.dedent(ROUTES))
        text, self.expected = generated_extract()
        self.persons = re.findall(r",(P9\d{5}),", text)
        self.drop("cases_2026-11-16.csv", text)
        self.summary = self.run_once("--as-of", AS_OF.isoformat())
        self.require_mail_wired()
        self.mail = {}
        for recipients, raw in server.messages():
            self.mail[recipients[0].split("@")[0]] = (raw, inspect(raw))
        self.assertEqual(sorted(self.mail), ["head", "north", "performance"])

    def parts(self, name):
        raw, parsed = self.mail[name]
        texts = [parsed["text"], parsed["html"], *parsed["headers"].values()]
        texts += [a["content"] for a in parsed["attachments"]]
        return parsed, texts

    def test_no_person_id_by_default_and_a_widened_route_shows_them(self):
        for name in ("head", "north"):
            parsed, texts = self.parts(name)
            self.assertEqual(parsed["defects"], [])
            self.assertEqual(parsed["structure"], ["multipart/mixed", "multipart/alternative",
                                                   "text/plain", "text/html", "text/csv"])
            for text in texts:
                found = [p for p in self.persons if p in text]
                self.assertEqual(found, [], f"{name}: person ids in a part")
        parsed, texts = self.parts("performance")
        for text in texts[:2] + texts[-1:]:  # text, HTML and the attachment
            self.assertTrue(any(p in text for p in self.persons), text[:300])
        header = parsed["attachments"][0]["content"].lstrip("\ufeff").splitlines()[0]
        self.assertEqual(header, "rule,key,person,team,worker,band,status,since,"
                                 "days_unallocated,note,reason")

    def test_the_html_part_is_under_100_kb_and_the_body_is_bounded(self):
        raw, parsed = self.mail["head"]
        size = len(parsed["html"].encode("utf-8"))
        print(f"\nHTML part for 2,000 rows: {size} bytes; whole message {len(raw)} bytes")
        self.assertLess(size, 100_000)
        # Every team with more than 20 listed items says where the rest are.
        self.assertIn("more in the attached CSV", parsed["text"])
        self.assertIn("more in the attached CSV", parsed["html"])
        # The attachment holds everything: every listed and untrusted item.
        rows = list(csv.reader(io.StringIO(parsed["attachments"][0]["content"].lstrip("\ufeff"))))
        over = sum(n for team in self.expected.values()
                   for band, n in team.items() if band in ("1 to 2 months", "2 to 3 months",
                                                           "3 months or more", UNTRUSTED))
        self.assertEqual(len(rows) - 1, over)

    def test_subjects_are_short_plain_and_name_the_route(self):
        listed = sum(n for team in self.expected.values()
                     for band, n in team.items()
                     if band in ("1 to 2 months", "2 to 3 months", "3 months or more"))
        subjects = {}
        for name, (raw, parsed) in self.mail.items():
            subject = parsed["headers"]["Subject"]
            subjects[name] = subject
            self.assertLess(len(subject), 80, subject)
            self.assertNotIn(b"=?utf-8?", raw.split(b"\r\n\r\n")[0])  # plain ASCII: unencoded
        self.assertEqual(subjects["head"],
                         f"casewatch 2026-W47: {listed} unallocated over 4 weeks")
        self.assertTrue(subjects["north"].startswith("casewatch 2026-W47 north: "),
                        subjects["north"])
        self.assertNotIn("*", subjects["north"])

    def test_the_team_by_band_table_matches_counts_computed_here(self):
        _, parsed = self.mail["head"]
        header, rows = parse_text_table(parsed["text"],
                                        "unallocated: all unallocated open cases by team")
        short = {"Under 1 week": "<1w", "1 to 2 weeks": "1-2w", "2 to 3 weeks": "2-3w",
                 "3 to 4 weeks": "3-4w", "1 to 2 months": "1-2m", "2 to 3 months": "2-3m",
                 "3 months or more": "3m+", UNTRUSTED: "Untrusted"}
        self.assertEqual(header[0], "Team")
        self.assertEqual(header[-1], "Total")
        for team in TEAMS:
            wanted = [self.expected[team].get(band, 0)
                      for band, label in short.items() if label in header]
            self.assertEqual(rows[team][:-1], wanted, team)
            self.assertEqual(rows[team][-1], sum(self.expected[team].values()), team)
        all_open = sum(sum(t.values()) for t in self.expected.values())
        self.assertEqual(rows["All teams"][-1], all_open)
        # The three numbers, named the same in the review and in --once.
        self.assertIn(f"All unallocated open cases: {all_open}", self.summary.stdout)
        self.assertIn("All unallocated open cases", parsed["text"])
        self.assertIn("Over four weeks (listed)", parsed["text"])
        self.assertIn("Over four weeks (listed)", self.summary.stdout)
        # Rows that cannot mislead.
        self.assertIn("no worker (DUTY)", parsed["text"])
        self.assertIn("(ended\xa019\xa0Jul\xa02026)", parsed["text"])  # held together
        self.assertIn("A Former (ended 19 Jul 2026)", parsed["html"])

    def test_the_csv_opens_with_a_real_csv_parser_and_has_a_bom(self):
        raw, parsed = self.mail["head"]
        content = parsed["attachments"][0]["content"]
        self.assertTrue(content.startswith("\ufeff"))
        rows = list(csv.DictReader(io.StringIO(content[1:], newline="")))
        self.assertGreater(len(rows), 0)
        for row in rows:
            self.assertNotIn("person", row)
            for column in ("days_unallocated", "days_overdue", "due_in_days"):
                value = row.get(column, "")
                self.assertTrue(value == "" or int(value) >= 0, row)
        self.assertIn("\r\n", content)

    def test_chromium_renders_the_html_part_at_400_and_1200_px(self):
        if shutil.which("chromium") is None:
            self.skipTest("chromium is not installed")
        _, parsed = self.mail["head"]
        html = parsed["html"]
        self.assertNotIn("<script", html)
        self.assertNotRegex(html, r"(src|href)=\"(https?:)?//")
        page = self.tmp / "review.html"
        page.write_text(html, encoding="utf-8")
        measured = self.tmp / "measured.html"
        measured.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")

        for width in (400, 1200):
            shot = self.tmp / f"review-{width}.png"
            result = chromium(f"--window-size={width},1600", f"--screenshot={shot}",
                              page.as_uri())
            self.assertTrue(shot.exists(), result.stderr[-2000:])
            self.assertEqual(png_size(shot), (width, 1600))

        result = chromium("--window-size=1200,1600", "--dump-dom", measured.as_uri())
        found = re.search(r'data-measured="([^"]*)"', result.stdout)
        self.assertIsNotNone(found, result.stderr[-2000:])
        import html as html_module
        import json
        report = json.loads(html_module.unescape(found.group(1)))
        self.assertEqual(report["errors"], [])
        self.assertEqual(report["links"], 0)
        self.assertGreater(report["narrow"]["tables"], 5)
        # Nothing reaches past the window's right edge at either width (the page is laid out at
        # 400 px by setting the root's width: headless Chromium's window is at least 500 wide).
        self.assertLessEqual(report["narrow"]["right"], 400, report)
        self.assertLessEqual(report["wide"]["right"], 1200, report)
        self.assertLessEqual(report["wide"]["scroll"], 1200, report)


if __name__ == "__main__":
    unittest.main()
