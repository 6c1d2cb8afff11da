"""Pure rules for cohorts: details, the schedule, enrolment changes and bulk-import files."""

from datetime import date, time

import pytest

from lms.cohorts import rules
from lms.cohorts.rules import (CohortDetails, DayEntry, ExistingEnrolment, ExistingPerson, ImportWorld, check_schedule,
                               csv_safe, plan_import, read_import_file)

HEADER = "email,name,role,organisation,academic_supervisor_email,personal_supervisor_email"


def weekly(count, start=date(2027, 3, 1)):
    from datetime import timedelta

    return [DayEntry((start + timedelta(weeks=n)).isoformat(), "09:30", "16:00", "Room 1") for n in range(count)]


# Cohort details ---------------------------------------------------------------

def test_cohort_details_are_checked_and_tidied():
    checked, problems = rules.check_cohort_details(
        CohortDetails("peer-support-l4", "  March 2027 ", "March-2027", "2027-03-01", "16", "planned"),
        {"peer-support-l4": "Peer Support"})
    assert problems == [] and checked.slug == "march-2027" and checked.name == "March 2027"
    assert checked.start_date == date(2027, 3, 1) and checked.capacity == 16


def test_cohort_details_problems_name_each_field():
    _, problems = rules.check_cohort_details(
        CohortDetails("unknown", "", "no spaces please", "31/02/2027", "0", "paused"), {"peer-support-l4": "x"})
    assert {p.field for p in problems} == {"course_slug", "name", "slug", "start_date", "capacity", "status"}


# The schedule -----------------------------------------------------------------

def test_a_good_schedule_passes():
    days, problems = check_schedule(weekly(11), 11)
    assert problems == [] and len(days) == 11 and days[0].starts_at == time(9, 30) and days[10].number == 11


@pytest.mark.parametrize("count", [10, 12])
def test_fewer_or_more_days_than_the_course(count):
    days, problems = check_schedule(weekly(count), 11)
    assert days == []
    assert problems[0].day is None and "The course has 11 days, but this schedule has" in problems[0].message


def test_days_out_of_order():
    entries = weekly(11)
    entries[3], entries[4] = entries[4], entries[3]
    _, problems = check_schedule(entries, 11)
    assert [(p.day, p.part) for p in problems] == [(5, "date")]
    assert "Day 5 is before day 4" in problems[0].message


def test_two_days_on_the_same_date_overlap():
    entries = weekly(11)
    entries[2] = DayEntry(entries[1].date, "13:00", "17:00", "Room 2")
    _, problems = check_schedule(entries, 11)
    assert any(p.day == 3 and "overlaps day 2" in p.message for p in problems)


def test_two_days_on_the_same_date_without_overlap_are_still_refused():
    entries = weekly(11)
    entries[2] = DayEntry(entries[1].date, "17:00", "19:00", "Room 2")
    _, problems = check_schedule(entries, 11)
    assert any(p.day == 3 and "same date as day 2" in p.message for p in problems)


def test_a_day_must_end_after_it_starts_and_have_a_place():
    entries = weekly(11)
    entries[0] = DayEntry(entries[0].date, "16:00", "09:30", "")
    entries[1] = DayEntry("", "nine", "", "javascript://alert(1)")
    _, problems = check_schedule(entries, 11)
    found = {(p.day, p.part) for p in problems}
    assert {(1, "ends_at"), (1, "venue"), (2, "date"), (2, "starts_at"), (2, "ends_at"), (2, "venue")} <= found


def test_schedule_changes_lists_moved_days():
    old, _ = check_schedule(weekly(11), 11)
    entries = weekly(11)
    entries[4] = DayEntry("2027-04-02", "10:00", "15:00", "Room 1")
    new, _ = check_schedule(entries, 11)
    changed = rules.schedule_changes(old, new)
    assert [(o.number, n.date) for o, n in changed] == [(5, date(2027, 4, 2))]


# Enrolment state machine --------------------------------------------------------

def test_enrolment_transitions():
    assert rules.next_status("active", "withdraw") == "withdrawn"
    assert rules.next_status("deferred", "transfer") == "transferred"
    assert rules.next_status("transferred", "resume") is None
    assert "transfer" not in rules.actions_for("transferred") and rules.actions_for("transferred") == []


def test_withdrawal_needs_a_reason_and_date():
    problems = rules.status_change_problems("active", "withdraw", " ", "")
    assert {p.field for p in problems} == {"reason", "on_date"}
    assert rules.status_change_problems("active", "complete", "", "2027-06-01") == []
    assert rules.status_change_problems("withdrawn", "complete", "", "2027-06-01")[0].field == "action"


