//! `wsload`: a WebSocket load tool for Hearth's hub (see BENCHMARKS.md for runs).
//!
//! ```text
//! wsload idle   --servers URL --pids PID --clients 19000
//! wsload fanout --servers URL,URL --pids PID,PID --clients 1000 --rate 100 --seconds 10
//! wsload kill   --servers URL,URL --pids PID,PID --clients 1000 --rate 50 --seconds 6
//! wsload churn  --servers URL,URL --pids PID,PID --clients 500 --rate 50 --seconds 20
//! ```
//!
//! It signs up one family, opens `--clients` sockets (spread round-robin over the servers and
//! over the local addresses 127.0.0.2–127.0.0.41, past the ephemeral-port limit of one
//! address), and subscribes each to the family channel. `fanout` sends `--rate` chat
//! messages a second through one socket on the first server, each carrying its send time;
//! every client checks that offsets arrive without gaps and records publish→deliver latency
//! twice: from the publisher's send (storing the chat included) and from the event's `ts`
//! (the server's publish time).
//! `kill` does the same, then SIGKILLs the first server: its clients reconnect to the others
//! with `since` and must recover everything. `churn` does the same while every client drops
//! its connection every 1.5–2.5 s and opens a new one on the next server with `since`: each
//! must end with every message once, in order, or be told `recovered: false`. Server RSS and CPU time come from
//! `/proc/<pid>` of the `--pids` given (the servers' own accounting).

use futures::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

struct Args {
    mode: String,
    servers: Vec<String>,
    pids: Vec<u32>,
    clients: usize,
    rate: u64,
    seconds: u64,
}

fn args() -> Args {
    let mut it = std::env::args().skip(1);
    let mode = it.next().unwrap_or_else(|| "fanout".into());
    let mut map = HashMap::new();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        map.insert(k.trim_start_matches("--").to_string(), v);
    }
    let list = |k: &str| -> Vec<String> {
        map.get(k)
            .map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    };
    let num = |k: &str, d: u64| map.get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
    Args {
        mode,
        servers: list("servers"),
        pids: list("pids").iter().filter_map(|p| p.parse().ok()).collect(),
        clients: num("clients", 1000) as usize,
        rate: num("rate", 100),
        seconds: num("seconds", 10),
    }
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros() as u64
}

/// A process's RSS and CPU time, from `/proc` (its own accounting).
#[derive(Clone, Copy, Default)]
struct Usage {
    rss: u64,
    user_s: f64,
    system_s: f64,
}

impl Usage {
    fn cpu(&self) -> f64 {
        self.user_s + self.system_s
    }
}

fn proc_usage(pid: &str) -> Usage {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let after = stat.rsplit_once(')').map(|(_, a)| a).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let secs = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 100.0
    };
    Usage {
        rss: rss_kb * 1024,
        user_s: secs(11),
        system_s: secs(12),
    }
}

fn usage(pids: &[u32]) -> Usage {
    pids.iter()
        .map(|&p| proc_usage(&p.to_string()))
        .fold(Usage::default(), |a, b| Usage {
            rss: a.rss + b.rss,
            user_s: a.user_s + b.user_s,
            system_s: a.system_s + b.system_s,
        })
}

/// Signs up a fresh owner with a family; returns the cookie and the family channel.
async fn sign_up(server: &str) -> (String, String) {
    let http = reqwest::Client::new();
    let email = format!("load-{}@example.org", uuid::Uuid::new_v4().simple());
    let r = http
        .post(format!("{server}/api/auth/register"))
        .json(&serde_json::json!({"email": email, "password": "correct horse battery", "display_name": "Load"}))
        .send()
        .await
        .expect("register");
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string();
    let created: serde_json::Value = http
        .post(format!("{server}/api/families"))
        .header("cookie", &cookie)
        .json(&serde_json::json!({"name": "Load", "currency": "EUR", "timezone": "UTC"}))
        .send()
        .await
        .expect("family")
        .json()
        .await
        .expect("family json");
    let channel = format!("family:{}", created["family"]["id"].as_str().expect("id"));
    (cookie, channel)
}

