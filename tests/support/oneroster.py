"""A deterministic generator of OneRoster CSV bundles (1.1 or 1.2), for tests and the shipped sample.

``school(...)`` builds a school's term as plain data (its sessions, courses, classes, teachers, students and
enrollments); ``write_bundle`` writes it as OneRoster's CSV files (the column names of the 1EdTech CSV binding,
1.1 or 1.2), to a folder or a zip. Tests compare what ``read_oneroster`` returns with the data itself, never with
what the files say. Regenerate the shipped sample with ``python -m tests.support.oneroster``.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

#: The school year and its two semesters: (sourcedId, title, type, startDate, endDate, parentSourcedId).
SESSIONS = (
    ("Y2027", "2027-2028", "schoolYear", date(2027, 8, 30), date(2028, 6, 9), ""),
    ("F2027", "Fall 2027", "semester", date(2027, 9, 7), date(2027, 12, 17), "Y2027"),
    ("S2028", "Spring 2028", "semester", date(2028, 1, 10), date(2028, 5, 26), "Y2027"),
)
SUBJECTS = (
    "Algebra I", "Geometry", "Biology", "Chemistry", "English 9", "English 10", "World History", "US History",
    "Spanish I", "French I", "Art", "Music", "Physics", "Statistics", "Computer Science", "Health",
)  # fmt: skip
GIVEN = ("Ada", "Ben", "Chloé", "Dev", "Ema", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kofi", "Lena", "Mateo", "Nia")
FAMILY = ("Ng", "Okafor", "Park", "Quinn", "Rossi", "Silva", "Tanaka", "Ulloa", "Varga", "Wójcik", "Xu", "Young")
#: The periods of the school day; the sample's meeting patterns give all but the last a meaning.
PERIODS = ("1", "2", "3", "4", "5", "6", "7", "8")
#: What each period means at the sample school (the sample's meeting-pattern CSV): period 8 has no pattern.
PATTERNS = (
    {"period": "1", "days_of_week": "monday,wednesday,friday", "start_time": "08:00", "duration": 50},
    {"period": "2", "days_of_week": "tuesday,thursday", "start_time": "08:00", "duration": 80},
    {"period": "3", "cycle_days": "A", "start_time": "09:45", "duration": 80},
    {"period": "4", "cycle_days": "B", "start_time": "09:45", "duration": 80},
    {"period": "5", "days_of_week": "monday,tuesday,wednesday,thursday,friday", "start_time": "11:00", "duration": 45},
    {"period": "6", "class_repeat_type": 3, "start_time": "13:00", "duration": 45},
    {"period": "7", "days_of_week": "monday,thursday", "specific_week": 2, "start_time": "14:30", "duration": 60},
    {"period": "CLS-005", "days_of_week": "tuesday", "start_time": "15:30", "duration": 90},
)
PATTERN_COLUMNS = (
    "period", "class_repeat_type", "days_of_week", "specific_week", "cycle_days", "start_time", "duration",
    "time_zone", "attendee_limit",
)  # fmt: skip
TIME_ZONE = "America/New_York"
ATTENDEE_LIMIT = 60
FALL_HOLIDAYS = frozenset(
    {date(2027, 10, 11), date(2027, 11, 11), date(2027, 11, 24), date(2027, 11, 25), date(2027, 11, 26)}
)


@dataclass
class School:
    """A school's term as data: what the bundle says, and what ``read_oneroster`` must read from it."""

    classes: list[dict[str, str]] = field(default_factory=list)  # sourcedId, title, course, terms, periods
    courses: list[tuple[str, str]] = field(default_factory=list)  # (sourcedId, title)
    teachers: list[dict[str, str]] = field(default_factory=list)  # sourcedId, givenName, familyName, email
    students: list[dict[str, str]] = field(default_factory=list)  # sourcedId, givenName, familyName
    #: (sourcedId, classSourcedId, userSourcedId, role, primary, status) in file order.
    enrollments: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)

    def presenter(self, class_id: str) -> str:
        """The email of the class's primary teacher (else its first)."""
        rows = [
            row for row in self.enrollments if row[1] == class_id and row[3] == "teacher" and row[5] != "tobedeleted"
        ]
        primary = next((row for row in rows if row[4] == "true"), rows[0])
        return next(teacher["email"] for teacher in self.teachers if teacher["sourcedId"] == primary[2])

    def roster(self, class_id: str) -> list[dict[str, str]]:
        """The class's enrolled students as attendees, sorted by id."""
        names = {student["sourcedId"]: f"{student['givenName']} {student['familyName']}" for student in self.students}
        ids = sorted(
            {
                row[2]
                for row in self.enrollments
                if row[1] == class_id and row[3] == "student" and row[5] != "tobedeleted"
            }
        )
        return [{"attendee_id": user_id, "screen_name": names[user_id]} for user_id in ids]


