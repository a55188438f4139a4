"""A realistic KoboToolbox export, made up: what an organisation downloads from Kobo's
"Downloads" page (CSV, "XML values and headers", group separator "/", delimiter ";"), or
the same as XLSX. The form asks about safety, willingness to use violence and actions
taken, with skip logic, "don't know" answers, a select_multiple question (a space-separated
cell and one 0/1 column per option, as Kobo writes them), post-stratification weights and
the metadata columns Kobo adds (_id, _uuid, _submission_time, _validation_status, …), and
the personal data a real export carries (a name, a phone number, GPS) that Peacemap must
never keep.

    rows = respondents(seed=11, count=600)
    kobo_csv(rows)   # text
    kobo_xlsx(rows)  # bytes
"""

from __future__ import annotations

import csv
import io
import random
import uuid
from datetime import UTC, datetime, timedelta

ACTIONS = ("petition", "meeting", "protest", "none")
HEADER = [
    "start",
    "end",
    "today",
    "deviceid",
    "consent",
    "respondent/name",
    "respondent/phone",
    "demographics/age",
    "demographics/sex",
    "demographics/district",
    "safety/feels_safe",
    "safety/incident_note",
    "polarisation/willing_violence",
    "agency/actions",
    *(f"agency/actions/{a}" for a in ACTIONS),
    "_gps_latitude",
    "_gps_longitude",
    "weight",
    "_id",
    "_uuid",
    "_submission_time",
    "_validation_status",
    "_notes",
    "_status",
    "_submitted_by",
    "__version__",
    "_tags",
    "_index",
]

MAPPING = {
    "questions": [
        {
            "measure": "feels_safe",
            "question": "safety/feels_safe",
            "type": "select_one",
            "positive": ["very_safe", "safe"],
            "negative": ["unsafe", "very_unsafe"],
            "exclude": ["dont_know", "refused"],
        },
        {
            "measure": "willing_violence",
            "question": "polarisation/willing_violence",
            "type": "select_one",
            "positive": ["yes"],
            "negative": ["no"],
            "exclude": ["dont_know"],
        },
        {
            "measure": "takes_action",
            "question": "agency/actions",
            "type": "select_multiple",
            "positive": ["petition", "meeting", "protest"],
            "negative": ["none"],
        },
    ],
    "weight": "weight",
    "groups": {"sex": "demographics/sex"},
    "date": "_submission_time",
}


def respondents(seed: int = 11, count: int = 600) -> list[dict]:
    """One dict per respondent, keyed by the export's headers (cells as Kobo writes them)."""
    rng = random.Random(seed)
    started = datetime(2025, 10, 6, 8, 0, tzinfo=UTC)
    rows = []
    for index in range(count):
        sex = rng.choice(("female", "male"))
        submitted = started + timedelta(minutes=37 * index + rng.randint(0, 30))
        consent = "yes" if rng.random() > 0.03 else "no"
        row = dict.fromkeys(HEADER, "")
        row.update(
            {
                "start": (submitted - timedelta(minutes=14)).isoformat(timespec="milliseconds"),
                "end": submitted.isoformat(timespec="milliseconds"),
                "today": submitted.date().isoformat(),
                "deviceid": f"collect:{rng.randrange(16**8):08x}",
                "consent": consent,
                "respondent/name": rng.choice(("Aminata", "Fatmata", "Mohamed", "Ibrahim")),
                "respondent/phone": f"+232 76 {rng.randrange(10**6):06d}",
                "_gps_latitude": f"{7.87 + rng.uniform(-0.05, 0.05):.6f}",
                "_gps_longitude": f"{-11.19 + rng.uniform(-0.05, 0.05):.6f}",
                "_id": str(180_000_000 + index),
                "_uuid": str(uuid.UUID(int=rng.getrandbits(128))),
                "_submission_time": submitted.strftime("%Y-%m-%dT%H:%M:%S"),
                "_validation_status": "",
                "_notes": "",
                "_status": "submitted_via_web",
                "_submitted_by": "kenema_enum_1",
                "__version__": "vHk7Zb3aQ9",
                "_tags": "",
                "_index": str(index + 1),
            }
        )
        if consent == "no":  # the form ends: every question blank
            row["weight"] = "1"
            rows.append(row)
            continue
        row.update(
            {
                "demographics/age": str(rng.randint(18, 70)),
                "demographics/sex": sex,
                "demographics/district": rng.choice(("kenema", "kailahun")),
                # Women are under-represented in the sample: weighted up.
                "weight": f"{rng.uniform(1.2, 1.8) if sex == 'female' else rng.uniform(0.6, 1.0):.4f}",
            }
        )
        safe_share = 0.38 if sex == "female" else 0.55
        draw = rng.random()
        row["safety/feels_safe"] = (
            "dont_know"
            if draw < 0.05
            else rng.choice(("very_safe", "safe"))
            if rng.random() < safe_share
            else rng.choice(("unsafe", "very_unsafe"))
        )
        if row["safety/feels_safe"] in ("unsafe", "very_unsafe") and rng.random() < 0.3:
            row["safety/incident_note"] = "Men with machetes at the market on Tuesday"
        # Skip logic: asked of adults under 60 only.
        if int(row["demographics/age"]) < 60:
            draw = rng.random()
            row["polarisation/willing_violence"] = (
                "dont_know" if draw < 0.08 else "yes" if draw < 0.30 else "no"
            )
        chosen = [a for a in ACTIONS[:3] if rng.random() < 0.25] or ["none"]
        row["agency/actions"] = " ".join(chosen)
        for action in ACTIONS:
            row[f"agency/actions/{action}"] = "1" if action in chosen else "0"
        rows.append(row)
    return rows


def kobo_csv(rows: list[dict], delimiter: str = ";") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADER, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def kobo_xlsx(rows: list[dict]) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Kenema household survey"
    sheet.append(HEADER)
    for row in rows:
        # Kobo's XLSX export writes numbers as numbers and the rest as text.
        sheet.append([_cell(row[h]) for h in HEADER])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _cell(text: str):
    try:
        return int(text) if text.isdigit() else float(text) if "." in text else text
    except ValueError:
        return text


def expected(rows: list[dict], question: str, positive: set, exclude: set, sex=None):
    """The weighted percentage, n and Kish's effective n, computed the plain way."""
    answered = [
        r
        for r in rows
        if r[question]
        and not set(r[question].split()) <= exclude
        and (sex is None or r["demographics/sex"] == sex)
    ]
    weights = [float(r["weight"]) for r in answered]
    hits = [
        w for r, w in zip(answered, weights, strict=True) if set(r[question].split()) & positive
    ]
    return (
        100 * sum(hits) / sum(weights),
        len(answered),
        sum(weights) ** 2 / sum(w * w for w in weights),
    )
