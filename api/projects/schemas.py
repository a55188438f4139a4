import marshmallow as ma
from marshmallow import validate as v

from api import limits
from api.fields import CountryCode, DelimitedList, GeoJSONGeometry, Mapping, unique, validate_bbox
from api.schemas import PageArgsSchema, has_area
from metrics.data import (
    MAX_DESIGN_EFFECT,
    MAX_GROUP_KEY,
    MAX_GROUP_VALUE,
    MAX_GROUPS_TEXT,
    MAX_LENGTH,
    MAX_SAMPLE_SIZE,
)
from metrics.framework import POLARITIES, TRANSFORMS
from metrics.survey import MAX_CHOICES, MAX_QUESTIONS, QUESTION_TYPES


class ProjectWriteSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=v.Length(1, 300))
    description = ma.fields.String(validate=v.Length(max=20_000))
    countries = ma.fields.List(CountryCode(), validate=[v.Length(max=250), unique])
    area = GeoJSONGeometry(allowed=("Polygon", "MultiPolygon"), allow_none=True)
    population = ma.fields.Integer(
        allow_none=True,
        validate=v.Range(1, limits.INT8_MAX),
        metadata={"description": "People in the area (for rates)"},
    )
    start_on = ma.fields.Date(allow_none=True)
    end_on = ma.fields.Date(allow_none=True)
    themes = ma.fields.List(
        ma.fields.String(validate=v.Length(1, 64)), validate=[v.Length(max=30), unique]
    )
    status = ma.fields.String(validate=v.OneOf(("draft", "published")))


class ProjectCreateSchema(ProjectWriteSchema):
    actor_id = ma.fields.UUID(
        required=True, metadata={"description": "The organisation it belongs to"}
    )


class ProjectSchema(ma.Schema):
    id = ma.fields.UUID()
    actor_id = ma.fields.UUID()
    title = ma.fields.String()
    description = ma.fields.String()
    countries = ma.fields.List(ma.fields.String())
    area = GeoJSONGeometry(
        allowed=("Polygon", "MultiPolygon"),
        allow_none=True,
        attribute="public_area",
        metadata={
            "description": "Generalised to the organisation's location precision. Lists leave "
            "it out (see has_area); the project's page has it"
        },
    )
    has_area = has_area("public_area")
    population = ma.fields.Integer(allow_none=True)
    start_on = ma.fields.Date(allow_none=True)
    end_on = ma.fields.Date(allow_none=True)
    themes = ma.fields.List(ma.fields.String())
    status = ma.fields.String()
    disclaimers = ma.fields.List(ma.fields.String(), dump_only=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    version = ma.fields.Integer()


class ProjectQueryArgsSchema(PageArgsSchema):
    country = DelimitedList(CountryCode())
    bbox = DelimitedList(
        ma.fields.Float(allow_nan=False), metadata={"description": "west,south,east,north (area)"}
    )
    theme = DelimitedList(ma.fields.String(validate=v.Length(1, 64)))
    actor_id = DelimitedList(ma.fields.UUID())
    since = ma.fields.Date(metadata={"description": "Projects running on or after"})
    until = ma.fields.Date(metadata={"description": "Projects running on or before"})
    status = DelimitedList(
        ma.fields.String(validate=v.OneOf(("draft", "published"))),
        metadata={"description": "Moderators only"},
    )

    @ma.validates("bbox")
    def check_bbox(self, bbox, **kwargs):
        validate_bbox(bbox)


class ComparisonArgsSchema(ProjectQueryArgsSchema):
    format = ma.fields.String(load_default="json", validate=v.OneOf(("json", "csv", "svg", "png")))
    highlight = ma.fields.UUID(metadata={"description": "Charts: the project to mark"})


class IndicatorSchema(ma.Schema):
    """A project's own lived-experience indicator, declared as a framework measure."""

    key = ma.fields.String(
        required=True,
        validate=[
            v.Length(2, 64),
            v.Regexp(r"^[a-z][a-z0-9_]{1,63}$", error="must be lower_snake_case."),
        ],
    )
    name = ma.fields.String(required=True, validate=v.Length(1, 200))
    theme = ma.fields.String(
        required=True,
        validate=v.OneOf(("violence", "legitimacy", "polarisation", "agency", "investment")),
    )
    unit = ma.fields.String(
        required=True,
        validate=v.Length(1, 64),
        metadata={"description": "'percent' for survey shares"},
    )
    polarity = ma.fields.String(required=True, validate=v.OneOf(POLARITIES))
    valid_range = ma.fields.List(
        ma.fields.Float(allow_nan=False), required=True, validate=v.Length(2, 2)
    )
    goalposts = ma.fields.List(
        ma.fields.Float(allow_nan=False), required=True, validate=v.Length(2, 2)
    )
    transform = ma.fields.String(load_default="linear", validate=v.OneOf(TRANSFORMS))
    weight = ma.fields.Float(load_default=1.0, validate=v.Range(min=0, min_inclusive=False))
    survey = ma.fields.Boolean(
        load_default=False, metadata={"description": "A percentage of respondents"}
    )
    pillar = ma.fields.String(dump_only=True)


class ValueSchema(ma.Schema):
    """One indicator value. Its limits are metrics.data's, the same for every upload format."""

    measure = ma.fields.String(required=True, validate=v.Length(1, MAX_LENGTH["measure"]))
    period = ma.fields.String(
        required=True,
        validate=v.Length(1, MAX_LENGTH["period"]),
        metadata={"description": "baseline, midline, endline…"},
    )
    start = ma.fields.Date(required=True)
    end = ma.fields.Date(required=True)
    value = ma.fields.Float(required=True, allow_nan=False)
    sample_size = ma.fields.Integer(
        allow_none=True,
        validate=v.Range(1, MAX_SAMPLE_SIZE),
        metadata={"description": "Required for survey measures"},
    )
    design_effect = ma.fields.Float(
        allow_none=True,
        allow_nan=False,
        validate=v.Range(0, MAX_DESIGN_EFFECT, min_inclusive=False),
        metadata={
            "description": "Cluster or weighted surveys: the variance of the estimate over a "
            "simple random sample's of the same size; intervals use sample_size / "
            "design_effect. Give this or effective_sample_size, not both."
        },
    )
    effective_sample_size = ma.fields.Float(
        allow_none=True,
        allow_nan=False,
        validate=v.Range(0, MAX_SAMPLE_SIZE, min_inclusive=False),
        metadata={"description": "Cluster or weighted surveys: the effective sample size"},
    )
    disaggregation = Mapping(
        max_properties=20,
        keys=ma.fields.String(validate=v.Length(1, MAX_GROUP_KEY)),
        values=ma.fields.String(validate=v.Length(1, MAX_GROUP_VALUE)),
        load_default=dict,
        metadata={
            "description": 'The group, e.g. {"sex": "female", "age": "18-24"}; empty for the '
            f"total; at most {MAX_GROUPS_TEXT} characters written as k=v;k=v"
        },
    )
    pillar = ma.fields.String(allow_none=True, validate=v.Length(max=MAX_LENGTH["pillar"]))
    paired = ma.fields.Boolean(load_default=False)
    source = ma.fields.String(
        load_default="",
        validate=v.Length(max=MAX_LENGTH["source"]),
        metadata={"description": "Source or method"},
    )
    note = ma.fields.String(load_default="", validate=v.Length(max=MAX_LENGTH["note"]))


class StoredValueSchema(ValueSchema):
    id = ma.fields.Integer()
    start = ma.fields.Date(attribute="start_on")
    end = ma.fields.Date(attribute="end_on")
    created_at = ma.fields.AwareDateTime()
    superseded_at = ma.fields.AwareDateTime(allow_none=True)
    superseded_by = ma.fields.Integer(allow_none=True)


class ValueArgsSchema(ma.Schema):
    replace = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Supersede the current value (kept in history)"},
    )


