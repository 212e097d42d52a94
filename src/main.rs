//! `hearth`: reads the settings, builds the server and serves until SIGINT or SIGTERM;
//! `hearth --version` and `hearth --help` (the settings) print and exit.

use hearth::config::Settings;
use hearth::startup::Application;

/// mimalloc: the hot paths allocate small, short-lived objects on two threads; it serves them
/// faster than glibc's allocator (measured in BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("--version" | "-V") => {
            println!("hearth {}", env!("CARGO_PKG_VERSION"));
            return std::process::ExitCode::SUCCESS;
        }
        Some("--help" | "-h") => {
            print!("{}", hearth::config::help());
            return std::process::ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("hearth: unknown argument {other:?} (hearth --help lists what it takes)");
            return std::process::ExitCode::from(2);
        }
    }
    // Outside the runtime: the trace exporter's HTTP client blocks, and dropping the guard
    // after the runtime sends the last spans.
    let telemetry = hearth::telemetry::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hearth: no async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if telemetry.exporting() {
        tracing::info!("exporting traces over OTLP");
    }
    let code = runtime.block_on(serve());
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    drop(telemetry);
    code
}

async fn serve() -> std::process::ExitCode {
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("hearth: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(port = app.port(), "Hearth is listening");
    match app.run_until_stopped(shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hearth: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
