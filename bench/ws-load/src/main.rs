//! WebSocket load client (uWebSockets' `load_test` design): `conns` connections, each sending one
//! pre-built masked binary frame of `size` bytes and the next one only once the echo (`size`
//! payload bytes plus the server's header) has come back; the first echo of each connection is
//! checked byte for byte. Prints messages per second over the measured window and the client's
//! own CPU time, as `key=value` pairs for bench/websocket.sh.
//!
//! Usage: `ws-load PORT CONNS SIZE SECONDS [PATH]`.
//!
//! With `idle` as SIZE it opens CONNS connections, sends one 65-byte text message on each, waits
//! for every echo and then holds them open until stdin closes (for RSS per idle connection);
//! `idle-deflate` does the same with a permessage-deflate offer (the echo comes back
//! compressed).
//!
//! With `broadcast` (or `broadcast-deflate`) as SIZE and ROUNDS in place of SECONDS it opens
//! CONNS connections to PATH (a broadcast room of `websocket_echo`), then `ROUNDS` times sends a
//! 64-byte text message on the first connection and waits until every connection has received
//! it (frames are counted by parsing their headers, so compressed ones count too). It prints
//! deliveries per second, the fan-out time of a round (from the send to the last delivery) at
//! p50 and p99, its own CPU and, given `SERVER_PID`, the server's CPU per delivery.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use polling::{Event, Events, Poller};

/// The fixed mask of every frame (load_test uses a fixed mask too).
const MASK: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

/// One connection's progress.
struct Conn {
    stream: TcpStream,
    /// Bytes of the frame still to send.
    unsent: usize,
    /// Echo bytes received for the current message.
    received: usize,
    /// The first echo, kept to check it.
    first: Option<Vec<u8>>,
    /// Messages completed.
    done: u64,
}

fn frame(payload: &[u8], opcode: u8) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= 0xFFFF {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    out
}

/// The server's (unmasked) frame length for a payload of `len`.
fn echo_len(len: usize) -> usize {
    len + if len < 126 { 2 } else if len <= 0xFFFF { 4 } else { 10 }
}

fn handshake(port: u16, path: &str, deflate: bool) -> io::Result<TcpStream> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_nodelay(true)?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{}\r\n",
        if deflate {
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        } else {
            ""
        }
    )?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(io::Error::other("closed during the handshake"));
        }
        head.push(byte[0]);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        return Err(io::Error::other(String::from_utf8_lossy(&head).into_owned()));
    }
    Ok(stream)
}

/// User plus system CPU seconds of this process.
fn own_cpu() -> f64 {
    cpu_of("self")
}

/// User plus system CPU seconds of process `pid`.
fn cpu_of(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum());
    ticks / 100.0
}

/// Counts the whole server frames in `pending` (appending `data` first), keeping a partial one.
fn count_frames(pending: &mut Vec<u8>, data: &[u8]) -> u64 {
    pending.extend_from_slice(data);
    let (mut at, mut frames) = (0, 0);
    loop {
        let rest = &pending[at..];
        if rest.len() < 2 {
            break;
        }
        let (header, len) = match rest[1] & 0x7f {
            126 if rest.len() >= 4 => (4, u16::from_be_bytes([rest[2], rest[3]]) as usize),
            127 if rest.len() >= 10 => (10, u64::from_be_bytes(rest[2..10].try_into().unwrap()) as usize),
            126 | 127 => break,
            n => (2, n as usize),
        };
        if rest.len() < header + len {
            break;
        }
        at += header + len;
        frames += 1;
    }
    pending.drain(..at);
    frames
}

