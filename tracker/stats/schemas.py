"""What ``/stats`` and ``GET /api/library/stats`` read and answer (see
``services/stats.py`` for how each figure is counted). The API speaks 0-100 for scores,
as everywhere; each bin of the distribution also says how it reads in the person's
format."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from tracker.models import MEDIA_TYPES


class StatsQuerySchema(Schema):
    type = fields.String(
        validate=validate.OneOf(MEDIA_TYPES),
        metadata={"description": "Only anime or only manga; every figure is then about that "
                  "type alone."},
    )  # fmt: skip


class NamedCountSchema(Schema):
    name = fields.String(allow_none=True, metadata={"description": "null: unknown format"})
    count = fields.Integer()


class MonthCountSchema(Schema):
    month = fields.String(metadata={"description": "YYYY-MM in your time zone"})
    count = fields.Integer()


class CompletionMonthSchema(MonthCountSchema):
    from_history = fields.Integer(
        metadata={"description": "How many of `count` have no completion date with a month "
                  "and are dated by their history instead"}
    )  # fmt: skip


class ScoreBinSchema(Schema):
    label = fields.String(metadata={"description": "The bin in your score format"})
    words = fields.String()
    low = fields.Integer(metadata={"description": "Lowest 0-100 score in the bin"})
    high = fields.Integer(metadata={"description": "Highest 0-100 score in the bin"})
    count = fields.Integer()


class ScoreStatsSchema(Schema):
    format = fields.String(metadata={"description": "Your score format"})
    scored = fields.Integer()
    unscored = fields.Integer(metadata={"description": "No score, or 0 (as on AniList)"})
    mean = fields.Float(allow_none=True, metadata={"description": "Mean 0-100 score"})
    mean_label = fields.String(metadata={"description": "The mean in your score format"})
    distribution = fields.List(fields.Nested(ScoreBinSchema))


class TimeSpentSchema(Schema):
    minutes = fields.Integer(metadata={"description": "Anime watched, estimate included"})
    estimated_minutes = fields.Integer(
        metadata={"description": "The part from a typical episode length for the format, "
                  "where the catalogue has none"}
    )  # fmt: skip
    estimated_titles = fields.Integer()


class StatsSchema(Schema):
    type = fields.String(allow_none=True, metadata={"enum": [*MEDIA_TYPES, None]})
    time_zone = fields.String()
    total = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_type = fields.Dict(keys=fields.String(), values=fields.Integer())
    episodes_watched = fields.Integer(
        metadata={"description": "Progress plus rewatches times the total where known (a "
                  "title being rewatched counts its first watch too)"}
    )  # fmt: skip
    chapters_read = fields.Integer(metadata={"description": "As episodes_watched, for manga"})
    repeats_not_counted = fields.Integer(
        metadata={"description": "Titles with rewatches or rereads whose total is unknown"}
    )
    time_spent = fields.Nested(TimeSpentSchema)
    scores = fields.Nested(ScoreStatsSchema)
    completions = fields.List(
        fields.Nested(CompletionMonthSchema),
        metadata={"description": "The last 12 months, oldest first"},
    )
    activity = fields.List(
        fields.Nested(MonthCountSchema),
        metadata={"description": "History entries, the last 12 months, oldest first"},
    )
    formats = fields.List(fields.Nested(NamedCountSchema))
    genres = fields.List(fields.Nested(NamedCountSchema), metadata={"description": "Top 10"})
