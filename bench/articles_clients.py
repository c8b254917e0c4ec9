"""Load clients for bench/articles.sh, the Tornado performance articles' experiments. Standard library only.

  burst PORT PATH N C     C connections opened at once, N requests in all (keep-alive, each
                          connection sends its next request when the previous answer is in);
                          prints ab-style figures: req/s and mean time per request
                          (= C x elapsed / N, ab's "Time per request (mean)") and the mean
                          latency of one request.
  order PORT FIRST SECOND two requests on two connections, the second sent 100 ms after the
                          first; prints when each finished, relative to the first's start.
  c10k PORT PID N         N keep-alive connections opened and held idle (server RSS before and
                          after), then one request sent on every one of them at once and all
                          answers read (RSS again); prints a JSON line.
"""
import json
import selectors
import socket
import sys
import threading
import time


def request_bytes(path):
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def read_response(sock, buf=b""):
    """Reads one Content-Length or chunked response; returns (status, leftover bytes)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the head")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        length = int(headers[b"content-length"])
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed in the body")
            rest += chunk
        return status, rest[length:]
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        while b"\r\n0\r\n\r\n" not in b"\r\n" + rest:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed in a chunked body")
            rest += chunk
        end = (b"\r\n" + rest).index(b"\r\n0\r\n\r\n") + 5
        return status, rest[end:]
    return status, b""


def burst(port, path, n, c):
    per_conn = [n // c + (1 if i < n % c else 0) for i in range(c)]
    latencies = []
    errors = []
    lock = threading.Lock()
    start_gate = threading.Barrier(c + 1)

    def worker(count):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=600)
            start_gate.wait()
            buf = b""
            for _ in range(count):
                t0 = time.monotonic()
                sock.sendall(request_bytes(path))
                status, buf = read_response(sock, buf)
                if status != 200:
                    raise RuntimeError(f"status {status}")
                with lock:
                    latencies.append(time.monotonic() - t0)
            sock.close()
        except Exception as error:  # reported below, never hidden
            with lock:
                errors.append(repr(error))

    threads = [threading.Thread(target=worker, args=(k,)) for k in per_conn]
    for t in threads:
        t.start()
    start_gate.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    done = len(latencies)
    print(json.dumps({
        "requests": done,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "elapsed_s": round(elapsed, 3),
        "req_per_s": round(done / elapsed, 2),
        "time_per_request_ms_ab_style": round(c * elapsed / done * 1000, 1) if done else None,
        "mean_latency_ms": round(sum(latencies) / done * 1000, 1) if done else None,
    }))


def order(port, first, second):
    t0 = time.monotonic()
    finished = {}

    def fetch(label, path, delay):
        time.sleep(delay)
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.sendall(request_bytes(path))
        read_response(sock)
        finished[label] = time.monotonic() - t0
        sock.close()

    threads = [
        threading.Thread(target=fetch, args=(f"1st {first}", first, 0.0)),
        threading.Thread(target=fetch, args=(f"2nd {second}", second, 0.1)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({k: round(v, 3) for k, v in sorted(finished.items(), key=lambda kv: kv[1])}))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def c10k(port, pid, n):
    warm = socket.create_connection(("127.0.0.1", port))
    warm.sendall(request_bytes("/"))
    read_response(warm)
    warm.close()
    time.sleep(0.5)
    before = rss_kib(pid)
    conns = []
    t0 = time.monotonic()
    for _ in range(n):
        conns.append(socket.create_connection(("127.0.0.1", port), timeout=60))
    open_s = time.monotonic() - t0
    time.sleep(1.0)
    held = rss_kib(pid)
    # Every connection sends its request at once; read all answers through one selector.
    sel = selectors.DefaultSelector()
    request = request_bytes("/")
    for s in conns:
        s.sendall(request)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, b"")
    t1 = time.monotonic()
    pending = len(conns)
    ok = 0
    deadline = t1 + 120
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            try:
                chunk = s.recv(65536)
            except BlockingIOError:
                continue
            data = key.data + chunk
            if not chunk:
                sel.unregister(s)
                pending -= 1
                continue
            if b"\r\n\r\n" in data and data.endswith(b"Hello, world"):
                ok += int(data.startswith(b"HTTP/1.1 200"))
                sel.unregister(s)
                pending -= 1
            else:
                sel.modify(s, selectors.EVENT_READ, data)
    serve_s = time.monotonic() - t1
    time.sleep(1.0)
    after = rss_kib(pid)
    for s in conns:
        s.close()
    print(json.dumps({
        "connections": n,
        "answered_200": ok,
        "rss_before_kib": before,
        "rss_idle_kib": held,
        "rss_after_requests_kib": after,
        "idle_kib_per_conn": round((held - before) / n, 2),
        "after_kib_per_conn": round((after - before) / n, 2),
        "open_s": round(open_s, 2),
        "serve_all_s": round(serve_s, 2),
    }))


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "burst":
        burst(int(args[0]), args[1], int(args[2]), int(args[3]))
    elif command == "order":
        order(int(args[0]), args[1], args[2])
    elif command == "c10k":
        c10k(int(args[0]), int(args[1]), int(args[2]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
