#!/usr/bin/env python3
"""Writes the example extracts in examples/inbox/ (fictional children, workers and teams).

Run it again only to change the examples deliberately; the README's first command and the
end-to-end tests read the files it wrote. Deterministic: no randomness, no clock.
"""
import csv
import datetime as dt
import pathlib

HERE = pathlib.Path(__file__).resolve().parent / "inbox"
TEAMS = ["Assessment North", "Safeguarding East", "Children in Care"]
WORKERS = {
    "Assessment North": ["A Patel", "B Okafor", "C Nowak"],
    "Safeguarding East": ["D Evans", "E Murphy"],
    "Children in Care": ["F Hughes", "G Khan"],
}


def d(text):
    return dt.date.fromisoformat(text)


def uk(date):
    return "" if date is None else date.strftime("%d/%m/%Y")


def write(name, header, rows):
    HERE.mkdir(exist_ok=True)
    with open(HERE / name, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(header)
        w.writerows(rows)


CASE_HEADER = ["Case ID", "Child ID", "Allocated Team", "Allocated Worker", "Referral Date",
               "Closure Date", "Case Status", "Allocation Start", "Allocation End"]


def cases(as_of):
    """One extract of the cases list. Some cases change between the two weeks."""
    rows = []
    n = 0

    def add(team, worker, referral, closure=None, status="Open", start=None, end=None,
            raw_referral=None, number=None):
        nonlocal n
        n += 1
        number = number or n
        if referral is not None and referral > as_of:
            return  # not referred yet at this extract's date
        rows.append([f"C{1000 + number}", f"P{5000 + number}", team, worker,
                     raw_referral if raw_referral else uk(referral), uk(closure) if closure
                     else "", status, uk(start), uk(end) if end else ""])

    week2 = as_of == d("2026-11-23")
    # Allocated cases (not on any list), spread over the teams; some workers are busy.
    for i in range(24):
        team = TEAMS[i % 3]
        worker = WORKERS[team][i % len(WORKERS[team])]
        add(team, worker, d("2026-06-01") + dt.timedelta(days=5 * i),
            start=d("2026-06-03") + dt.timedelta(days=5 * i))
    # Open with no end date written as the 1900-01-01 sentinel: still allocated.
    add("Safeguarding East", "D Evans", d("2026-09-14"), start=d("2026-09-15"),
        end=d("1900-01-01"))
    # Unallocated for a short while (under four weeks): counted in the band table only.
    add("Assessment North", "", d("2026-11-18"))
    add("Assessment North", "Duty", d("2026-11-09"))
    add("Safeguarding East", "Safeguarding East", d("2026-11-02"))  # team-only allocation
    # Unallocated over four weeks: on the review list.
    add("Assessment North", "Unallocated", d("2026-09-28"))
    add("Safeguarding East", "", d("2026-08-10"))
    add("Children in Care", "duty worker", d("2026-07-20"))
    add("Assessment North", "#N/A", d("2026-10-12"))
    # Allocation ended and nobody took over.
    add("Children in Care", "G Khan", d("2026-03-02"), start=d("2026-03-05"),
        end=d("2026-10-09"))
    # A future closure date on an open case: still open, still unallocated.
    add("Safeguarding East", "", d("2026-10-01"), closure=d("2026-12-18"))
    # Closed cases: never on a list.
    add("Assessment North", "", d("2026-05-04"), closure=d("2026-10-30"), status="Closed")
    add("Children in Care", "", d("2026-02-16"), closure=d("2026-11-06"), status="Closed")
    # Untrusted dates: the data-cleansing list.
    add("Assessment North", "", None, raw_referral="31/11/2026")          # not a real date
    add("Safeguarding East", "E Murphy", d("2026-04-01"), start=d("2026-09-01"),
        end=d("2026-08-01"))                                              # end before start
    # Week 1 only: a case that gets allocated by week 2 (resolved: allocated).
    if not week2:
        add("Children in Care", "", d("2026-09-07"))
    else:
        add("Children in Care", "F Hughes", d("2026-09-07"), start=d("2026-11-19"))
    # Week 1 only: a case that vanishes from the week-2 extract (resolved: vanished).
    if not week2:
        add("Safeguarding East", "", d("2026-08-24"), number=90)
    # Week 2 only: a case that crosses four weeks between the weeks (NEW in week 2).
    if week2:
        add("Assessment North", "", d("2026-10-20"), number=91)
    return rows


def assessments():
    header = ["Assessment ID", "Child ID", "Assessment Type", "Team", "Worker", "Start Date",
              "Authorisation Date"]
    rows = []
    specs = [
        # type, team, worker, start, authorised
        ("Single", "Assessment North", "A Patel", "2026-08-03", "2026-09-25"),  # in timescale
        ("Single", "Assessment North", "B Okafor", "2026-08-10", "2026-10-30"),  # late
        ("Single", "Assessment North", "C Nowak", "2026-09-07", None),  # overdue
        ("Single", "Safeguarding East", "D Evans", "2026-09-21", None),  # overdue
        ("Single", "Safeguarding East", "E Murphy", "2026-09-28", None),  # due soon
        ("Single", "Assessment North", "A Patel", "2026-10-26", None),  # in progress
        ("Single", "Children in Care", "F Hughes", "2026-11-02", "2026-11-20"),
        ("Single", "Assessment North", "B Okafor", "2026-10-05", "2026-11-16"),
        ("C&F", "Safeguarding East", "D Evans", "2026-07-06", "2026-09-04"),
        ("Single", "Assessment North", "C Nowak", "2026-11-30", "2026-11-10"),  # end < start
        ("Initial", "Assessment North", "A Patel", "2009-11-02", "2009-11-12"),  # 7wd era, late
        ("Initial", "Assessment North", "A Patel", "2026-11-02", "2026-11-13"),
        ("Core", "Safeguarding East", "E Murphy", "2026-09-01", None),  # overdue
    ]
    for i, (kind, team, worker, start, end) in enumerate(specs):
        rows.append([f"A{200 + i}", f"P{5001 + i}", kind, team, worker, uk(d(start)),
                     uk(d(end)) if end else ""])
    write("assessments_2026-11-23.csv", header, rows)


def s47():
    header = ["Enquiry ID", "Child ID", "Team", "Worker", "Strategy Discussion Date",
              "ICPC Date", "ICPC Not Required"]
    specs = [
        ("Safeguarding East", "D Evans", "2026-10-05", "2026-10-23", ""),  # 14wd: in timescale
        ("Safeguarding East", "E Murphy", "2026-10-12", "2026-11-06", ""),  # late
        ("Safeguarding East", "D Evans", "2026-10-26", None, "No"),  # overdue
        ("Assessment North", "A Patel", "2026-11-02", None, ""),  # due soon
        ("Assessment North", "B Okafor", "2026-11-16", None, ""),  # in progress
        # No conference held because none was needed (CIN census ICPCnotRequired): excluded by
        # the rule's `unless`, never overdue.
        ("Safeguarding East", "E Murphy", "2026-09-14", None, "a) Yes"),
    ]
    rows = [[f"S{300 + i}", f"P{5010 + i}", t, w, uk(d(s)), uk(d(e)) if e else "", n]
            for i, (t, w, s, e, n) in enumerate(specs)]
    write("s47_2026-11-23.csv", header, rows)


# Looked-after children and their reviews (one row per review), as of Mon 23 Nov 2026. Reviews
# (reg. 33): the first 20 working days after the child became looked after, the second within 3
# months of it, then every 6 months.
LOOKED_AFTER = [
    # worker, started, ceased, reviews
    ("F Hughes", "2026-10-05", None, []),  # first due Mon 2 Nov 2026: overdue
    ("F Hughes", "2026-11-02", None, []),  # first due Mon 30 Nov: due soon (5wd warning)
    ("G Khan", "2026-03-02", None, ["2026-03-27"]),  # second due 27 Jun 2026: overdue
    # All on time (due 3 Feb, 30 Apr, 25 Oct 2025, 20 Apr and 5 Jun 2026); the next is due Sun
    # 29 Nov 2026, 5 working days from Fri 20 Nov: due soon.
    ("G Khan", "2025-01-06", None,
     ["2025-01-31", "2025-04-25", "2025-10-20", "2025-12-05", "2026-05-29"]),
    # Ceased: no longer listed; its reviews still count in the KPI (due 11 Jun 2024 with the
    # spring bank holiday, on time; then due 7 Sep 2024, held 15 Jan 2026: late).
    ("F Hughes", "2024-05-13", "2026-09-30", ["2024-06-07", "2026-01-15"]),
    # Sun 1 Nov 2026: counted from Fri 30 Oct, so due Fri 27 Nov (not Mon 30 Nov): due soon.
    ("G Khan", "2026-11-01", None, []),
    ("F Hughes", "2026-09-07", None, ["2026-11-23"]),  # first due 5 Oct, held today: late
    ("G Khan", "2026-10-26", None, ["2026-11-23"]),  # first due 23 Nov, held today: on time
]


def looked_after():
    header = ["Child ID", "Team", "Worker", "Date Started to be Looked After", "Date Ceased",
              "Date of Latest Statutory Review"]
    rows = [[f"P{6000 + i}", "Children in Care", w, uk(d(s)), uk(d(c)) if c else "",
             uk(d(r[-1])) if r else ""] for i, (w, s, c, r) in enumerate(LOOKED_AFTER)]
    write("looked_after_2026-11-23.csv", header, rows)


def lac_reviews():
    header = ["Review ID", "Child ID", "Review Date"]
    rows = []
    for i, (_, _, _, reviews) in enumerate(LOOKED_AFTER):
        for review in reviews:
            rows.append([f"R{800 + len(rows)}", f"P{6000 + i}", uk(d(review))])
    write("lac_reviews_2026-11-23.csv", header, rows)


def cp_plans():
    """Annex A List 7 style: the plan's start (the initial conference) and the latest review
    conference only."""
    header = ["Child ID", "Team", "Worker", "Child Protection Plan Start Date",
              "Child Protection Plan End Date", "Date of latest review conference"]
    specs = [
        ("E Murphy", "2026-08-03", None, None),  # first review due 3 Nov 2026: overdue
        ("D Evans", "2026-06-01", None, "2026-08-28"),  # then 6 months: due 28 Feb 2027
        ("D Evans", "2025-12-02", None, "2026-02-27"),  # next due 27 Aug 2026: overdue
        ("E Murphy", "2025-01-06", "2026-10-01", "2026-04-01"),  # plan ended: not counted
    ]
    rows = [[f"P{7000 + i}", "Safeguarding East", w, uk(d(s)), uk(d(e)) if e else "",
             uk(d(r)) if r else ""] for i, (w, s, e, r) in enumerate(specs)]
    write("cp_plans_2026-11-23.csv", header, rows)


def broken_cases():
    """A mid-week export whose worker column went missing: rejected whole, with a reason file."""
    header = [h for h in CASE_HEADER if h != "Allocated Worker"]
    rows = [r[:3] + r[4:] for r in cases(d("2026-11-20"))]
    write("cases_2026-11-20.csv", header, rows)


if __name__ == "__main__":
    header = CASE_HEADER
    write("cases_2026-11-16.csv", header, cases(d("2026-11-16")))
    broken_cases()
    write("cases_2026-11-23.csv", header, cases(d("2026-11-23")))
    assessments()
    s47()
    looked_after()
    lac_reviews()
    cp_plans()
