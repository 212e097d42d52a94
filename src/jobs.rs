//! The loops every server runs beside serving, each started once by `startup`: the
//! monitor's second ([`monitor`]: measure, raise or clear alerts, send the admin page its
//! figures), the analytics roll-ups ([`rollups`]). (The recurring bills' pass is
//! `service::recurring::run`; warming at start-up `service::warm::warm`; the Prometheus
//! recorder's upkeep `monitor::prometheus::upkeep`.)

use crate::monitor::{self, rollup};
use crate::state::AppState;
use std::time::Duration;

/// Runs the roll-ups (`monitor::rollup`) for as long as the server runs.
pub async fn rollups(state: AppState) {
    let period = Duration::from_millis(state.settings.rollup_interval_ms);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let job = tracing::info_span!("job", otel.name = "analytics roll-up");
        let once = rollup::once(
            &state.cache,
            &state.locks,
            &state.rollups,
            &state.node_id,
            period,
        );
        if let Err(e) = tracing::Instrument::instrument(once, job).await {
            tracing::debug!(error = %e, "analytics roll-up skipped");
        }
    }
}

/// Every second: measures, raises or clears alerts, and sends the admin statistics to this
/// server's subscribers of `admin:metrics` (each server reports its own figures).
pub async fn monitor(state: AppState) {
    use crate::realtime::metrics::ADMIN_CHANNEL;
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seconds = 0u64;
    loop {
        tick.tick().await;
        if seconds.is_multiple_of(monitor::KEYS_EVERY_S) {
            let state = state.clone();
            tokio::spawn(async move {
                let job = tracing::info_span!("job", otel.name = "count keys");
                if let Err(e) = tracing::Instrument::instrument(
                    monitor::count_keys(&state.cache, &state.monitor),
                    job,
                )
                .await
                {
                    tracing::debug!(error = %e, "keys not counted");
                }
            });
        }
        seconds += 1;
        state.hub.metrics.tick();
        let watched = state.hub.has_local_subscribers(ADMIN_CHANNEL);
        if !state.settings.performance_monitoring && !watched {
            continue;
        }
        let db_up = crate::service::admin::db_up(&state).await;
        if state.settings.performance_monitoring {
            let from = monitor::Sources {
                requests: &state.requests.window,
                cache: &state.cache,
                hub: &state.hub,
                node_id: &state.node_id,
            };
            let notices = state.monitor.tick(from, db_up);
            for notice in notices {
                tracing::warn!(rule = %notice.rule, state = %notice.state, "{}", notice.message);
                notify_admins(&state, &notice).await;
            }
        }
        if !watched {
            continue;
        }
        // The figures of now and the newest second; the page keeps the series itself.
        let mut stats = crate::service::admin::collect_with(&state, db_up).await;
        stats.series = state.monitor.latest().0.into_iter().collect();
        if let Ok(data) = serde_json::to_string(&stats) {
            deliver(&state, app::ws::EventKind::Metrics, ADMIN_CHANNEL, &data);
        }
    }
}

fn deliver(state: &AppState, kind: app::ws::EventKind, channel: &str, data: &str) {
    let ts = crate::clock::now_ms();
    let text = crate::realtime::bus::frame_text(kind, channel, None, ts, data);
    state.hub.deliver_local(crate::realtime::Frame {
        channel: channel.into(),
        epoch: None,
        offset: None,
        ts,
        text: text.into(),
    });
}

/// Sends an alert to the admins connected to this server: on `admin:metrics` (the monitor
/// page) and on each admin's `user:<id>` channel (any other page).
async fn notify_admins(state: &AppState, notice: &app::stats::AlertNotice) {
    let Ok(data) = serde_json::to_string(notice) else {
        return;
    };
    use app::ws::EventKind::Notification;
    deliver(
        state,
        Notification,
        crate::realtime::metrics::ADMIN_CHANNEL,
        &data,
    );
    for email in &state.settings.admin_emails {
        let Ok(Ok(Some(user))) = tokio::time::timeout(
            std::time::Duration::from_secs(1),
            state.store.user_by_email(email.as_str()),
        )
        .await
        else {
            continue;
        };
        let id = user.id;
        deliver(state, Notification, &format!("user:{id}"), &data);
    }
}
