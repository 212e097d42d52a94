//! Building the server: settings in, a bound listener and a router out. Tests build it on
//! port 0 and run it in the background; `main` runs it until a shutdown signal.

use crate::auth::sessions::{InProcessSessions, RedisSessions, SessionStore};
use crate::cache::Cache;
use crate::config::{DatabaseSettings, Settings};
use crate::http::pages::PageBackend;
use crate::http::site::Site;
use crate::redis::link::RedisLink;
use crate::redis::lock::Locks;
use crate::redis::rate_limit::RateLimiter;
use crate::state::{AppState, Shared};
use crate::store::{PostgresStore, SqliteStore, Store, StoreError};
use crate::{http::routes, http::security};
use app::api::backend::BackendHandle;
use axum::{middleware, Router};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error("bad Redis configuration: {0}")]
    Redis(redis::RedisError),
    #[error("cannot unpack the site: {0}")]
    Site(std::io::Error),
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    port: u16,
    state: AppState,
    /// Kept while serving: an unpacked site goes when the server stops.
    _site: Site,
}

/// What the site is called and where it lives (`crate::http::site`); cargo-leptos sets these
/// variables when it runs the server, and the defaults match its output.
fn leptos_options(addr: SocketAddr, site: &Site) -> LeptosOptions {
    let var = |k: &str, default: &str| std::env::var(k).unwrap_or_else(|_| default.to_string());
    let builder = LeptosOptions::builder()
        .output_name(var("LEPTOS_OUTPUT_NAME", "hearth"))
        .site_root(site.root.to_string_lossy().into_owned())
        .site_pkg_dir(var("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(addr);
    // A build without a hash file (a test build) serves unhashed names.
    match &site.hash_file {
        Some(file) => builder
            .hash_files(true)
            .hash_file(std::sync::Arc::from(file.to_string_lossy().as_ref()))
            .build(),
        None => builder.hash_files(false).build(),
    }
}

pub async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match &settings.database {
        DatabaseSettings::Sqlite { path } => Arc::new(SqliteStore::open(path).await?),
        DatabaseSettings::Postgres { url } => {
            Arc::new(PostgresStore::connect(url.expose(), None).await?)
        }
    })
}

impl Application {
    /// Opens the database from the settings and binds `settings.addr`.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let store = open_store(&settings).await?;
        Self::build_with_store(settings, store).await
    }

    /// Binds `settings.addr` (port 0 picks a free one) and serves `store`.
    pub async fn build_with_store(
        settings: Settings,
        store: Arc<dyn Store>,
    ) -> Result<Self, StartupError> {
        crate::monitor::prometheus::install();
        let listener =
            TcpListener::bind(settings.addr)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: settings.addr,
                    source,
                })?;
        let local = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: settings.addr,
            source,
        })?;
        let redis = RedisLink::connect(&settings.redis).map_err(StartupError::Redis)?;
        let cache = Cache::new(
            redis,
            Duration::from_secs(settings.cache_default_ttl_s),
            settings.cache_l1_max_bytes,
        );
        let sessions: Arc<dyn SessionStore> = match cache.redis() {
            Some(link) => Arc::new(RedisSessions::new(link.clone())),
            None => Arc::new(InProcessSessions::default()),
        };
        let limiter = RateLimiter::new(cache.redis().cloned());
        let locks = Locks::new(cache.redis().cloned());
        if let Some(link) = cache.redis() {
            // Give a configured Redis a moment, so start-up warming can use it; a Redis that
            // stays down does not stop the start (the server runs degraded).
            link.wait_until_up(Duration::from_secs(2)).await;
        }
        let node_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        let redis_for_hub = cache.redis().cloned();
        let heartbeat_ms = settings.heartbeat_interval_ms;
        let write_delay_ms = settings.ws_write_delay_ms;
        let site = Site::locate().map_err(StartupError::Site)?;
        let leptos = leptos_options(local, &site);
        let state = AppState::new(Shared {
            store,
            cache,
            sessions,
            members: Default::default(),
            limiter,
            locks,
            settings,
            worker_script: crate::http::pwa::script(&leptos),
            leptos,
            started: Instant::now(),
            requests: crate::monitor::prometheus::RequestMetrics::new(&node_id),
            monitor: crate::monitor::Monitor::default(),
            node_id: node_id.clone(),
            rollups: Default::default(),
            hub: crate::realtime::Hub::new(
                node_id,
                redis_for_hub,
                Duration::from_millis(heartbeat_ms),
                Duration::from_millis(write_delay_ms),
            ),
        });
        tokio::spawn(crate::jobs::rollups(state.clone()));
        tokio::spawn(crate::monitor::prometheus::upkeep());
        tokio::spawn(crate::jobs::monitor(state.clone()));
        tokio::spawn(crate::service::recurring::run(state.clone()));
        let job = tracing::info_span!("job", otel.name = "warm the cache");
        let warmed = tracing::Instrument::instrument(crate::service::warm::warm(&state), job).await;
        tracing::debug!(warmed, "ready");
        Ok(Application {
            listener,
            router: router(state.clone()),
            state,
            port: local.port(),
            _site: site,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // The response cache's front door answers L1 hits of the cached reads and cached
        // pages before the router, in the representation asked for (compressed when
        // stored); compression wraps the router once, not each route: a layer added with
        // `Router::layer` is boxed and cloned per route and per request.
        let compressed = tower::Layer::layer(
            &crate::http::compress::CompressLayer::default(),
            self.router,
        );
        let service = crate::http::response_cache::FrontDoor::new(compressed, self.state.clone());
        axum::serve(
            crate::http::net::Listener(self.listener),
            axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
                crate::http::net::Remote,
            >(service),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Every WebSocket gets 4001 ("going away: reconnect") before the server stops.
            let open = self.state.hub.connection_count();
            tracing::info!(sockets = open, "closing every WebSocket with 4001");
            self.state.hub.close_all(app::ws::close::GOING_AWAY);
            for _ in 0..20 {
                if self.state.hub.connection_count() == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
    }
}

fn router(state: AppState) -> Router {
    let options = state.leptos.clone();
    let backend = BackendHandle(Arc::new(PageBackend {
        state: state.clone(),
    }));
    let context = move || provide_context(backend.clone());
    let routes = generate_route_list(app::App);

    let api = routes::api(&state);
    let pages = Router::new().leptos_routes_with_context(&state, routes, context.clone(), {
        let options = options.clone();
        move || app::shell(options.clone())
    });
    let files = Router::new()
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, app::shell))
        .layer(middleware::from_fn(security::static_cache_headers));

    Router::new()
        .merge(api)
        .route("/sw.js", axum::routing::get(crate::http::pwa::worker))
        .merge(pages)
        .merge(files)
        .layer(security::GuardLayer::new(state.clone()))
        .with_state(state)
}