class ValueListArgsSchema(ma.Schema):
    include_superseded = ma.fields.Boolean(load_default=False)


class ReportArgsSchema(ma.Schema):
    format = ma.fields.String(load_default="json", validate=v.OneOf(("json", "csv", "svg", "png")))
    baseline = ma.fields.String(validate=v.Length(1, 64))
    latest = ma.fields.String(validate=v.Length(1, 64))


class BulkResultSchema(ma.Schema):
    stored = ma.fields.Integer()


# -- reports (documented shapes; the metrics library computes them) ----------------------------


class FrameworkRefSchema(ma.Schema):
    id = ma.fields.String()
    version = ma.fields.String()
    name = ma.fields.String()


class ReportSchema(ma.Schema):
    """A project's report: every period scored, and the change from baseline to latest."""

    framework = ma.fields.Nested(FrameworkRefSchema)
    method = ma.fields.Dict(metadata={"description": "How scores and intervals are computed"})
    periods = ma.fields.List(ma.fields.Dict(), metadata={"description": "label, start, end"})
    measures = ma.fields.Dict(metadata={"description": "Per measure, per period: its score"})
    themes = ma.fields.Dict(metadata={"description": "Per theme, per period: score, interval"})
    overall = ma.fields.Dict(metadata={"description": "Per period: the overall score or null"})
    breakdowns = ma.fields.Dict(metadata={"description": "Per measure and period: by group"})
    change = ma.fields.Dict(
        allow_none=True, metadata={"description": "Baseline to latest; null with one period"}
    )
    data = ma.fields.List(ma.fields.Dict(), metadata={"description": "The values used"})
    project = ma.fields.Dict(metadata={"description": "id, title, actor_id, countries, population"})


