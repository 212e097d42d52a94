//! `/admin/performance`: the performance monitor. The first figures come with the page
//! (server-rendered), then a `metrics` event on `admin:metrics` replaces them about once a
//! second, without polling. Alerts arrive as `notification` events on the same channel.

use crate::api::{self, ApiFailure};
use crate::components::{sendable, use_me};
use crate::live::ledger::Start;
use crate::live::socket::{Incoming, LiveSocket};
use crate::model::Me;
use crate::pages::simple::{failure_view, signed_out_redirect};
use crate::stats::{AdminStats, AlertNotice, CacheClear, Sample};
use crate::ws::EventKind;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn PerformancePage() -> impl IntoView {
    let me = use_me();
    // The page's title: the server writes it into the document's head (`shell`), the browser
    // sets it on a client navigation and puts "Hearth" back once the page goes.
    #[cfg(not(feature = "ssr"))]
    {
        document().set_title(crate::PERFORMANCE_TITLE);
        on_cleanup(|| document().set_title("Hearth"));
    }
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(Me { user, .. })) if user.is_admin => view! { <Monitor /> }.into_any(),
                    Ok(Some(_)) => not_allowed(),
                    Ok(None) => signed_out_redirect(),
                    Err(e) => failure_view(&e),
                }
            })}
        </Suspense>
    }
}

/// What a signed-in member who is not an admin sees (with status 403).
fn not_allowed() -> AnyView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <section class="card" data-testid="not-allowed">
            <h1>"Not allowed"</h1>
            <p>
                "The performance monitor is for Hearth's administrators. Ask whoever runs your Hearth "
                "to add your email address to " <code>"ADMIN_EMAILS"</code> "."
            </p>
            <p><A href="/budget">"Back to your budget"</A></p>
        </section>
    }
    .into_any()
}