/// The broadcast mode (see the crate doc).
fn broadcast(port: u16, conns: usize, rounds: usize, path: &str, deflate: bool) -> io::Result<()> {
    let poller = Poller::new()?;
    let mut streams = Vec::with_capacity(conns);
    for key in 0..conns {
        let stream = handshake(port, path, deflate)?;
        stream.set_nonblocking(true)?;
        unsafe { poller.add(&stream, Event::readable(key))? };
        streams.push(stream);
    }
    let payload: Vec<u8> = (0..64).map(|i| b'a' + (i % 26) as u8).collect();
    let message = frame(&payload, 1);
    let mut received = vec![0u64; conns];
    let mut pending: Vec<Vec<u8>> = vec![Vec::new(); conns];
    let mut scratch = vec![0u8; 64 * 1024];
    let mut events = Events::new();
    // Reads whatever is ready for up to `wait`; returns whether anything arrived.
    let mut pump = |received: &mut [u64], wait: Duration| -> io::Result<bool> {
        events.clear();
        poller.wait(&mut events, Some(wait))?;
        let mut any = false;
        for event in events.iter() {
            let key = event.key;
            loop {
                match (&streams[key]).read(&mut scratch) {
                    Ok(0) => return Err(io::Error::other("the server closed a connection")),
                    Ok(n) => {
                        received[key] += count_frames(&mut pending[key], &scratch[..n]);
                        any = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            poller.modify(&streams[key], Event::readable(key))?;
        }
        Ok(any)
    };
    let send = |stream: &TcpStream| -> io::Result<()> {
        let mut stream = stream;
        stream.set_nonblocking(false)?;
        stream.write_all(&message)?;
        stream.set_nonblocking(true)
    };
    // Warm-up: broadcast until every connection has joined the room and got one, then let the
    // last deliveries land.
    while received.iter().any(|&r| r == 0) {
        send(&streams[0])?;
        let until = Instant::now() + Duration::from_millis(300);
        while Instant::now() < until && received.iter().any(|&r| r == 0) {
            pump(&mut received, Duration::from_millis(50))?;
        }
    }
    while pump(&mut received, Duration::from_millis(200))? {}
    let server_pid = std::env::var("SERVER_PID").ok();
    let server_from = server_pid.as_deref().map(cpu_of);
    let (cpu_from, start) = (own_cpu(), Instant::now());
    let mut fanouts = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let target: Vec<u64> = received.iter().map(|r| r + 1).collect();
        let sent = Instant::now();
        send(&streams[0])?;
        let mut left = conns;
        while left > 0 {
            pump(&mut received, Duration::from_secs(5))?;
            left = received.iter().zip(&target).filter(|(r, t)| r < t).count();
        }
        fanouts.push(sent.elapsed().as_secs_f64() * 1e3);
    }
    let seconds = start.elapsed().as_secs_f64();
    fanouts.sort_by(f64::total_cmp);
    let pct = |p: f64| fanouts[((fanouts.len() - 1) as f64 * p).round() as usize];
    let deliveries = (conns * rounds) as f64;
    let server = match (server_pid.as_deref(), server_from) {
        (Some(pid), Some(from)) => format!(" server_us_per_delivery={:.3}", (cpu_of(pid) - from) * 1e6 / deliveries),
        _ => String::new(),
    };
    println!(
        "deliveries={deliveries} seconds={seconds:.2} deliveries_per_sec={:.0} p50_ms={:.2} p99_ms={:.2} client_cpu={:.2}{server}",
        deliveries / seconds,
        pct(0.5),
        pct(0.99),
        own_cpu() - cpu_from
    );
    Ok(())
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: ws-load PORT CONNS SIZE|idle|idle-deflate SECONDS [PATH] | ws-load PORT CONNS broadcast|broadcast-deflate ROUNDS [PATH]");
        std::process::exit(2);
    }
    let port: u16 = args[1].parse().expect("PORT");
    let conns: usize = args[2].parse().expect("CONNS");
    if args[3].starts_with("broadcast") {
        let rounds: usize = args[4].parse().expect("ROUNDS");
        let path = args.get(5).map_or("/broadcast/prepared", String::as_str);
        return broadcast(port, conns, rounds, path, args[3] == "broadcast-deflate");
    }
    let idle = args[3].starts_with("idle");
    let deflate = args[3] == "idle-deflate";
    let size: usize = if idle { 65 } else { args[3].parse().expect("SIZE") };
    let seconds: f64 = args[4].parse().expect("SECONDS");
    let path = args.get(5).map_or("/", String::as_str);

    let payload: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
    let frame = frame(&payload, if idle { 1 } else { 2 });
    let expected = echo_len(size);

    let poller = Poller::new()?;
    let mut all = Vec::with_capacity(conns);
    for key in 0..conns {
        let stream = handshake(port, path, deflate)?;
        stream.set_nonblocking(true)?;
        unsafe { poller.add(&stream, Event::all(key))? };
        all.push(Conn { stream, unsent: frame.len(), received: 0, first: Some(Vec::new()), done: 0 });
    }
    let mut scratch = vec![0u8; 64 * 1024];
    let mut events = Events::new();
    let start = Instant::now();
    let warmup = Duration::from_secs_f64(if idle { 0.0 } else { 1.0 });
    let end = warmup + Duration::from_secs_f64(seconds);
    let (mut measured_from, mut cpu_from, mut done_at_start) = (None::<Instant>, 0.0, 0u64);
    loop {
        let elapsed = start.elapsed();
        if measured_from.is_none() && elapsed >= warmup {
            measured_from = Some(Instant::now());
            cpu_from = own_cpu();
            done_at_start = all.iter().map(|c| c.done).sum();
        }
        if idle && all.iter().all(|c| c.done >= 1) {
            break;
        }
        if !idle && elapsed >= end {
            break;
        }
        events.clear();
        poller.wait(&mut events, Some(Duration::from_millis(100)))?;
        for event in events.iter() {
            let conn = &mut all[event.key];
            if event.readable {
                loop {
                    match conn.stream.read(&mut scratch) {
                        Ok(0) => return Err(io::Error::other("the server closed a connection")),
                        Ok(n) => {
                            if let Some(first) = conn.first.as_mut() {
                                first.extend_from_slice(&scratch[..n]);
                            }
                            conn.received += n;
                            if idle {
                                // The echo may be compressed: any answer will do.
                                conn.done = 1;
                                conn.first = None;
                                continue;
                            }
                            if conn.received >= expected {
                                // One message in flight per connection: exactly one echo.
                                conn.received -= expected;
                                if let Some(first) = conn.first.take() {
                                    assert_eq!(&first[expected - size..expected], &payload[..], "echo differs");
                                }
                                conn.done += 1;
                                if !idle {
                                    conn.unsent = frame.len();
                                }
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
            }
            while conn.unsent > 0 {
                match conn.stream.write(&frame[frame.len() - conn.unsent..]) {
                    Ok(n) => conn.unsent -= n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            poller.modify(&conn.stream, Event::new(event.key, true, conn.unsent > 0))?;
        }
    }
    if idle {
        println!("open={conns}");
        io::stdout().flush()?;
        let _ = io::stdin().read_to_end(&mut Vec::new());
        return Ok(());
    }
    let window = measured_from.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let done: u64 = all.iter().map(|c| c.done).sum::<u64>() - done_at_start;
    println!(
        "messages={done} seconds={window:.2} msg_per_sec={:.0} client_cpu={:.2}",
        done as f64 / window,
        own_cpu() - cpu_from
    );
    Ok(())
}
