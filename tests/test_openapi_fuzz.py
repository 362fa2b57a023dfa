"""The OpenAPI document tells the truth: schemathesis, with every check, finds nothing.

The app is served on a free loopback port and the schemathesis command line runs against
it in its own process (its hooks and settings stay out of this one), signed in with a
real token for a person who has a few items. `make fuzz` runs the same with more examples.

Every operation is fuzzed, the AniList callback too (it refuses made-up states before any
call to AniList). What is not held against the server is said, with the reason, in
tests/fuzz/schemathesis.toml.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.fakes import serve

CONFIG = Path(__file__).parent / "fuzz" / "schemathesis.toml"
SEED = 20261201
# Bounded by the number of cases (not a clock, which a loaded machine would make flaky):
# about a minute in `make test` on two shared cores. `make fuzz` asks for more examples.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "8"))
TIMEOUT = int(os.environ.get("FUZZ_TIMEOUT", "600"))
CASES = re.compile(r"(?P<generated>\d+) generated, (?P<passed>\d+) passed")


@pytest.fixture
def served(remote_app, remote_api):
    """The app (searching the fake AniList and MangaDex) and a token for alice."""
    remote_api.add(title="Frieren", source="anilist", anilist_id=154587, progress=1)
    for title, kind in [("Dungeon Meshi", "manga"), ("Mushishi", "anime")]:
        remote_api.add(title=title, type=kind, progress=1, max_progress=24, started_on="2024-05")
    url, stop = serve(remote_app)
    yield url, remote_api.token
    stop()


def test_the_server_answers_as_its_openapi_document_says(served, tmp_path):
    url, token = served
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "--no-color",
        "run", f"{url}/api/openapi.json", "--checks", "all", "--seed", str(SEED),
        "--max-examples", str(MAX_EXAMPLES), "--header", f"Authorization: Bearer {token}",
    ]  # fmt: skip
    started = time.monotonic()
    # The working directory is the test's own, so no run leaves files behind or sees another's.
    done = subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    elapsed = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    cases = CASES.search(output)
    assert cases and cases["generated"] == cases["passed"], output
    phases = "; ".join(line.strip(" ✅⏭") for line in output.splitlines() if "(in " in line)
    print(f"\nOpenAPI fuzz: {cases['generated']} cases passed in {elapsed:.1f} s ({phases})")
