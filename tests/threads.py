"""Races with real threads, for the PostgreSQL concurrency tests."""

import threading

from django.db import connection

from counseling_platform.errors import DomainError


def run_at_once(calls) -> list:
    """Run each call in its own thread, released together; return each one's result or
    the domain error it raised, in the order of `calls`. Any other exception is raised
    here, so a crash is not mistaken for a refusal."""
    barrier = threading.Barrier(len(calls), timeout=30)
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    for result in results:
        if isinstance(result, Exception) and not isinstance(result, DomainError):
            raise result
    return results
