"""Open N keep-alive connections to a server, make one request on each, hold them all idle,
and print the server's RSS growth per connection. Usage: idle_conns.py PORT PID N"""
import socket
import sys
import time

from articles_clients import rss_kib  # the same /proc reader as the articles' C10K client


def main():
    port, pid, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    # Warm the server up (first allocations, caches) before the baseline.
    warm = socket.create_connection(("127.0.0.1", port))
    warm.sendall(request)
    warm.recv(4096)
    time.sleep(0.5)
    before = rss_kib(pid)
    conns = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(request)
        data = b""
        while b"Hello, world" not in data:
            chunk = s.recv(4096)
            if not chunk:
                raise RuntimeError("server closed a connection")
            data += chunk
        conns.append(s)
    time.sleep(1.5)  # let servers that release buffers on idle do so
    after = rss_kib(pid)
    print(f"{n} idle connections: RSS {before} KiB -> {after} KiB, {(after - before) / n:.2f} KiB per connection")
    for s in conns:
        s.close()


if __name__ == "__main__":
    main()
