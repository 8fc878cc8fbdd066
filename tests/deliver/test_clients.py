"""The SendGrid client's connections: at most `concurrency`, each lent to one request."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from pipeline.deliver.sendgrid import Clients


def test_never_more_clients_than_its_size_and_each_to_one_request_at_a_time() -> None:
    made: list[httpx.Client] = []
    in_use: set[int] = set()
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def make() -> httpx.Client:
        made.append(client := httpx.Client())
        return client

    clients = Clients(make, size=4, wait_s=60)

    def request(i: int) -> None:
        if i < 8:
            barrier.wait()  # eight threads want a client at once
        with clients.lend() as client:
            with lock:
                assert id(client) not in in_use, "one client lent to two requests"
                in_use.add(id(client))
            with lock:
                in_use.discard(id(client))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(request, range(200)))
    assert 1 <= len(made) <= 4
    clients.close()
    assert all(c.is_closed for c in made)


def test_a_request_that_finds_every_client_lent_fails_as_a_pool_timeout() -> None:
    """Nothing was sent: the mailer maps it to a transient "no connection" failure."""
    clients = Clients(httpx.Client, size=1, wait_s=0)
    with clients.lend(), pytest.raises(httpx.PoolTimeout), clients.lend():
        pass
    with clients.lend():  # returned: lent again
        pass
    clients.close()
