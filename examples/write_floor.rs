//! `write_floor`: what the kernel alone charges a server for one small write to a loopback
//! TCP socket whose reader is waiting, as in a WebSocket fan-out (see BENCHMARKS.md).
//!
//! ```text
//! write_floor [--clients 500] [--rounds 400] [--bytes 160] [--rate 100] [--uring 1]
//! ```
//!
//! One thread writes `--bytes` bytes to each of `--clients` connected sockets in turn,
//! `--rate` rounds a second (one round is one message fanned out to every client); a tokio
//! runtime on another thread reads every socket, as the load tool's clients do. On loopback the
//! receiving side's network processing runs inside the writer's system call, so the writer's
//! kernel time per write is the floor under a server's CPU time per delivered message when
//! each delivery is one write. The writer's user and system time come from
//! `/proc/thread-self/stat` (the thread's own accounting). With `--uring 1` each round's
//! writes go to the kernel in one io_uring submission (the `batch-send` crate, as the hub's
//! fan-out does), so the difference is what one system call per write costs.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// This thread's user and system time in clock ticks.
fn thread_times() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("procfs");
    // The fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    (
        fields[11].parse().expect("utime"),
        fields[12].parse().expect("stime"),
    )
}

fn main() {
    let clients = arg("--clients", 500) as usize;
    let rounds = arg("--rounds", 400);
    let bytes = arg("--bytes", 160) as usize;
    let rate = arg("--rate", 100).max(1);
    let uring = arg("--uring", 0) == 1;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");

    let readers = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let mut tasks = Vec::new();
            for _ in 0..clients {
                let socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
                tasks.push(tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut total = 0u64;
                    while socket.readable().await.is_ok() {
                        match socket.try_read(&mut buf) {
                            Ok(0) => break,
                            Ok(n) => total += n as u64,
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                            Err(_) => break,
                        }
                    }
                    total
                }));
            }
            let mut total = 0;
            for t in tasks {
                total += t.await.unwrap_or(0);
            }
            total
        })
    });

    let mut sockets: Vec<TcpStream> = (0..clients)
        .map(|_| {
            let (s, _) = listener.accept().expect("accept");
            s.set_nodelay(true).expect("nodelay");
            s
        })
        .collect();
    let frame = vec![b'x'; bytes];
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let (u0, s0) = thread_times();
    let started = Instant::now();
    let mut results = Vec::with_capacity(clients);
    for round in 0..rounds {
        if uring {
            let fds: Vec<_> = sockets.iter().map(|s| s.as_fd()).collect();
            results.clear();
            assert!(
                batch_send::send_each(&fds, &frame, &mut results),
                "io_uring is not available here"
            );
            for (socket, taken) in sockets.iter_mut().zip(&results) {
                let taken = *taken.as_ref().unwrap_or(&0);
                socket.write_all(&frame[taken..]).expect("write");
            }
        } else {
            for socket in &mut sockets {
                socket.write_all(&frame).expect("write");
            }
        }
        let next = started + period * (round as u32 + 1);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let (u1, s1) = thread_times();
    drop(sockets);
    let received = readers.join().expect("readers");
    let writes = clients as u64 * rounds;
    let tick_us = 1e6 / 100.0; // USER_HZ is 100 on Linux
    let per = |ticks: u64| ticks as f64 * tick_us / writes as f64;
    println!(
        "{writes} writes of {bytes} bytes to {clients} loopback sockets, {rate} rounds/s{}: \
         kernel {:.2} us per write, user {:.2} us per write ({} of {} bytes received)",
        if uring { ", io_uring" } else { "" },
        per(s1 - s0),
        per(u1 - u0),
        received,
        writes * bytes as u64
    );
}