async fn connect(server: &str, cookie: &str, local: IpAddr) -> Result<Ws, String> {
    let url = format!("{}/ws", server.replacen("http", "ws", 1));
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "cookie",
        HeaderValue::from_str(cookie).map_err(|e| e.to_string())?,
    );
    let host: SocketAddr = server
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| format!("{e}"))?;
    let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket
        .bind(SocketAddr::new(local, 0))
        .map_err(|e| e.to_string())?;
    let stream = socket.connect(host).await.map_err(|e| e.to_string())?;
    // tungstenite zeroes its whole read buffer before each read (128 KiB by default): with
    // 1,000 clients that memset was a quarter of the load tool's CPU. Frames here are small.
    let config =
        tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096);
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .map_err(|e| e.to_string())?;
    Ok(ws)
}

/// A number after `"key":` in a frame, without parsing the whole frame.
fn field_u64(text: &str, key: &str) -> Option<u64> {
    let at = text.find(key)? + key.len();
    let rest = text[at..].trim_start_matches('"');
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn field_str<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let at = text.find(key)? + key.len();
    let rest = text[at..].strip_prefix('"')?;
    Some(&rest[..rest.find('"')?])
}

#[derive(Default)]
struct Stats {
    received: AtomicU64,
    gaps: AtomicU64,
    latencies_us: Mutex<Vec<u64>>,
    bus_latencies_us: Mutex<Vec<u64>>,
    recover_us: Mutex<Vec<u64>>,
    recovered_false: AtomicU64,
    /// Events that came again, or before one already read (never expected).
    repeated: AtomicU64,
    /// Connections a client dropped on purpose (`churn`).
    drops: AtomicU64,
}

/// Where a client stands in the channel.
#[derive(Default, Clone)]
struct Position {
    epoch: String,
    offset: u64,
}

async fn subscribe(
    ws: &mut Ws,
    channel: &str,
    since: Option<&Position>,
) -> Result<Position, String> {
    let mut frame = serde_json::json!({"type": "subscribe", "id": "s", "channel": channel});
    if let Some(s) = since {
        frame["since"] = serde_json::json!({"epoch": s.epoch, "offset": s.offset});
    }
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.as_str().contains("\"subscribed\"") => {
                let v: serde_json::Value =
                    serde_json::from_str(t.as_str()).map_err(|e| e.to_string())?;
                if since.is_some() && v["recovered"] != true {
                    return Err("not recovered".into());
                }
                let p = Position {
                    epoch: v["epoch"].as_str().unwrap_or_default().to_string(),
                    offset: v["offset"].as_u64().unwrap_or(0),
                };
                return Ok(since.cloned().unwrap_or(p));
            }
            Some(Ok(_)) => {}
            _ => return Err("closed before subscribed".into()),
        }
    }
}

/// What one reader saw; merged into [`Stats`] once, when the reader ends (a shared counter
/// or lock per frame would make the load tool the bottleneck it is meant to measure).
#[derive(Default)]
struct Seen {
    received: u64,
    gaps: u64,
    repeated: u64,
    latencies_us: Vec<u64>,
    bus_latencies_us: Vec<u64>,
}

impl Seen {
    fn merge_into(self, stats: &Stats) {
        stats.received.fetch_add(self.received, Ordering::Relaxed);
        stats.gaps.fetch_add(self.gaps, Ordering::Relaxed);
        stats.repeated.fetch_add(self.repeated, Ordering::Relaxed);
        stats
            .latencies_us
            .lock()
            .unwrap()
            .extend_from_slice(&self.latencies_us);
        stats
            .bus_latencies_us
            .lock()
            .unwrap()
            .extend_from_slice(&self.bus_latencies_us);
    }
}

