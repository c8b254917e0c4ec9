//! Heap allocations per new-connection request (issue 18, target 4): a client that opens a
//! connection per request (`ab` without `-k`) costs the server a bounded number of allocations
//! per connection. A counting global allocator counts the allocations made on the loop's thread
//! only (the blocking client runs on another thread), so the figure is the server's alone.
//!
//! One test in its own binary: the counter is process-wide state.

// A global allocator is an `unsafe impl`; it only forwards to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use typhoon_httpserver::HTTPServer;
use typhoon_ioloop::IOLoop;
use typhoon_testing::run_test;

/// Counts the allocations of the threads that opted in.
struct Counting;

thread_local! {
    /// Whether this thread's allocations count, and how many it made.
    static COUNTED: Cell<(bool, u64)> = const { Cell::new((false, 0)) };
}

// SAFETY: every call is forwarded to `System` unchanged; the counting only touches a
// const-initialized thread-local cell, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Counts one allocation if this thread opted in (`try_with`: never during thread teardown).
fn count() {
    let _ = COUNTED.try_with(|cell| {
        let (on, n) = cell.get();
        if on {
            cell.set((true, n + 1));
        }
    });
}

/// Allocations this thread has made since it opted in.
fn counted() -> u64 {
    COUNTED.with(|cell| cell.get().1)
}

/// Makes `n` requests from another thread, each on a new connection that the server closes
/// (`Connection: close`), and waits for the last one's answer.
async fn new_connection_requests(addr: SocketAddr, n: usize) {
    let client = IOLoop::current().run_in_executor(move || {
        for _ in 0..n {
            let mut socket = TcpStream::connect(addr).expect("connect");
            socket
                .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .expect("write");
            let mut answer = Vec::new();
            socket.read_to_end(&mut answer).expect("read");
            assert!(answer.starts_with(b"HTTP/1.1 200 OK\r\n"), "{answer:?}");
        }
    });
    client.await.expect("client");
}

/// The count is deterministic, so the bound is the measured figure: any new allocation per
/// connection fails the test. Measured 32 (valgrind dhat names them): the task, the connection
/// future and the per-request future (3); the stream's `Rc`, its reactor state and its close
/// event (3); the connection handle and the response state (2); the peer's address string (1);
/// the parsed head and its headers (6); the request's header map and strings (5); the
/// response head's headers and formatting (7); the queued chunks (2); and a few more small
/// ones. It was 35 before a closed stream's read buffer went back to the thread's pool and the
/// response state stopped allocating a shutdown flag of its own only to drop it.
const MAX_ALLOCATIONS_PER_CONNECTION: u64 = 32;

#[test]
fn a_new_connection_request_allocates_a_bounded_number_of_times() {
    run_test(async {
        COUNTED.with(|cell| cell.set((true, 0)));
        let server = HTTPServer::new(|_request, mut response| async move {
            response.write(b"Hello, world");
        });
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        // Warm-up: pools, the executor's thread, the loop's first timers.
        new_connection_requests(addr, 50).await;
        server.connections_closed().await;
        const N: usize = 500;
        let before = counted();
        new_connection_requests(addr, N).await;
        server.connections_closed().await;
        let per_connection = (counted() - before) / N as u64;
        eprintln!("allocations per new-connection request: {per_connection}");
        assert!(
            per_connection <= MAX_ALLOCATIONS_PER_CONNECTION,
            "{per_connection} allocations per connection, over {MAX_ALLOCATIONS_PER_CONNECTION}"
        );
        server.stop();
    });
}
