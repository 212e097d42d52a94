//! The browser entry points. `hydrate` (built by cargo-leptos) takes over the server-rendered
//! page; `csr` (built by Trunk) renders the same app in the browser alone. Either way `<body>`
//! is then marked `data-hydrated`, so tests (and people) know clicks now reach the app.
#![forbid(unsafe_code)]

use wasm_bindgen::prelude::wasm_bindgen;

/// Milliseconds since the navigation started.
fn now() -> f64 {
    leptos::prelude::window()
        .performance()
        .map_or(0.0, |p| p.now())
}

/// Marks the page ready and starts measuring the page load (`app::vitals`); `hydrated` is how
/// long hydrating (or mounting) took.
fn mark_ready(started: f64, hydrated: f64) {
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
    app::in_own_task(move || app::start_vitals(started, hydrated));
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let started = now();
    // In a split build the page's code (any page but the budget) is a chunk: fetched first,
    // then the page hydrates at once. (Leptos' executor is set up by `hydrate_body`, so the
    // task is wasm-bindgen's.)
    #[cfg(feature = "split")]
    wasm_bindgen_futures::spawn_local(async move {
        app::preload_page().await;
        leptos::mount::hydrate_body(app::App);
        hydrated(started);
    });
    #[cfg(not(feature = "split"))]
    {
        leptos::mount::hydrate_body(app::App);
        hydrated(started);
    }
}

/// Hydration is done: marked once the parts it left to their chunks are swapped in
/// (`app::when_parts_in`), so that a click anywhere then reaches the app.
#[cfg(feature = "hydrate")]
fn hydrated(started: f64) {
    let hydrated = now() - started;
    app::when_parts_in(move || app::in_own_task(move || mark_ready(started, hydrated)));
}

#[cfg(all(feature = "csr", not(feature = "hydrate")))]
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    let started = now();
    leptos::mount::mount_to_body(app::App);
    mark_ready(started, now() - started);
}