class ComparisonSchema(ma.Schema):
    """Projects side by side: latest theme scores, their distribution and positions."""

    framework = ma.fields.Nested(FrameworkRefSchema)
    method = ma.fields.Dict()
    projects = ma.fields.List(
        ma.fields.Dict(), metadata={"description": "id, title, scores and positions per theme"}
    )
    distribution = ma.fields.Dict(metadata={"description": "Per theme: n, median, quartiles"})
    caveats = ma.fields.List(ma.fields.String())


class FrameworkSchema(ma.Schema):
    """A framework document: themes, pillars, measures with goalposts and weights."""

    id = ma.fields.String()
    version = ma.fields.String()
    name = ma.fields.String()
    themes = ma.fields.List(ma.fields.Dict())
    pillars = ma.fields.List(ma.fields.String())
    measures = ma.fields.List(ma.fields.Dict())
    minimum_sample_size = ma.fields.Integer()
    overall = ma.fields.Dict()


# -- survey exports (KoboToolbox, ODK) -----------------------------------------------------------

CHOICE = ma.fields.String(validate=v.Length(1, 200))
COLUMN = {"validate": v.Length(1, 300)}


class SurveyQuestionSchema(ma.Schema):
    """A question of the form and what its answer choices mean for one survey measure."""

    measure = ma.fields.String(required=True, validate=v.Length(1, MAX_LENGTH["measure"]))
    question = ma.fields.String(
        required=True,
        metadata={"description": "The column's header in the export, e.g. safety/feels_safe"},
        **COLUMN,
    )
    type = ma.fields.String(load_default="select_one", validate=v.OneOf(QUESTION_TYPES))
    positive = ma.fields.List(
        CHOICE,
        required=True,
        validate=v.Length(1, MAX_CHOICES),
        metadata={"description": "Choices that count towards the percentage"},
    )
    negative = ma.fields.List(
        CHOICE,
        required=True,
        validate=v.Length(max=MAX_CHOICES),
        metadata={"description": "Choices that count against it"},
    )
    exclude = ma.fields.List(
        CHOICE,
        load_default=list,
        validate=v.Length(max=MAX_CHOICES),
        metadata={"description": "Choices left out of the count (don't know, refused)"},
    )


class SurveyMappingSchema(ma.Schema):
    """How an export's questions and answer choices become measures (metrics/survey.py)."""

    questions = ma.fields.List(
        ma.fields.Nested(SurveyQuestionSchema), required=True, validate=v.Length(1, MAX_QUESTIONS)
    )
    weight = ma.fields.String(
        allow_none=True, metadata={"description": "The weight column, if any"}, **COLUMN
    )
    groups = Mapping(
        max_properties=5,
        keys=ma.fields.String(validate=v.Length(1, MAX_GROUP_KEY)),
        values=ma.fields.String(**COLUMN),
        load_default=dict,
        metadata={"description": 'Breakdowns: {"sex": "demographics/sex"}'},
    )
    date = ma.fields.String(
        allow_none=True,
        metadata={"description": "The date column (default: _submission_time, SubmissionDate…)"},
        **COLUMN,
    )


class StoredSurveyMappingSchema(SurveyMappingSchema):
    name = ma.fields.String()


class SurveyImportArgsSchema(ma.Schema):
    mapping = ma.fields.String(
        required=True, validate=v.Length(1, 64), metadata={"description": "A saved mapping"}
    )
    period = ma.fields.String(required=True, validate=v.Length(1, MAX_LENGTH["period"]))
    start = ma.fields.Date(metadata={"description": "Default: the earliest response's date"})
    end = ma.fields.Date(metadata={"description": "Default: the latest response's date"})
    replace = ma.fields.Boolean(
        load_default=False, metadata={"description": "Supersede current values"}
    )
    keep_responses = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "Also keep each respondent's answers to the mapped questions (never "
            "other columns); by default only the aggregates are stored"
        },
    )


class SurveyValueSchema(ma.Schema):
    measure = ma.fields.String()
    value = ma.fields.Float()
    sample_size = ma.fields.Integer()
    effective_sample_size = ma.fields.Float()
    disaggregation = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    period = ma.fields.String()
    start = ma.fields.String()
    end = ma.fields.String()
    source = ma.fields.String()


class SurveyImportResultSchema(ma.Schema):
    stored = ma.fields.Integer()
    respondents = ma.fields.Integer()
    period = ma.fields.String()
    start = ma.fields.String()
    end = ma.fields.String()
    values = ma.fields.List(ma.fields.Nested(SurveyValueSchema))
    suppressed = ma.fields.List(
        ma.fields.Dict(),
        metadata={"description": "Groups under the minimum sample size: not stored"},
    )
    responses_kept = ma.fields.String(
        allow_none=True, metadata={"description": "The upload id of the kept responses"}
    )


class KeptResponseSchema(ma.Schema):
    line = ma.fields.Integer()
    answers = ma.fields.Dict()