/// Reads chat events until the socket closes, checking offsets and recording latency; `at`
/// follows where the reader stands (the caller bounds the whole read with one deadline).
async fn read(ws: &mut Ws, at: &mut Position, seen: &mut Seen) {
    while let Some(Ok(message)) = ws.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        let text = text.as_str();
        let Some(offset) = field_u64(text, "\"offset\":") else {
            continue;
        };
        if offset <= at.offset {
            seen.repeated += 1;
            continue;
        }
        if offset != at.offset + 1 {
            seen.gaps += offset - at.offset - 1;
        }
        at.offset = offset;
        if text.starts_with("{\"type\":\"chat\"") {
            seen.received += 1;
            let now = now_us();
            if let Some(sent) = field_str(text, "\"text\":").and_then(|t| t.parse::<u64>().ok()) {
                seen.latencies_us.push(now.saturating_sub(sent));
            }
            // The event's `ts`: when the server published it (milliseconds, so this reads up
            // to 1 ms high).
            if let Some(ts_ms) = field_u64(text, "\"ts\":") {
                seen.bus_latencies_us.push(now.saturating_sub(ts_ms * 1000));
            }
        }
    }
}

/// Reads until the deadline; true when the deadline ended it (not the socket closing).
async fn read_until(ws: &mut Ws, at: &mut Position, stats: &Stats, until: Instant) -> bool {
    let mut seen = Seen::default();
    let timed_out = tokio::time::timeout_at(until.into(), read(ws, at, &mut seen))
        .await
        .is_err();
    seen.merge_into(stats);
    timed_out
}

/// A `churn` client: reads, drops its connection every 1.5–2.5 s (spread over the clients)
/// and opens a new one on the next server, asking for what it missed (`since`); stops
/// dropping at `churn_until`, then reads until `deadline`.
#[allow(clippy::too_many_arguments)]
async fn churn(
    mut ws: Ws,
    mut at: Position,
    i: usize,
    servers: &[String],
    cookie: &str,
    channel: &str,
    stats: &Stats,
    (churn_until, deadline): (Instant, Instant),
) {
    let mut n = i;
    loop {
        let every = Duration::from_millis(1500 + (n as u64 * 7919) % 1000);
        let until = Instant::now() + every;
        if until >= churn_until {
            read_until(&mut ws, &mut at, stats, deadline).await;
            return;
        }
        read_until(&mut ws, &mut at, stats, until).await;
        let _ = ws.close(None).await;
        stats.drops.fetch_add(1, Ordering::Relaxed);
        n += 1;
        let server = &servers[n % servers.len()];
        match resume(server, cookie, channel, &at, i, stats, deadline).await {
            Some((next, p)) => (ws, at) = (next, p),
            None => return,
        }
    }
}

/// Opens a new socket on `server` and subscribes from `at` (`since`), retrying with backoff
/// until `deadline`; records how long it took, or a `recovered: false` (then `None`).
async fn resume(
    server: &str,
    cookie: &str,
    channel: &str,
    at: &Position,
    i: usize,
    stats: &Stats,
    deadline: Instant,
) -> Option<(Ws, Position)> {
    let lost_at = Instant::now();
    let mut delay = Duration::from_millis(20);
    while Instant::now() < deadline {
        if let Ok(mut ws) = connect(server, cookie, local_address(i)).await {
            match subscribe(&mut ws, channel, Some(at)).await {
                Ok(p) => {
                    let took = lost_at.elapsed().as_micros() as u64;
                    stats.recover_us.lock().unwrap().push(took);
                    return Some((ws, p));
                }
                Err(e) if e == "not recovered" => {
                    stats.recovered_false.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                Err(_) => {}
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(500));
    }
    None
}

fn local_address(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (i % 40) as u8))
}

