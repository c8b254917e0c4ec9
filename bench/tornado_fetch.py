"""Tornado's AsyncHTTPClient fetching a URL (its simple_httpclient opens a connection per
request: that is Tornado's real behaviour, not a keep-alive pool). The peer of
examples/fetch_bench.
Usage: tornado_fetch.py URL REQUESTS CONCURRENCY"""
import asyncio
import sys
import time

from tornado.httpclient import AsyncHTTPClient


async def main():
    url, total, concurrency = sys.argv[1], int(sys.argv[2]), max(1, int(sys.argv[3]))
    client = AsyncHTTPClient(max_clients=concurrency)
    ok = 0

    async def worker(count):
        nonlocal ok
        for _ in range(count):
            try:
                await client.fetch(url)
                ok += 1
            except Exception:
                pass

    start = time.perf_counter()
    await asyncio.gather(*(worker(total // concurrency + (1 if i < total % concurrency else 0))
                           for i in range(concurrency)))
    seconds = time.perf_counter() - start
    print(f"tornado: {ok}/{total} ok in {seconds:.2f} s: {ok / seconds:.0f} req/s (concurrency {concurrency})")


asyncio.run(main())
