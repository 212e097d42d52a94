//! What a page load measured in this browser, sent once to `POST /api/vitals` with
//! `navigator.sendBeacon` (so leaving the page does not cancel it): navigation timing,
//! largest contentful paint and layout shift (from `PerformanceObserver`, buffered, so what
//! happened before the WebAssembly started counts), when the WebAssembly started and how long
//! hydration took, and the WebSocket's latency when the page has one.
//!
//! The report goes when the page is hidden or 5 seconds after hydration, whichever is first.

use crate::stats::Vitals;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

thread_local! {
    static WS_LATENCY_MS: Cell<Option<f64>> = const { Cell::new(None) };
}

/// The live socket's last heartbeat round trip, for the report.
pub fn note_ws_latency(ms: f64) {
    WS_LATENCY_MS.with(|c| c.set(Some(ms)));
}

fn number(obj: &JsValue, field: &str) -> Option<f64> {
    js_sys::Reflect::get(obj, &JsValue::from_str(field))
        .ok()?
        .as_f64()
        .filter(|v| v.is_finite() && *v > 0.0)
}

/// Calls `each` with every entry of `kind`, those before now included.
fn observe(kind: &str, each: impl Fn(&JsValue) + 'static) -> Option<()> {
    let callback = Closure::<dyn Fn(web_sys::PerformanceObserverEntryList)>::new(
        move |list: web_sys::PerformanceObserverEntryList| {
            for entry in list.get_entries().iter() {
                each(&entry);
            }
        },
    );
    let observer = web_sys::PerformanceObserver::new(callback.as_ref().unchecked_ref()).ok()?;
    let init = js_sys::Object::new();
    js_sys::Reflect::set(&init, &"type".into(), &kind.into()).ok()?;
    js_sys::Reflect::set(&init, &"buffered".into(), &true.into()).ok()?;
    observer.observe(init.unchecked_ref());
    // Observed for the page's life.
    callback.forget();
    Some(())
}

/// Starts measuring; `wasm_ms` is when the WebAssembly began to run and `hydrate_ms` how long
/// hydration took (both read by the entry point).
pub fn start(wasm_ms: f64, hydrate_ms: f64) {
    let lcp = Rc::new(Cell::new(None::<f64>));
    let cls = Rc::new(Cell::new(0.0_f64));
    {
        let lcp = lcp.clone();
        observe("largest-contentful-paint", move |e| {
            if let Some(t) = number(e, "startTime") {
                lcp.set(Some(t));
            }
        });
    }
    let shifts_seen = {
        let cls = cls.clone();
        observe("layout-shift", move |e| {
            let recent_input = js_sys::Reflect::get(e, &"hadRecentInput".into())
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            if !recent_input {
                cls.set(cls.get() + number(e, "value").unwrap_or(0.0));
            }
        })
        .is_some()
    };
    let sent = Rc::new(Cell::new(false));
    let send: Rc<dyn Fn()> = Rc::new(move || {
        if sent.replace(true) {
            return;
        }
        let window = leptos::prelude::window();
        let navigation = window
            .performance()
            .map(|p| p.get_entries_by_type("navigation").get(0))
            .unwrap_or(JsValue::UNDEFINED);
        let report = Vitals {
            page: window.location().pathname().unwrap_or_else(|_| "/".into()),
            ttfb_ms: number(&navigation, "responseStart"),
            dom_content_loaded_ms: number(&navigation, "domContentLoadedEventEnd"),
            load_ms: number(&navigation, "loadEventEnd"),
            lcp_ms: lcp.get(),
            cls: shifts_seen.then(|| cls.get()),
            wasm_ms: Some(wasm_ms),
            hydrate_ms: Some(hydrate_ms),
            ws_latency_ms: WS_LATENCY_MS.with(Cell::get),
        };
        let Ok(json) = serde_json::to_string(&report) else {
            return;
        };
        let parts = js_sys::Array::of1(&JsValue::from_str(&json));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("application/json");
        if let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) {
            let _ = window
                .navigator()
                .send_beacon_with_opt_blob("/api/vitals", Some(&blob));
        }
    });
    let on_hidden = {
        let send = send.clone();
        Closure::<dyn Fn()>::new(move || {
            if leptos::prelude::document().visibility_state() == web_sys::VisibilityState::Hidden {
                send();
            }
        })
    };
    let _ = leptos::prelude::document()
        .add_event_listener_with_callback("visibilitychange", on_hidden.as_ref().unchecked_ref());
    on_hidden.forget();
    gloo_timers::callback::Timeout::new(5_000, move || send()).forget();
}

/// Starts the page-load report (`vitals.rs`) from its chunk: `wasm_ms` is when the WebAssembly
/// began to run and `hydrate_ms` how long hydration took.
#[cfg(not(feature = "ssr"))]
pub fn start_vitals(wasm_ms: f64, hydrate_ms: f64) {
    crate::components::start_part("the page-load report", load_vitals(wasm_ms, hydrate_ms));
}

#[cfg(not(feature = "ssr"))]
#[cfg_attr(feature = "split", leptos::lazy(vitals, fallible))]
async fn load_vitals(wasm_ms: f64, hydrate_ms: f64) -> Result<(), leptos::LazyViewError> {
    start(wasm_ms, hydrate_ms);
    Ok(())
}
