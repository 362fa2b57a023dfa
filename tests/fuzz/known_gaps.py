"""Failures the fuzzer finds whose fix is on another branch (schemathesis hook module).

Loaded by the schemathesis process through tests/fuzz/schemathesis.toml. Each filter
drops only the failures of one known gap; delete it once the fix is merged, and the
bounded run in tests/test_openapi_fuzz.py holds the server to it again.
"""

from __future__ import annotations

import schemathesis

# PostgreSQL's integer columns stop here (SQLite's at 2**63 - 1).
SQL_INTEGER_MAX = 2**31 - 1


def _too_big_for_sql(values: dict | None) -> bool:
    return any(isinstance(v, int) and abs(v) > SQL_INTEGER_MAX for v in (values or {}).values())


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    if response.status_code != 500:
        return True
    # Gap 1 (the "OPTIONS answers 500" branch): OPTIONS on an authenticated route reaches
    # get_current_user() without a verified token.
    if case.method.upper() == "OPTIONS":
        return False
    # Gap 2 (the "big-integer ids" branch): an id past the database's integers overflows
    # in the driver instead of answering 404.
    return not (_too_big_for_sql(case.path_parameters) or _too_big_for_sql(case.query))