# Reading import files ---------------------------------------------------------------

def test_reads_utf8_with_bom_and_crlf_like_excel():
    raw = ("\ufeff" + HEADER + "\r\nzoe@example.org,Zoë Brontë,trainee,Harbour Mind,,\r\n").encode("utf-8")
    rows, problems = read_import_file(raw)
    assert problems == [] and rows[0].name == "Zoë Brontë" and rows[0].row == 2


def test_reads_semicolons_from_some_excel_settings_and_columns_in_any_order():
    raw = ("name;email;role;organisation;personal_supervisor_email;academic_supervisor_email\n"
           "Sam;SAM@Example.org;Trainee;Harbour Mind;;\n").encode()
    rows, problems = read_import_file(raw)
    assert problems == [] and rows[0].email == "sam@example.org" and rows[0].role == "trainee"


def test_wrong_encoding_says_which_row_and_how_to_save():
    raw = (HEADER + "\nok@example.org,Ok,trainee,Harbour Mind,,\nzoe@example.org,Zoë,trainee,Harbour Mind,,\n").encode("cp1252")
    rows, problems = read_import_file(raw)
    assert rows == [] and problems[0].row == 3 and "UTF-8" in problems[0].message and "CSV UTF-8" in problems[0].message


def test_an_excel_workbook_is_recognised():
    rows, problems = read_import_file(b"PK\x03\x04rest-of-a-zip")
    assert "Excel workbook" in problems[0].message


@pytest.mark.parametrize("raw", [b"", b"\xef\xbb\xbf", b"\r\n\r\n", b" ,,,\n"])
def test_empty_file(raw):
    rows, problems = read_import_file(raw)
    assert rows == [] and "empty" in problems[0].message


def test_header_only_has_nobody():
    rows, problems = read_import_file((HEADER + "\n").encode())
    assert "nobody in it" in problems[0].message


def test_missing_header():
    rows, problems = read_import_file(b"sam@example.org,Sam,trainee,Harbour Mind,,\n")
    assert rows == [] and problems[0].row == 1 and "must be the header" in problems[0].message


def test_missing_and_extra_columns_are_named():
    raw = b"email,name,role,organisation,phone\nsam@example.org,Sam,trainee,Harbour Mind,0123\n"
    _, problems = read_import_file(raw)
    columns = {p.column for p in problems}
    assert {"phone", "academic_supervisor_email", "personal_supervisor_email"} == columns
    assert all(p.row == 1 for p in problems)


def test_every_row_problem_is_reported_with_row_and_column():
    raw = (HEADER + "\n"
           "not-an-email,Sam,trainee,Harbour Mind,,\n"
           "ok@example.org,,teacher,,,\n"
           "ok2@example.org,Ok,tutor,,academic@example.org,\n"
           "ok@example.org,Again,trainee,Harbour Mind,,\n"
           "short@example.org,Short\n"
           "boss@example.org,Boss,admin,,,\n").encode()
    _, problems = read_import_file(raw)
    found = {(p.row, p.column) for p in problems}
    assert (2, "email") in found and (3, "name") in found and (3, "role") in found
    assert (4, "academic_supervisor_email") in found and (5, "email") in found and (6, None) in found
    assert (7, "role") in found
    assert "first in row 3" in next(p.message for p in problems if p.row == 5)
    assert str(next(p for p in problems if p.row == 2)).startswith("Row 2, column email:")


def test_formula_cells_are_read_as_text_and_escaped_on_export():
    raw = (HEADER + "\nsam@example.org,=cmd|' /C calc'!A0,trainee,Harbour Mind,,\n").encode()
    rows, problems = read_import_file(raw)
    assert problems == [] and rows[0].name == "=cmd|' /C calc'!A0"
    assert csv_safe(rows[0].name) == "'=cmd|' /C calc'!A0"
    assert [csv_safe(v) for v in ("+1", "-2", "@x", "plain", None)] == ["'+1", "'-2", "'@x", "plain", ""]
    # An escaped cell comes back as it was stored, so an export can be imported again.
    again, _ = read_import_file((HEADER + "\nsam@example.org,'=cmd|' /C calc'!A0,trainee,Harbour Mind,,\n").encode())
    assert again[0].name == rows[0].name


def test_too_many_rows():
    lines = [HEADER] + [f"p{n}@example.org,P {n},tutor,,," for n in range(6)]
    _, problems = read_import_file("\n".join(lines).encode(), max_rows=5)
    assert "more than 5 people" in problems[-1].message


# Planning an import ----------------------------------------------------------------

ORGS = {"harbour mind": "Harbour Mind", "northshire": "Northshire"}


