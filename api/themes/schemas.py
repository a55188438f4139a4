import marshmallow as ma
from marshmallow import validate as v

from api.themes.models import THEME_GROUPS


class ThemeSchema(ma.Schema):
    key = ma.fields.String(
        required=True,
        validate=[
            v.Length(2, 64),
            v.Regexp(r"^[a-z][a-z0-9_]{1,63}$", error="must be lower_snake_case, 2-64 characters."),
        ],
    )
    label = ma.fields.String(required=True, validate=v.Length(1, 120))
    group = ma.fields.String(
        required=True,
        validate=v.OneOf(THEME_GROUPS),
        metadata={
            "description": "framework: one of the five framework themes; sector: a field of work"
        },
    )
    description = ma.fields.String(load_default="", validate=v.Length(max=500))
