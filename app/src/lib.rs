//! Hearth's `app` crate: the types the server and the browser share (API models, money and
//! months) and the Leptos components, rendered on the server (`ssr`) and hydrated in the
//! browser (`hydrate`), or rendered in the browser alone (`csr`, the Trunk build).
//!
//! The parts, from the bottom up; each uses only the parts listed before it
//! (`tests/integration/layers.rs` in the server's tests checks it):
//!
//! 1. **Shared types**: [`money`], [`stats`] (the admin's figures), [`model`] (requests,
//!    answers, `Month`, the recurring schedule), [`ws`] (the WebSocket protocol). The server
//!    uses these too.
//! 2. **Talking to the server**: [`api`], one function per call, over HTTP in the browser and
//!    through `api::backend` (the server's services) while rendering on the server.
//! 3. **Shared components**: `components` (the signed-in user, error lines, forms, the parts
//!    hydration leaves to a later task, `deferred_part` from a chunk and `later` from the main
//!    module, tasks of their own, loading a chunk).
//! 4. **The page-load report**: `vitals` (a chunk, started after hydration).
//! 5. **Offline**: `offline` (the outbox in IndexedDB and what waits in it; the service
//!    worker, updates and the install offer).
//! 6. **The live client**: [`live`] (the socket and the ledger: what a page shows, live and
//!    optimistic).
//! 7. **Pages**: `pages::budget` (the main module's page: its board; its form and month links,
//!    like the header, taking over from the server's copy a task after hydration; its sections
//!    and cards from chunks, each taking over from the server's copy when it arrives),
//!    `pages::performance`, `pages::simple`.
//! 8. **Around every page**: `layout` (the header, the pages from their chunks), and here
//!    [`App`] and the server's [`shell`].
//!
//! An event reaches a page as: `live::socket` → `pages::budget`'s `budget_events` → the
//! ledger (`live::ledger::Ledger`) → the page's derived signals. An expense typed on the
//! budget page goes: the form (`pages::budget`) → the ledger (shown at once) → `api` (or the
//! outbox, `offline::outbox`, without a network) → the server's answer reconciled in the ledger.
//!
//! What the browser loads later, as WebAssembly chunks of a split build (`cargo leptos build
//! --split`): every page but the budget (`layout`; the page's own chunk is fetched before it
//! hydrates, `layout::preload_page`, so no page hydrates asynchronously), the budget page's parts
//! with its live events' handler and its outbox's work (`pages::budget::board::sending`), all
//! in one chunk (`pages::budget::parts`), the live connection's loop
//! (`live::socket::run_socket`), the installable app's side
//! (`offline::pwa`) and the page-load report (`vitals`). The document's `<head>` is the
//! server's (`shell`): no `leptos_meta` in the browser. Each has a
//! loader, an `async fn` that split builds mark `#[lazy]`: its first call fetches the chunk;
//! on the server and in the Trunk build it is an ordinary `async fn`. The service worker
//! precaches every chunk, so they load offline too; a chunk that cannot be fetched all the
//! same shows a note with a retry (`components::not_loaded`).
#![forbid(unsafe_code)]

#[cfg(not(any(feature = "ssr", feature = "hydrate", feature = "csr")))]
compile_error!("build `app` with one of the features `ssr`, `hydrate` or `csr`");

pub mod api;
mod components;
mod layout;
pub mod live;
pub mod model;
pub mod money;
mod offline;
mod pages;
pub mod stats;
#[cfg(not(feature = "ssr"))]
pub mod vitals;
pub mod ws;

pub use components::in_own_task;
#[cfg(not(feature = "ssr"))]
pub use components::when_parts_in;
use leptos::prelude::*;
use leptos_router::{
    components::{FlatRoutes, Route, Router},
    path, SsrMode,
};
#[cfg(not(feature = "ssr"))]
pub use vitals::start_vitals;

pub use components::MeResource;
#[cfg(feature = "split")]
pub use layout::preload_page;