#[component]
fn Monitor() -> impl IntoView {
    let first = Resource::new(|| (), |_| sendable(api::load_admin_stats()));
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the figures…"</p> }>
            {move || Suspend::new(async move {
                match first.await {
                    Ok(stats) => view! { <Dashboard stats /> }.into_any(),
                    Err(e) => failure_view(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Dashboard(stats: AdminStats) -> impl IntoView {
    let shown = RwSignal::new(stats);
    let incidents = RwSignal::new(Vec::<(i64, AlertNotice)>::new());
    let live = LiveSocket::new();
    live.start(
        vec![("admin:metrics".into(), Start::Live)],
        move |incoming| {
            let Incoming::Event(event) = incoming else {
                return;
            };
            match event.kind {
                EventKind::Metrics => {
                    if let Ok(next) = serde_json::from_value::<AdminStats>(event.data) {
                        shown.update(|s| s.absorb(next));
                    }
                }
                EventKind::Notification => {
                    if let Ok(notice) = serde_json::from_value::<AlertNotice>(event.data) {
                        incidents.update(|list| {
                            list.insert(0, (event.ts, notice));
                            list.truncate(20);
                        });
                    }
                }
                _ => {}
            }
        },
    );
    let s = move || shown.get();
    view! {
        <div class="perf">
            <div class="budget-head">
                <h1>"Performance"</h1>
                <span class=move || format!("status {}", live.status().as_str())>
                    <span class="dot" aria-hidden="true"></span>
                    <span data-testid="connection-status">{move || live.status().as_str()}</span>
                </span>
            </div>
            <section class="card perf-health" aria-label="Health">
                <div class="perf-score">
                    <span class="label">"Health score"</span>
                    <strong data-testid="perf-health-score">{move || s().system.health_score}</strong>
                    <span class="muted">"/ 100"</span>
                </div>
                <div class=move || format!("perf-status {}", s().system.status)>
                    <span aria-hidden="true">{move || status_icon(&s().system.status)}</span>
                    " "
                    <span data-testid="perf-status">{move || s().system.status}</span>
                </div>
                <Hints shown />
            </section>
            <Incidents incidents />
            <Charts shown />
            <div class="perf-grid">
                <CacheCard shown />
                <RealtimeCard shown />
                <RedisCard shown />
                <SystemCard shown />
            </div>
            <FrontendCard shown />
            <ClearCache />
        </div>
    }
    .into_any()
}

fn status_icon(status: &str) -> &'static str {
    match status {
        "healthy" => "✓",
        "degraded" => "⚠",
        _ => "✕",
    }
}

#[component]
fn Hints(shown: RwSignal<AdminStats>) -> impl IntoView {
    view! {
        <div class="perf-hints" data-testid="perf-hints">
            {move || {
                let hints = shown.with(|s| s.hints.clone());
                if hints.is_empty() {
                    view! { <p class="muted">"Nothing needs attention."</p> }.into_any()
                } else {
                    view! {
                        <ul>
                            {hints
                                .into_iter()
                                .map(|h| view! { <li data-rule=h.rule>"⚠ " {h.message}</li> })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }
            }}
        </div>
    }
    .into_any()
}

#[component]
fn Incidents(incidents: RwSignal<Vec<(i64, AlertNotice)>>) -> impl IntoView {
    view! {
        <Show when=move || incidents.with(|l| !l.is_empty())>
            <section class="card" aria-label="Alerts" data-testid="perf-alerts">
                <h2>"Alerts since this page opened"</h2>
                <ul class="perf-list" role="log">
                    <For
                        each=move || incidents.get()
                        key=|(ts, n)| (*ts, n.rule.clone(), n.state.clone())
                        children=|(ts, n)| {
                            let icon = if n.state == "firing" { "⚠" } else { "✓" };
                            view! {
                                <li class=format!("alert-{}", n.state)>
                                    <span class="muted">{clock(ts)} " · " {n.node_id.clone()}</span>
                                    " " {icon} " " {n.message.clone()}
                                </li>
                            }
                        }
                    />
                </ul>
            </section>
        </Show>
    }
    .into_any()
}

/// `HH:MM:SS` (UTC) of a timestamp in milliseconds.
fn clock(ts_ms: i64) -> String {
    let s = ts_ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02} UTC", s / 3600, s / 60 % 60, s % 60)
}

#[component]
fn Charts(shown: RwSignal<AdminStats>) -> impl IntoView {
    let chart = |title: &'static str,
                 unit: &'static str,
                 pick: fn(&Sample) -> Option<f64>,
                 fixed_max: Option<f64>| {
        view! { <Chart shown title unit pick fixed_max /> }
    };
    view! {
        <section class="card" aria-label="The last 15 minutes">
            <h2>"The last 15 minutes (this server)"</h2>
            <div class="perf-charts">
                {chart("Cache hit rate", "%", |s| s.hit_rate.map(|r| r * 100.0), Some(100.0))}
                {chart("Throughput", "req/s", |s| Some(s.requests_per_s), None)}
                {chart("Latency p99", "ms", |s| s.p99_ms, None)}
                {chart("WebSocket connections", "", |s| Some(s.connections as f64), None)}
            </div>
        </section>
    }
    .into_any()
}

const CHART_W: f64 = 300.0;
const CHART_H: f64 = 80.0;
const WINDOW_MS: f64 = 15.0 * 60_000.0;

#[component]
fn Chart(
    shown: RwSignal<AdminStats>,
    title: &'static str,
    unit: &'static str,
    pick: fn(&Sample) -> Option<f64>,
    fixed_max: Option<f64>,
) -> impl IntoView {
    let drawn = Memo::new(move |_| {
        shown.with(|s| {
            let points: Vec<(i64, Option<f64>)> =
                s.series.iter().map(|x| (x.ts_ms, pick(x))).collect();
            let max = fixed_max.unwrap_or_else(|| nice_max(points.iter().filter_map(|p| p.1)));
            let last = points.iter().rev().find_map(|p| p.1);
            (sparkline(&points, max), max, last)
        })
    });
    let label = move || {
        let (_, max, last) = drawn.get();
        let now = last
            .map(|v| format!("{} {unit}", figure(v)))
            .unwrap_or_else(|| "no data".into());
        format!("{title}: now {now}, scale 0–{} {unit}", figure(max))
    };
    view! {
        <figure class="perf-chart">
            <figcaption>
                <span>{title}</span>
                <strong>
                    {move || drawn.get().2.map(|v| format!("{} {unit}", figure(v))).unwrap_or_else(|| "–".into())}
                </strong>
            </figcaption>
            <svg
                viewBox=format!("0 0 {CHART_W} {CHART_H}")
                preserveAspectRatio="none"
                role="img"
                aria-label=label
            >
                <line x1="0" y1=CHART_H x2=CHART_W y2=CHART_H class="axis" />
                <path d=move || drawn.get().0 class="spark" />
            </svg>
            <div class="perf-chart-scale muted">
                <span>"15 min ago"</span>
                <span>{move || format!("max {} {unit}", figure(drawn.get().1))}</span>
                <span>"now"</span>
            </div>
        </figure>
    }
    .into_any()
}

/// A round upper bound for a chart's scale (at least 1).
pub fn nice_max(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.fold(0.0_f64, f64::max);
    if max <= 1.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|m| *m >= max)
        .unwrap_or(10.0 * magnitude)
}

/// The SVG path of a series over the last 15 minutes before its newest point; a second
/// without a figure breaks the line instead of inventing one.
pub fn sparkline(points: &[(i64, Option<f64>)], max: f64) -> String {
    let Some(end) = points.last().map(|p| p.0) else {
        return String::new();
    };
    let start = end as f64 - WINDOW_MS;
    let mut d = String::new();
    let mut pen_down = false;
    for (ts, value) in points {
        let Some(v) = value else {
            pen_down = false;
            continue;
        };
        let x = ((*ts as f64 - start) / WINDOW_MS * CHART_W).clamp(0.0, CHART_W);
        let y = CHART_H - (v / max).clamp(0.0, 1.0) * CHART_H;
        d.push_str(&format!(
            "{}{x:.1} {y:.1} ",
            if pen_down { "L" } else { "M" }
        ));
        pen_down = true;
    }
    d.trim_end().to_string()
}

/// A figure with the precision it deserves: 0.42, 3.1, 27, 1204; whole numbers as such.
pub fn figure(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v == 0.0 {
        "0".into()
    } else if v.abs() < 1.0 {
        format!("{v:.2}")
    } else if v.abs() < 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

fn percent(rate: f64) -> String {
    format!("{:.1} %", rate * 100.0)
}

fn opt<T>(value: Option<T>, show: impl Fn(T) -> String) -> String {
    value.map(show).unwrap_or_else(|| "–".into())
}

/// 1.5 MB, 320 KB, 512 B.
pub fn bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.0} KB", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.2} GB", n as f64 / 1e9),
    }
}

/// 3 d 4 h, 2 h 5 min, 12 min 3 s, 45 s.
pub fn duration(s: u64) -> String {
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        3600..86_400 => format!("{} h {} min", s / 3600, s / 60 % 60),
        _ => format!("{} d {} h", s / 86_400, s / 3600 % 24),
    }
}

/// One labelled figure of a card (with a test hook when `testid` is given).
fn figure_row(
    label: &'static str,
    testid: Option<&'static str>,
    value: impl Fn() -> String + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="perf-row">
            <dt>{label}</dt>
            <dd data-testid=testid>{value}</dd>
        </div>
    }
}

