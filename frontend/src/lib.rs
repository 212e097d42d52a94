//! The browser entry points. `hydrate` (built by cargo-leptos) takes over the server-rendered
//! page; `csr` (built by Trunk) renders the same app in the browser alone. Either way `<body>`
//! is then marked `data-hydrated`, so tests (and people) know clicks now reach the app.
#![forbid(unsafe_code)]

use wasm_bindgen::prelude::wasm_bindgen;

fn mark_ready() {
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    mark_ready();
}

#[cfg(all(feature = "csr", not(feature = "hydrate")))]
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
    mark_ready();
}