/// The HTML document around the app, rendered on the server only.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos::nonce::use_nonce;
    use leptos_meta::{provide_meta_context, HashedStylesheet, Link, Meta, MetaTags, Title};
    // The document's title and head tags are the server's: the browser hydrates only `<body>`
    // (the performance page sets its title itself on a client navigation), so the head's code
    // stays out of the WebAssembly.
    provide_meta_context();
    if let (Some(nonce), Some(response)) =
        (use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    {
        if let Ok(value) =
            http::HeaderValue::from_str(&content_security_policy(Some(&nonce.to_string())))
        {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <HashedStylesheet options=options.clone() id="leptos" />
                <link rel="manifest" href="/manifest.webmanifest" />
                <link rel="apple-touch-icon" href="/apple-touch-icon.png" />
                <Hydration options=options.clone() />
                <Title text=title_of(use_context::<http::request::Parts>()) />
                <Meta name="description" content="Your family's budget, shared and live." />
                <Meta name="theme-color" content="#b4532a" />
                <Link rel="icon" href="/favicon.svg" type_="image/svg+xml" />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The performance page's title (the other pages are "Hearth").
pub(crate) const PERFORMANCE_TITLE: &str = "Performance · Hearth";

/// The document's title of the page requested.
#[cfg(feature = "ssr")]
fn title_of(request: Option<http::request::Parts>) -> &'static str {
    match request.map(|r| r.uri.path() == "/admin/performance") {
        Some(true) => PERFORMANCE_TITLE,
        _ => "Hearth",
    }
}

/// The hashed names (`js`, `wasm`) of the build, from the `hash.txt` cargo-leptos writes beside
/// the binary; unhashed names without one.
#[cfg(feature = "ssr")]
fn asset_names(options: &LeptosOptions) -> (String, String) {
    let name = options.output_name.to_string();
    let hashes = options
        .hash_files
        .then(|| std::env::current_exe().ok())
        .flatten()
        .and_then(|exe| {
            std::fs::read_to_string(exe.parent()?.join(options.hash_file.as_ref())).ok()
        });
    let Some(hashes) = hashes else {
        let wasm = if option_env!("LEPTOS_OUTPUT_NAME").is_some() {
            name.clone()
        } else {
            format!("{name}_bg")
        };
        return (name, wasm);
    };
    let hash = |kind: &str| {
        hashes.lines().find_map(|l| {
            let (file, hash) = l.trim().split_once(':')?;
            (file == kind).then(|| format!("{name}.{}", hash.trim()))
        })
    };
    (
        hash("js").unwrap_or_else(|| name.clone()),
        hash("wasm").unwrap_or_else(|| name.clone()),
    )
}

/// Starts the WebAssembly once the page has loaded and the browser is idle: the server
/// rendered page is readable at once, and the 0.5 MB module does not compete with it for
/// the network on a slow link (Leptos' own script preloads it at once). Repeat visits take it
/// from the service worker's cache. Instantiating the module and hydrating run in two tasks
/// (the browser may paint and answer input between them).
#[cfg(feature = "ssr")]
#[component]
fn Hydration(options: LeptosOptions) -> impl IntoView {
    use std::sync::OnceLock;
    static SCRIPT: OnceLock<String> = OnceLock::new();
    let script = SCRIPT.get_or_init(|| {
        let (js, wasm) = asset_names(&options);
        let pkg = &options.site_pkg_dir;
        format!(
            "const start = () => import('/{pkg}/{js}.js').then((m) => \
             m.default({{ module_or_path: '/{pkg}/{wasm}.wasm' }}).then(() => \
             new Promise((r) => setTimeout(r, 0))).then(() => m.hydrate()));\n\
             const idle = () => ('requestIdleCallback' in window) \
             ? requestIdleCallback(start, {{ timeout: 1000 }}) : setTimeout(start, 0);\n\
             if (document.readyState === 'complete') idle(); \
             else addEventListener('load', idle, {{ once: true }});"
        )
    });
    let nonce = leptos::nonce::use_nonce();
    view! { <script type="module" nonce=nonce>{script.clone()}</script> }
}

/// The Content-Security-Policy of every response; pages add the nonce Leptos puts on its
/// inline hydration and resource scripts. WebAssembly needs `'wasm-unsafe-eval'`.
#[cfg(feature = "ssr")]
pub fn content_security_policy(nonce: Option<&str>) -> String {
    match nonce {
        Some(n) => policy_allowing(&format!("'nonce-{n}'")),
        None => policy_allowing(""),
    }
}

/// The policy of a cached page: its inline scripts are allowed by their SHA-256 (base64
/// digests) instead of a nonce, since a nonce must not be sent twice.
#[cfg(feature = "ssr")]
pub fn content_security_policy_for_hashes(digests: &[String]) -> String {
    let sources: Vec<String> = digests.iter().map(|d| format!("'sha256-{d}'")).collect();
    policy_allowing(&sources.join(" "))
}

/// The policy with `scripts` (nonce or hash sources) allowed beside the site's own files.
#[cfg(feature = "ssr")]
fn policy_allowing(scripts: &str) -> String {
    let space = if scripts.is_empty() { "" } else { " " };
    format!(
        "default-src 'self'; script-src 'self'{space}{scripts} 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; \
         manifest-src 'self'; worker-src 'self'"
    )
}

#[component]
pub fn App() -> impl IntoView {
    let me = components::provide_me();
    view! {
        <Router>
            <layout::Header me />
            <offline::pwa::PwaBar />
            <main id="main" class="container">
                // No route nests, so `FlatRoutes`: its view is lighter than `Routes`' nested
                // one (9 KB brotli less first load, fewer functions to compile while hydrating).
                <FlatRoutes fallback=pages::simple::NotFound>
                    <Route path=path!("/") view=layout::home ssr=SsrMode::Async />
                    <Route
                        path=path!("/login")
                        view=layout::login
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/register")
                        view=layout::register
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/family")
                        view=layout::family
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/budget") view=pages::budget::BudgetPage ssr=SsrMode::Async />
                    <Route path=path!("/offline") view=layout::offline />
                    <Route
                        path=path!("/admin/performance")
                        view=layout::performance
                        ssr=SsrMode::Async
                    />
                </FlatRoutes>
            </main>
        </Router>
    }
}