fn row(label: &'static str, value: impl Fn() -> String + Send + Sync + 'static) -> impl IntoView {
    figure_row(label, None, value)
}

fn row_hook(
    label: &'static str,
    testid: &'static str,
    value: impl Fn() -> String + Send + Sync + 'static,
) -> impl IntoView {
    figure_row(label, Some(testid), value)
}

#[component]
fn CacheCard(shown: RwSignal<AdminStats>) -> impl IntoView {
    let c = move || shown.with(|s| s.cache.clone());
    view! {
        <section class="card" aria-label="Cache">
            <h2>"Cache"</h2>
            <dl class="perf-figures">
                {row_hook("Hit rate", "perf-cache-hit-rate", move || {
                    let c = c();
                    if c.hits + c.misses == 0 { "no requests yet".into() } else { percent(c.hit_rate) }
                })}
                {row("Hits / misses", move || { let c = c(); format!("{} / {}", c.hits, c.misses) })}
                {row("Stale serves", move || c().stale.to_string())}
                {row("Entries in memory (L1)", move || c().l1_entries.to_string())}
            </dl>
            <table class="perf-table">
                <caption class="sr-only">"Per endpoint"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Endpoint"</th>
                        <th scope="col">"Hit rate"</th>
                        <th scope="col">"Requests"</th>
                        <th scope="col">"p50"</th>
                        <th scope="col">"p99"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let rows = c().per_endpoint;
                        if rows.is_empty() {
                            return view! { <tr><td colspan="5" class="empty">"No cacheable requests yet."</td></tr> }.into_any();
                        }
                        rows.into_iter()
                            .map(|e| view! {
                                <tr>
                                    <th scope="row"><code>{e.route.clone()}</code></th>
                                    <td>{percent(e.hit_rate)}</td>
                                    <td>{e.hits + e.misses}</td>
                                    <td>{format!("{} ms", figure(e.p50_ms))}</td>
                                    <td>{format!("{} ms", figure(e.p99_ms))}</td>
                                </tr>
                            })
                            .collect_view()
                            .into_any()
                    }}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

