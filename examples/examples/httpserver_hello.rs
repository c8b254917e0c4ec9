//! Run with: cargo run --release --example httpserver_hello -- --port=8888
//!
//! The HTTP server with no web layer: every request gets `Hello, world` as `text/plain`. The
//! peer of nginx, Tornado and hyper in `bench/http.sh`.
//!
//! On SIGTERM or SIGINT (Ctrl-C), the server shuts down gracefully: no new connections, idle
//! ones closed, in-flight requests finished (10 s at most), on one loop (the default) or on
//! every loop of `--loops=N`. With `--processes=N`, each worker shuts
//! down gracefully on its own signal; Ctrl-C reaches the whole process group, while a SIGTERM
//! to the supervisor alone leaves the workers serving (signal the group: `kill -TERM -PGID`).

use std::time::Duration;

use typhoon_examples::httpserver_hello::hello_server;
use typhoon_ioloop::IOLoop;
use typhoon_ioloop::locks::Event;
use typhoon_options::{OptionDef, define, parse_command_line};

thread_local! {
    /// Set on the loop's thread when a termination signal arrives.
    static SHUTDOWN: Event = Event::new();
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = define(OptionDef::new("port", 8888_u16).help("port to listen on"))?;
    let address =
        define(OptionDef::new("address", "127.0.0.1".to_owned()).help("address to listen on"))?;
    let loops =
        define(OptionDef::new("loops", 1_usize).help("event loops (threads) sharing the port"))?;
    let processes =
        define(OptionDef::new("processes", 1_usize).help(
            "worker processes sharing the port (Tornado's pre-fork model; needs a fixed port)",
        ))?;
    parse_command_line()?;
    if processes.get() > 1 {
        // Only the workers return; the supervisor restarts them if they die.
        let id = typhoon_iostream::process::fork_processes(processes.get(), 100)?;
        println!("worker {id} started");
    }

    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ])?;

    if loops.get() > 1 {
        let server =
            typhoon_iostream::start_loops(loops.get(), port.get(), &address.get(), hello_server)?;
        println!(
            "httpserver_hello listening on http://{} ({} loops)",
            server.local_addr(),
            server.loops()
        );
        signals.forever().next();
        let cut = server.shutdown(Duration::from_secs(10));
        println!("httpserver_hello shut down ({cut} connections cut)");
        return Ok(());
    }

    let ioloop = IOLoop::current();
    let server = hello_server();
    let options = typhoon_iostream::netutil::BindOptions {
        reuse_port: processes.get() > 1,
        ..Default::default()
    };
    let sockets =
        typhoon_iostream::netutil::bind_sockets(port.get(), Some(&address.get()), &options)?;
    for socket in &sockets {
        println!(
            "httpserver_hello listening on http://{}",
            socket.local_addr()?
        );
    }
    server.add_sockets(sockets)?;
    // Signals arrive on a thread of their own and are forwarded to the loop.
    let handle = ioloop.handle();
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            handle.add_callback(|| SHUTDOWN.with(Event::set));
        }
    });
    ioloop
        .spawn(async move {
            SHUTDOWN.with(Event::clone).wait().await;
            let cut = server.shutdown(Duration::from_secs(10)).await;
            println!("httpserver_hello shut down ({cut} connections cut)");
            IOLoop::current().stop();
        })
        .detach();
    ioloop.start();
    Ok(())
}