fn pct(sorted: &[u64], p: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[(sorted.len() - 1) * p / 100] as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    let a = args();
    assert!(!a.servers.is_empty(), "--servers URL[,URL]");
    let (cookie, channel) = sign_up(&a.servers[0]).await;
    let rss0 = usage(&a.pids).rss;

    // Open the sockets, 200 at a time.
    let started = Instant::now();
    let mut sockets: Vec<(usize, Ws, Position)> = Vec::with_capacity(a.clients);
    let mut failures = 0usize;
    for batch in (0..a.clients).collect::<Vec<_>>().chunks(200) {
        let opened = futures::future::join_all(batch.iter().map(|&i| {
            let server = a.servers[i % a.servers.len()].clone();
            let (cookie, channel) = (cookie.clone(), channel.clone());
            async move {
                let mut ws = connect(&server, &cookie, local_address(i)).await?;
                let p = subscribe(&mut ws, &channel, None).await?;
                Ok::<_, String>((i, ws, p))
            }
        }))
        .await;
        for o in opened {
            match o {
                Ok(s) => sockets.push(s),
                Err(e) => {
                    if failures < 3 {
                        eprintln!("a connection failed: {e}");
                    }
                    failures += 1;
                }
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss1 = usage(&a.pids).rss;
    println!(
        "connections held: {} of {} ({} failed) in {:.1} s",
        sockets.len(),
        a.clients,
        failures,
        started.elapsed().as_secs_f64()
    );
    println!(
        "server RSS: {:.1} MB before, {:.1} MB with the sockets open: {:.0} bytes per connection",
        rss0 as f64 / 1e6,
        rss1 as f64 / 1e6,
        (rss1.saturating_sub(rss0)) as f64 / sockets.len().max(1) as f64
    );
    if a.mode == "idle" {
        return;
    }

    // Readers.
    let stats = Arc::new(Stats::default());
    let deadline = Instant::now() + Duration::from_secs(a.seconds + 3);
    let kill_at = (a.mode == "kill").then(|| Instant::now() + Duration::from_secs(a.seconds / 2));
    let survivors: Vec<String> = a.servers.iter().skip(1).cloned().collect();
    let churning = a.mode == "churn";
    let churn_until = deadline - Duration::from_secs(3);
    let mut readers = Vec::new();
    for (i, mut ws, p) in sockets {
        let stats = stats.clone();
        let (cookie, channel) = (cookie.clone(), channel.clone());
        let on_first = i % a.servers.len() == 0;
        let survivors = survivors.clone();
        let servers = a.servers.clone();
        readers.push(tokio::spawn(async move {
            if churning {
                let times = (churn_until, deadline);
                churn(ws, p, i, &servers, &cookie, &channel, &stats, times).await;
                return;
            }
            let mut at = p;
            let timed_out = read_until(&mut ws, &mut at, &stats, deadline).await;
            if timed_out || !on_first || kill_at.is_none() {
                return;
            }
            // Our server died: reconnect elsewhere and recover from where we were.
            let server = &survivors[i % survivors.len().max(1)];
            if let Some((mut ws, mut at)) =
                resume(server, &cookie, &channel, &at, i, &stats, deadline).await
            {
                read_until(&mut ws, &mut at, &stats, deadline).await;
            }
        }));
    }

    // The publisher: one socket on the last server (it survives a kill).
    let publisher_server = a.servers.last().cloned().unwrap_or_default();
    let mut publisher = connect(&publisher_server, &cookie, local_address(999))
        .await
        .expect("publisher connects");
    let interval = Duration::from_micros(1_000_000 / a.rate.max(1));
    let mut tick = tokio::time::interval(interval);
    let publish_until = Instant::now() + Duration::from_secs(a.seconds);
    let mut published = 0u64;
    let mut killed = false;
    let cpu_start = usage(&a.pids);
    let own_start = proc_usage("self");
    while Instant::now() < publish_until {
        tick.tick().await;
        if let Some(at) = kill_at {
            if !killed && Instant::now() >= at {
                if let Some(pid) = a.pids.first() {
                    let _ = std::process::Command::new("kill")
                        .args(["-9", &pid.to_string()])
                        .status();
                    println!("killed server {} (pid {pid})", a.servers[0]);
                }
                killed = true;
            }
        }
        let frame = serde_json::json!({
            "type": "chat", "id": format!("p{published}"), "channel": channel, "text": now_us().to_string()
        });
        if publisher
            .send(Message::Text(frame.to_string().into()))
            .await
            .is_err()
        {
            break;
        }
        published += 1;
        // Drain acks without blocking.
        while let Ok(Some(_)) = tokio::time::timeout(Duration::ZERO, publisher.next()).await {}
    }
    let publish_secs = a.seconds as f64;
    for r in readers {
        let _ = r.await;
    }
    let pids_alive: Vec<u32> = if killed {
        a.pids.iter().skip(1).copied().collect()
    } else {
        a.pids.clone()
    };
    let cpu_end = usage(&pids_alive);
    let own_end = proc_usage("self");

    let received = stats.received.load(Ordering::Relaxed);
    let expected = published * a.clients as u64;
    let mut lat = std::mem::take(&mut *stats.latencies_us.lock().unwrap());
    lat.sort_unstable();
    let mut bus = std::mem::take(&mut *stats.bus_latencies_us.lock().unwrap());
    bus.sort_unstable();
    println!(
        "published {published} messages at {} /s to {} subscribers over {} server(s)",
        a.rate,
        a.clients,
        a.servers.len()
    );
    println!(
        "deliveries: {received} of {expected} expected ({:.0} /s), lost: {}, gaps seen: {}, repeated or out of order: {}",
        received as f64 / publish_secs,
        expected.saturating_sub(received),
        stats.gaps.load(Ordering::Relaxed),
        stats.repeated.load(Ordering::Relaxed)
    );
    println!(
        "publish→deliver (from the publisher's send; the chat is stored, then published): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(&lat, 50),
        pct(&lat, 99),
        lat.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    println!(
        "bus→deliver (from the event's ts, the server's publish time, ms resolution): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(&bus, 50),
        pct(&bus, 99),
        bus.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    // The killed server's CPU cannot be read after its death: then only the load tool's.
    if !killed && received > 0 {
        let per = |s: f64| s * 1e6 / received as f64;
        let (user, system) = (
            cpu_end.user_s - cpu_start.user_s,
            cpu_end.system_s - cpu_start.system_s,
        );
        println!(
            "server CPU: {:.2} s for {received} deliveries: {:.2} µs per delivered message (user {:.2}, system {:.2})",
            user + system,
            per(user + system),
            per(user),
            per(system)
        );
    }
    if received > 0 {
        println!(
            "load tool CPU (the clients and the publisher): {:.2} s, {:.2} µs per delivered message",
            own_end.cpu() - own_start.cpu(),
            (own_end.cpu() - own_start.cpu()) * 1e6 / received as f64
        );
    }
    if churning {
        let mut rec = std::mem::take(&mut *stats.recover_us.lock().unwrap());
        rec.sort_unstable();
        println!(
            "churn: {} connections dropped on purpose; reconnect + recovery p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; not recoverable: {}",
            stats.drops.load(Ordering::Relaxed),
            pct(&rec, 50),
            pct(&rec, 99),
            rec.last().copied().unwrap_or(0) as f64 / 1000.0,
            stats.recovered_false.load(Ordering::Relaxed)
        );
    }
    if killed {
        let mut rec = std::mem::take(&mut *stats.recover_us.lock().unwrap());
        rec.sort_unstable();
        println!(
            "reconnect + recovery after the kill: {} clients, p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; not recoverable: {}",
            rec.len(),
            pct(&rec, 50),
            pct(&rec, 99),
            rec.last().copied().unwrap_or(0) as f64 / 1000.0,
            stats.recovered_false.load(Ordering::Relaxed)
        );
    }
}