#[component]
fn RealtimeCard(shown: RwSignal<AdminStats>) -> impl IntoView {
    let r = move || shown.with(|s| s.realtime.clone());
    view! {
        <section class="card" aria-label="Realtime">
            <h2>"Realtime (this server)"</h2>
            <dl class="perf-figures">
                {row_hook("WebSocket connections", "perf-ws-connections", move || r().connections.to_string())}
                {row("Users online", move || r().users_online.to_string())}
                {row("Messages in / out per second", move || {
                    let r = r();
                    format!("{} / {}", figure(r.messages_in_per_s), figure(r.messages_out_per_s))
                })}
                {row("Publish → deliver p99", move || opt(r().deliver_p99_ms, |ms| format!("{} ms", figure(ms))))}
                {row("Reconnects (not recovered)", move || {
                    let r = r();
                    format!("{} ({})", r.reconnects, r.recovery_failures)
                })}
                {row("Slow clients closed", move || r().slow_clients_closed.to_string())}
            </dl>
        </section>
    }
    .into_any()
}

#[component]
fn RedisCard(shown: RwSignal<AdminStats>) -> impl IntoView {
    let r = move || shown.with(|s| s.redis.clone());
    view! {
        <section class="card" aria-label="Redis">
            <h2>"Redis"</h2>
            <dl class="perf-figures">
                {row("Mode", move || r().mode)}
                {row_hook("Status", "perf-redis-status", move || r().status)}
                {row("Operations per second", move || opt(r().ops_per_s, |n| n.to_string()))}
                {row("Keyspace hit rate", move || opt(r().keyspace_hit_rate, percent))}
                {row("Memory", move || opt(r().used_memory_bytes, bytes))}
                {row("Keys per namespace", move || {
                    let keys = r().keys;
                    if keys.is_empty() {
                        "not counted".into()
                    } else {
                        keys.iter().map(|k| format!("{} {}", k.namespace, k.keys)).collect::<Vec<_>>().join(", ")
                    }
                })}
            </dl>
        </section>
    }
    .into_any()
}

#[component]
fn SystemCard(shown: RwSignal<AdminStats>) -> impl IntoView {
    let y = move || shown.with(|s| s.system.clone());
    view! {
        <section class="card" aria-label="System">
            <h2>"System (this server)"</h2>
            <dl class="perf-figures">
                {row("Uptime", move || duration(y().uptime_s))}
                {row("Memory (RSS)", move || opt(y().rss_bytes, bytes))}
                {row("CPU", move || opt(y().cpu_percent, |p| format!("{} % of a core", figure(p))))}
                {row("Database connections in use", move || {
                    let y = y();
                    format!("{} of {}", y.db_pool_in_use, y.db_pool_size)
                })}
                {row_hook("Requests per second", "perf-requests-per-s", move || figure(y().requests_per_s))}
                {row("Errors (5xx), last second", move || opt(y().error_rate, percent))}
            </dl>
        </section>
    }
    .into_any()
}

/// Display names of the browsers' figures.
fn vital_name(name: &str) -> &str {
    match name {
        "ttfb_ms" => "Time to first byte",
        "dom_content_loaded_ms" => "DOM ready",
        "load_ms" => "Load",
        "lcp_ms" => "Largest contentful paint",
        "cls" => "Layout shift",
        "wasm_ms" => "WebAssembly started",
        "hydrate_ms" => "Hydration",
        "ws_latency_ms" => "WebSocket latency",
        other => other,
    }
}

