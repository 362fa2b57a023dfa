"""Every GraphQL document the app sends is valid against AniList's real schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import GraphQLSchema, OperationDefinitionNode, build_schema, parse, validate

from tests.conftest import need_shared
from tracker.clients import anilist
from tracker.clients.anilist import ALL_DOCUMENTS

# <repo>/../shared/anilist/schema.graphql; need_shared skips on a user's clone, fails in CI.
SCHEMA = Path(__file__).resolve().parents[2] / ".." / "shared" / "anilist" / "schema.graphql"


def operation_name(document: str) -> str:
    match = re.search(r"\b(?:query|mutation)\s+(\w+)", document)
    return match.group(1) if match else "anonymous"


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    path = need_shared("anilist/schema.graphql")
    assert path.resolve() == SCHEMA.resolve()
    return build_schema(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("document", ALL_DOCUMENTS, ids=operation_name)
def test_document_is_valid_against_the_anilist_schema(schema: GraphQLSchema, document: str) -> None:
    errors = validate(schema, parse(document))

    assert [error.message for error in errors] == []


def test_validation_does_catch_a_wrong_document(schema: GraphQLSchema) -> None:
    wrong = "query { Media(id: 1) { id title { romaji } episodeCount } }"

    assert validate(schema, parse(wrong))


def test_every_document_constant_is_listed() -> None:
    constants = {
        name
        for name, value in vars(anilist).items()
        if name.isupper() and isinstance(value, str) and re.match(r"\s*(query|mutation)\b", value)
    }
    listed = {name for name in constants if getattr(anilist, name) in ALL_DOCUMENTS}

    assert constants == listed
    assert len(ALL_DOCUMENTS) == len(set(ALL_DOCUMENTS))


def test_every_document_is_one_named_operation() -> None:
    names = []
    for document in ALL_DOCUMENTS:
        operations = [
            d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)
        ]
        assert len(operations) == 1 and operations[0].name is not None
        names.append(operations[0].name.value)

    assert len(names) == len(set(names))
