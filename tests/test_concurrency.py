"""Simultaneous clicks all count: progress changes are one atomic UPDATE."""

from __future__ import annotations

import threading

from tests.conftest import ApiClient


def increment_at_once(api: ApiClient, item_id: int, clicks: int) -> list[int]:
    """Fire ``clicks`` increments from separate threads released together."""
    return post_at_once(api, f"/api/library/items/{item_id}/increment", {"by": 1}, clicks)


def post_at_once(api: ApiClient, path: str, body: dict, clicks: int) -> list[int]:
    """POST ``body`` to ``path`` ``clicks`` times from threads released together."""
    start = threading.Barrier(clicks)
    statuses: list[int] = []
    lock = threading.Lock()

    def click() -> None:
        client = ApiClient(api.client.application.test_client(), api.token)
        start.wait()
        status = client.post(path, json=body).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=click) for _ in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_two_simultaneous_increments_give_two(api):
    item = api.add(status="current")
    assert increment_at_once(api, item["id"], 2) == [200, 200]
    assert api.get(f"/api/library/items/{item['id']}").get_json()["progress"] == 2


def test_a_burst_of_increments_loses_none(api):
    item = api.add(status="current")
    statuses = increment_at_once(api, item["id"], 12)
    assert statuses == [200] * 12
    assert api.get(f"/api/library/items/{item['id']}").get_json()["progress"] == 12


def test_simultaneous_increments_never_pass_the_max(api):
    item = api.add(status="current", progress=8, max_progress=10)
    statuses = increment_at_once(api, item["id"], 6)
    assert sorted(statuses) == [200, 200, 422, 422, 422, 422]
    assert api.get(f"/api/library/items/{item['id']}").get_json()["progress"] == 10


def test_simultaneous_first_episodes_each_record_what_they_changed(api):
    item = api.add(status="planning")
    assert increment_at_once(api, item["id"], 4) == [200] * 4
    events = api.get(f"/api/library/items/{item['id']}/events").get_json()
    steps = sorted(e["changes"]["progress"] for e in events if e["kind"] == "updated")
    assert steps == [[0, 1], [1, 2], [2, 3], [3, 4]]
    starts = [e["changes"]["status"] for e in events if "status" in e["changes"]]
    assert starts == [["planning", "current"]]