def school(*, students: int = 1000, classes: int = 40, teachers: int | None = None) -> School:
    """A deterministic school: every class in the fall semester (one in ten all year, one in thirteen in spring
    only), its period(s) (one in seven meets in two), a primary teacher (one in five with a co-teacher listed
    first), and each student in two classes (one enrollment in fifty dropped: status tobedeleted)."""
    made = School()
    made.courses = [(f"CRS-{n:02d}", title) for n, title in enumerate(SUBJECTS[: min(len(SUBJECTS), classes)])]
    teachers = teachers or max(1, classes // 2)
    for n in range(teachers):
        given, family = GIVEN[n % len(GIVEN)], FAMILY[(n * 5) % len(FAMILY)]
        email = f"{given.lower().replace('é', 'e')}.{family.lower().replace('ó', 'o')}{n}@school.example"
        made.teachers.append({"sourcedId": f"TCH-{n:03d}", "givenName": given, "familyName": family, "email": email})
    for n in range(classes):
        course_id, subject = made.courses[n % len(made.courses)]
        periods = PERIODS[n % len(PERIODS)] + ("," + PERIODS[(n + 3) % len(PERIODS)] if n % 7 == 6 else "")
        made.classes.append(
            {
                "sourcedId": f"CLS-{n:03d}",
                "title": f"{subject} - {chr(65 + n // len(made.courses))}",
                "course": course_id,
                "terms": "F2027,S2028" if n % 10 == 9 else "S2028" if n % 13 == 12 else "F2027",
                "periods": periods,
            }
        )
    for n in range(students):
        given, family = GIVEN[(n * 3) % len(GIVEN)], FAMILY[n % len(FAMILY)]
        made.students.append({"sourcedId": f"STU-{n:04d}", "givenName": given, "familyName": family})

    def enroll(class_id: str, user_id: str, role: str, primary: str, status: str = "active") -> None:
        made.enrollments.append((f"ENR-{len(made.enrollments):05d}", class_id, user_id, role, primary, status))

    for n, klass in enumerate(made.classes):
        if n % 5 == 4:  # a co-teacher, listed before the primary one
            enroll(klass["sourcedId"], made.teachers[(n + 1) % teachers]["sourcedId"], "teacher", "false")
        enroll(klass["sourcedId"], made.teachers[n % teachers]["sourcedId"], "teacher", "true")
    for n, student in enumerate(made.students):
        for klass in (made.classes[(n * 7) % classes], made.classes[(n * 7 + 3) % classes]):
            dropped = len(made.enrollments) % 50 == 7
            enroll(klass["sourcedId"], student["sourcedId"], "student", "false", "tobedeleted" if dropped else "active")
    return made


#: Each file's columns, as the OneRoster CSV binding names them (1.1; 1.2's users.csv differs).
HEADERS = {
    "academicSessions.csv": "sourcedId status dateLastModified title type startDate endDate parentSourcedId schoolYear",
    "orgs.csv": "sourcedId status dateLastModified name type identifier parentSourcedId",
    "courses.csv": "sourcedId status dateLastModified schoolYearSourcedId title courseCode grades orgSourcedId "
    "subjects subjectCodes",
    "classes.csv": "sourcedId status dateLastModified title grades courseSourcedId classCode classType location "
    "schoolSourcedId termSourcedIds subjects subjectCodes periods",
    "enrollments.csv": "sourcedId status dateLastModified classSourcedId schoolSourcedId userSourcedId role primary "
    "beginDate endDate",
    "users.csv": "sourcedId status dateLastModified enabledUser orgSourcedIds role username userIds givenName "
    "familyName middleName identifier email sms phone agentSourcedIds grades password",
    "users.csv 1.2": "sourcedId status dateLastModified enabledUser username userIds givenName familyName middleName "
    "identifier email sms phone agentSourcedIds grades password userMasterIdentifier resourceSourcedIds "
    "preferredGivenName preferredMiddleName preferredFamilyName primaryOrgSourcedId pronouns",
    "roles.csv": "sourcedId status dateLastModified userSourcedId roleType role beginDate endDate orgSourcedId "
    "userProfileSourcedId",
}
MANIFEST_FILES = (
    "academicSessions categories classes classResources courses courseResources demographics enrollments lineItems "
    "orgs resources results users"
)


def files(made: School, version: str = "1.1") -> dict[str, str]:
    """The bundle's CSV files (name -> text) in OneRoster ``version`` (1.1 or 1.2) CSV binding's columns."""
    out = {
        "academicSessions.csv": [
            {"sourcedId": sid, "title": title, "type": kind, "startDate": str(start), "endDate": str(end),
             "parentSourcedId": parent, "schoolYear": "2028"}
            for sid, title, kind, start, end, parent in SESSIONS
        ],
        "orgs.csv": [{"sourcedId": "SCH-1", "name": "Lakeside High School", "type": "school", "identifier": "LHS"}],
        "courses.csv": [
            {"sourcedId": sid, "schoolYearSourcedId": "Y2027", "title": title, "courseCode": sid, "grades": "09,10",
             "orgSourcedId": "SCH-1"}
            for sid, title in made.courses
        ],
        "classes.csv": [
            {"sourcedId": c["sourcedId"], "title": c["title"], "grades": "09,10", "courseSourcedId": c["course"],
             "classCode": c["sourcedId"], "classType": "scheduled", "location": f"Room {100 + n}",
             "schoolSourcedId": "SCH-1", "termSourcedIds": c["terms"], "periods": c["periods"]}
            for n, c in enumerate(made.classes)
        ],
        "enrollments.csv": [
            {"sourcedId": sid, "status": "" if status == "active" else status, "classSourcedId": klass,
             "schoolSourcedId": "SCH-1", "userSourcedId": user, "role": role, "primary": primary}
            for sid, klass, user, role, primary, status in made.enrollments
        ],
    }  # fmt: skip
    people = [(teacher, "teacher", teacher["email"]) for teacher in made.teachers]
    people += [(kid, "student", f"{kid['sourcedId'].lower()}@students.school.example") for kid in made.students]
    out["users.csv"] = [
        {"sourcedId": person["sourcedId"], "enabledUser": "true", "orgSourcedIds": "SCH-1", "role": role,
         "username": username, "givenName": person["givenName"], "familyName": person["familyName"],
         "identifier": person["sourcedId"], "email": username if role == "teacher" else "",
         "primaryOrgSourcedId": "SCH-1"}
        for person, role, username in people
    ]  # fmt: skip
    headers = dict(HEADERS)
    if version == "1.2":
        headers["users.csv"] = headers.pop("users.csv 1.2")
        out["roles.csv"] = [
            {"sourcedId": f"ROL-{n:05d}", "userSourcedId": person["sourcedId"], "roleType": "primary", "role": role,
             "orgSourcedId": "SCH-1"}
            for n, (person, role, _) in enumerate(people)
        ]  # fmt: skip
    manifest = [("manifest.version", "1.0"), ("oneroster.version", version)]
    manifest += [(f"file.{name}", "bulk" if f"{name}.csv" in out else "absent") for name in MANIFEST_FILES.split()]
    manifest += [("file.roles", "bulk")] if version == "1.2" else []
    manifest += [("source.systemName", "Generated SIS"), ("source.systemCode", "sample")]
    texts = {name: _csv(headers[name].split(), rows) for name, rows in out.items()}
    texts["manifest.csv"] = _csv(
        ["propertyName", "value"], [{"propertyName": name, "value": value} for name, value in manifest]
    )
    return texts


def patterns_csv() -> str:
    """The sample school's meeting patterns: what each period means."""
    rows = [{"time_zone": TIME_ZONE, "attendee_limit": str(ATTENDEE_LIMIT), **row} for row in PATTERNS]
    return _csv(list(PATTERN_COLUMNS), [{key: str(value) for key, value in row.items()} for row in rows])


def calendar_csv() -> str:
    """The fall semester's instructional days (Monday to Friday but holidays), alternating A and B days."""
    first, last = SESSIONS[1][3], SESSIONS[1][4]
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    school_days = [day for day in days if day.weekday() < 5 and day not in FALL_HOLIDAYS]
    return _csv(["date", "day"], [{"date": str(day), "day": "AB"[n % 2]} for n, day in enumerate(school_days)])


def write_bundle(folder: Path, made: School, *, version: str = "1.1", zipped: bool = False, inner: str = "") -> Path:
    """The bundle written to ``folder`` (its CSV files), or as ``folder.zip`` (its files under ``inner/``)."""
    texts = files(made, version)
    if zipped:
        path = folder.with_suffix(".zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
            for name, text in sorted(texts.items()):
                bundle.writestr(zipfile.ZipInfo(f"{inner}/{name}" if inner else name, (2027, 8, 20, 0, 0, 0)), text)
        return path
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8", newline="")
    return folder


def _csv(header: list[str], rows: list[dict[str, str]]) -> str:
    """CSV text, CRLF line ends; cells not given are blank, cells of no column (another version's) left out."""
    out = io.StringIO()
    writer = csv.DictWriter(out, header, restval="", extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


#: Where the shipped sample lives (package data of the example DAGs), and its size.
EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "airflow_provider_wiziq" / "example_dags"
SAMPLE_SIZE = {"students": 150, "classes": 12}


def sample_files() -> dict[str, str]:
    """The shipped sample, path under the example DAGs' folder -> text: the bundle, its meeting patterns, its
    A/B calendar."""
    texts = {f"oneroster_sample/{name}": text for name, text in files(school(**SAMPLE_SIZE)).items()}
    texts["oneroster_meeting_patterns.csv"] = patterns_csv()
    texts["oneroster_calendar.csv"] = calendar_csv()
    return texts


if __name__ == "__main__":
    for relative, text in sample_files().items():
        (EXAMPLES / relative).parent.mkdir(exist_ok=True)
        (EXAMPLES / relative).write_text(text, encoding="utf-8", newline="")
        print(f"wrote {relative}")