def world(people=(), capacity=16, taken=0):
    return ImportWorld("March 2027", capacity, taken, ORGS, {p.email: p for p in people})


def rows_of(*lines):
    rows, problems = read_import_file("\n".join([HEADER, *lines]).encode())
    assert problems == []
    return rows


def test_a_clean_plan_creates_grants_and_enrols():
    rows = rows_of("ps@example.org,Pat,personal_supervisor,Harbour Mind,,",
                   "as@example.org,Ali,academic_supervisor,,,",
                   "t@example.org,Tam,trainee,harbour mind,as@example.org,ps@example.org")
    plan = plan_import(rows, world())
    assert plan.ok and plan.counts == {"new accounts": 3, "enrolments": 1, "roles given": 3, "unchanged": 0}
    trainee = plan.people[2]
    assert trainee.organisation == "Harbour Mind" and trainee.personal_supervisor_email == "ps@example.org"


def test_personal_supervisor_from_another_organisation_is_refused():
    rows = rows_of("ps@example.org,Pat,personal_supervisor,Northshire,,",
                   "t@example.org,Tam,trainee,Harbour Mind,,ps@example.org")
    plan = plan_import(rows, world())
    assert [(p.row, p.column) for p in plan.problems] == [(3, "personal_supervisor_email")]
    assert "must be from the trainee's own organisation" in plan.problems[0].message


def test_unknown_organisation_and_supervisor():
    plan = plan_import(rows_of("t@example.org,Tam,trainee,Nowhere Trust,ghost@example.org,"), world())
    assert {(p.row, p.column) for p in plan.problems} == {(2, "organisation"), (2, "academic_supervisor_email")}


def test_supervisor_listed_with_another_role():
    rows = rows_of("tut@example.org,Tut,tutor,,,", "t@example.org,Tam,trainee,Harbour Mind,tut@example.org,")
    plan = plan_import(rows, world())
    assert "in row 2 as a tutor, not as a academic supervisor" in plan.problems[0].message.replace("an academic", "a academic")


def test_existing_supervisor_gets_the_role_in_this_cohort():
    existing = ExistingPerson(7, "as@example.org", "Ali", None)
    plan = plan_import(rows_of("t@example.org,Tam,trainee,Harbour Mind,as@example.org,"), world([existing]))
    assert plan.ok and plan.supervisor_grants == [("as@example.org", "academic_supervisor")]


def test_same_file_again_changes_nothing():
    existing = [
        ExistingPerson(1, "t@example.org", "Tam", "Harbour Mind", roles_here=frozenset({"trainee"}),
                       enrolment_here=ExistingEnrolment("active", None, None)),
        ExistingPerson(2, "tut@example.org", "Tut", None, roles_here=frozenset({"tutor"})),
    ]
    plan = plan_import(rows_of("t@example.org,Tam,trainee,Harbour Mind,,", "tut@example.org,Tut,tutor,,,"),
                       world(existing, taken=1))
    assert plan.ok and not plan.changes_anything and plan.counts["unchanged"] == 2


def test_already_enrolled_with_other_supervisors_or_elsewhere_is_refused():
    existing = [
        ExistingPerson(1, "t@example.org", "Tam", "Harbour Mind", roles_here=frozenset({"trainee"}),
                       enrolment_here=ExistingEnrolment("active", "old@example.org", None)),
        ExistingPerson(2, "u@example.org", "Uma", "Harbour Mind", enrolled_elsewhere="January 2027"),
        ExistingPerson(3, "new@example.org", "New", None, roles_here=frozenset({"academic_supervisor"})),
    ]
    plan = plan_import(rows_of("t@example.org,Tam,trainee,Harbour Mind,new@example.org,",
                               "u@example.org,Uma,trainee,Harbour Mind,,"), world(existing))
    messages = {(p.row, p.column): p.message for p in plan.problems}
    assert "already enrolled in this cohort with old@example.org" in messages[(2, "academic_supervisor_email")]
    assert "already enrolled in January 2027" in messages[(3, "email")]


def test_organisation_must_match_the_account_and_capacity_is_respected():
    existing = [ExistingPerson(1, "t@example.org", "Tam", "Northshire")]
    plan = plan_import(rows_of("t@example.org,Tam,trainee,Harbour Mind,,", "v@example.org,Vic,trainee,Harbour Mind,,",
                               "w@example.org,Wyn,trainee,Harbour Mind,,"), world(existing, capacity=2, taken=1))
    messages = {(p.row, p.column): p.message for p in plan.problems}
    assert "belongs to Northshire" in messages[(2, "organisation")]
    assert "1 of its 2 places left" in messages[(4, None)]