#[component]
fn FrontendCard(shown: RwSignal<AdminStats>) -> impl IntoView {
    view! {
        <section class="card" aria-label="Frontend">
            <h2>"Frontend (what browsers report)"</h2>
            {move || {
                let pages = shown.with(|s| s.frontend.clone());
                if pages.is_empty() {
                    return view! { <p class="empty">"No browser has reported yet."</p> }.into_any();
                }
                pages
                    .into_iter()
                    .map(|p| {
                        view! {
                            <h3>
                                <code>{p.page.clone()}</code>
                                <span class="muted">{format!(" · {} page loads", p.reports)}</span>
                            </h3>
                            <table class="perf-table" data-page=p.page.clone()>
                                <thead>
                                    <tr>
                                        <th scope="col">"Figure"</th>
                                        <th scope="col">"Median"</th>
                                        <th scope="col">"75th percentile"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {p.figures
                                        .into_iter()
                                        .map(|f| {
                                            let unit = if f.name == "cls" { "" } else { " ms" };
                                            view! {
                                                <tr>
                                                    <th scope="row">{vital_name(&f.name).to_string()}</th>
                                                    <td>{format!("{}{unit}", figure(f.p50))}</td>
                                                    <td>{format!("{}{unit}", figure(f.p75))}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </section>
    }
    .into_any()
}

#[component]
fn ClearCache() -> impl IntoView {
    let tag = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let clear = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = CacheClear {
            tag: Some(tag.get_untracked().trim().to_string()).filter(|t| !t.is_empty()),
        };
        let what = body
            .tag
            .clone()
            .map(|t| format!("tag {t}"))
            .unwrap_or_else(|| "everything".into());
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = api::clear_cache(body).await;
            outcome.set(Some(match result {
                Ok(c) => Ok(format!(
                    "Cleared {what}: {} entries dropped from this server's memory; the Redis entries are unreachable on every server.",
                    c.cleared
                )),
                Err(e) => Err(ApiFailure::message(&e)),
            }));
            busy.set(false);
        });
    };
    view! {
        <section class="card" aria-label="Clear the cache">
            <h2>"Clear the cache"</h2>
            <form class="perf-clear" on:submit=clear>
                <label>
                    "Tag (leave empty for everything)"
                    <input
                        name="tag"
                        placeholder="family:<id>"
                        autocomplete="off"
                        prop:value=move || tag.get()
                        on:input=move |ev| tag.set(event_target_value(&ev))
                    />
                </label>
                <button type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Clearing…" } else { "Clear" }}
                </button>
            </form>
            <p role="status" data-testid="perf-clear-result" class=move || match outcome.get() {
                Some(Err(_)) => "error",
                _ => "muted",
            }>
                {move || match outcome.get() {
                    Some(Ok(text)) | Some(Err(text)) => text,
                    None => String::new(),
                }}
            </p>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparkline_spans_fifteen_minutes_and_breaks_where_nothing_was_measured() {
        let end = 1_000_000_000;
        let points = [
            (end - 900_000, Some(0.0)),
            (end - 450_000, Some(50.0)),
            (end - 1000, None),
            (end, Some(100.0)),
        ];
        assert_eq!(
            sparkline(&points, 100.0),
            "M0.0 80.0 L150.0 40.0 M300.0 0.0"
        );
        assert_eq!(sparkline(&[], 1.0), "");
    }

    #[test]
    fn scales_and_figures_are_round() {
        assert_eq!(nice_max([0.2].into_iter()), 1.0);
        assert_eq!(nice_max([37.0, 12.0].into_iter()), 50.0);
        assert_eq!(nice_max([120.0].into_iter()), 200.0);
        assert_eq!(nice_max([1000.0].into_iter()), 1000.0);
        assert_eq!(figure(0.4213), "0.42");
        assert_eq!(figure(2.71), "2.7");
        assert_eq!(figure(1204.4), "1204");
        assert_eq!(figure(1.0), "1");
        assert_eq!(figure(0.0), "0");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1_536_000), "1.5 MB");
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(3_725), "1 h 2 min");
        assert_eq!(clock(3_723_000), "01:02:03 UTC");
    }
}
