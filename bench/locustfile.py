"""The simulated people of ``make load`` (run by bench/load.py, not on its own).

Each locust user signs in as one of the prepared accounts, then asks as fast as it is
answered (a closed loop), following one timeline shared by all users, which starts once
every user has signed in and ends the run when it is over:

- warm-up: the bare route, not counted (sign-ins, connections, first requests);
- one short phase per request kind alone: every user asks only that kind, so its
  throughput can be set against the bare route's;
- the mixed phase: each request a kind drawn by MIXED_WEIGHTS (+1 the most common).

The plan (accounts, items, timings, where to write) comes as JSON in the file named by
LOAD_PLAN; the results (every response time by phase and kind, errors, and the +1s
sent and acknowledged per item) are written to the plan's ``result`` path at the end.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

import gevent
from locust import FastHttpUser, constant, events, task

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
KINDS = ("bare", "list", "increment", "search", "item", "status")
MIXED_WEIGHTS = {"bare": 1, "list": 2, "increment": 4, "search": 2, "item": 2, "status": 2}
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')

_accounts = itertools.count()
_signed_in = itertools.count(1)
_started: list[float] = []  # when the last user signed in
samples: dict[str, list[float]] = defaultdict(list)  # "phase:kind" -> milliseconds
errors: Counter[str] = Counter()
examples: dict[str, str] = {}
sent: Counter[int] = Counter()  # +1s asked for, per item
acked: Counter[int] = Counter()  # +1s answered 200, per item


def timeline() -> list[tuple[str, float, float]]:
    """(phase, start, end) in seconds from the test's start."""
    phases, at = [("warmup", 0.0, PLAN["warmup"])], PLAN["warmup"]
    for kind in KINDS:
        phases.append((f"alone-{kind}", at, at + PLAN["alone"]))
        at += PLAN["alone"]
    phases.append(("mixed", at, at + PLAN["mixed"]))
    return phases


PHASES = timeline()


def current_phase() -> str:
    if not _started:
        return "signing-in"
    elapsed = time.monotonic() - _started[0]
    return next((name for name, start, end in PHASES if start <= elapsed < end), "done")


@events.request.add_listener
def _record(name: str, response_time: float, exception: Exception | None, **_kwargs) -> None:
    if name.startswith(("warmup", "signing-in", "login")):
        return
    samples[name].append(response_time)
    if exception is not None:
        errors[name] += 1
        examples.setdefault(name, repr(exception)[:300])


@events.quitting.add_listener
def _write(**_kwargs) -> None:
    result = {"phases": PHASES, "samples": samples, "errors": errors, "examples": examples,
              "sent": sent, "acked": acked}  # fmt: skip
    Path(PLAN["result"]).write_text(json.dumps(result))


class Person(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        me = PLAN["users"][next(_accounts) % len(PLAN["users"])]
        self.items: list[int] = me["items"]
        self.rng = random.Random(me["username"])
        page = self.client.get("/login", name="login").text
        token = CSRF_INPUT.search(page).group(1)
        form = {"username": me["username"], "password": PLAN["password"], "csrf_token": token}
        with self.client.post("/login", data=form, name="login", catch_response=True) as answer:
            if answer.status_code != 200 or "Log out" not in answer.text:  # signed in
                answer.failure(f"sign-in failed: {answer.status_code}")
        self.token = token
        if next(_signed_in) == len(PLAN["users"]):
            _started.append(time.monotonic())

    @task
    def step(self) -> None:
        phase = current_phase()
        if phase == "done":
            if _started[-1] is not None:  # the first to see it ends the run (once)
                _started.append(None)
                gevent.spawn(self.environment.runner.quit)
            gevent.sleep(0.1)
            return
        if phase in ("signing-in", "warmup"):
            kind = "bare"
        elif phase == "mixed":
            kind = self.rng.choices(list(MIXED_WEIGHTS), weights=list(MIXED_WEIGHTS.values()))[0]
        else:
            kind = phase.removeprefix("alone-")
        getattr(self, f"ask_{kind}")(f"{phase}:{kind}")

    def _get(self, path: str, name: str, **kwargs) -> None:
        with self.client.get(path, name=name, catch_response=True, **kwargs) as answer:
            if answer.status_code != 200:
                answer.failure(f"HTTP {answer.status_code}: {(answer.text or '')[:200]}")

    def ask_bare(self, name: str) -> None:
        self._get(PLAN["bare_path"], name)

    def ask_list(self, name: str) -> None:
        self._get("/", name)

    def ask_item(self, name: str) -> None:
        self._get(f"/items/{self.rng.choice(self.items)}", name)

    def ask_status(self, name: str) -> None:
        self._get("/api/anilist/status", name)

    def ask_search(self, name: str) -> None:
        term = self.rng.choice(PLAN["search_terms"])
        self._get(f"/api/sources/autocomplete?q={term}&type=anime", name)

    def ask_increment(self, name: str) -> None:
        item = self.rng.choice(self.items)
        headers = {"HX-Request": "true", "X-CSRFToken": self.token, "HX-Target": f"item-{item}"}
        sent[item] += 1
        with self.client.post(f"/items/{item}/increment", data={"by": "1"}, headers=headers,
                              name=name, catch_response=True) as answer:  # fmt: skip
            if answer.status_code == 200:
                acked[item] += 1
            else:
                answer.failure(f"HTTP {answer.status_code}: {(answer.text or '')[:200]}")
