//! `hearth`: reads the settings, builds the server and serves until SIGINT or SIGTERM;
//! `hearth --version` and `hearth --help` (the settings) print and exit; `hearth backup` and
//! `hearth restore` copy the SQLite database (src/backup.rs).

use hearth::config::Settings;
use hearth::startup::Application;

/// mimalloc: the hot paths allocate small, short-lived objects on two threads; it serves them
/// faster than glibc's allocator (measured in BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] => {}
        ["--version" | "-V"] => {
            println!("hearth {}", env!("CARGO_PKG_VERSION"));
            return std::process::ExitCode::SUCCESS;
        }
        ["--help" | "-h"] => {
            print!("{}", hearth::config::help());
            return std::process::ExitCode::SUCCESS;
        }
        ["backup", file] => return copy(Copying::Backup, file),
        ["restore", file] => return copy(Copying::Restore { force: false }, file),
        ["restore", "--force", file] | ["restore", file, "--force"] => {
            return copy(Copying::Restore { force: true }, file)
        }
        other => {
            eprintln!("hearth: unknown arguments {other:?} (hearth --help lists what it takes)");
            return std::process::ExitCode::from(2);
        }
    }
    // Outside the runtime: the trace exporter's HTTP client blocks, and dropping the guard
    // after the runtime sends the last spans.
    let telemetry = hearth::monitor::telemetry::init();
    let Some(runtime) = runtime(tokio::runtime::Builder::new_multi_thread()) else {
        return std::process::ExitCode::FAILURE;
    };
    if telemetry.exporting() {
        tracing::info!("exporting traces over OTLP");
    }
    let code = runtime.block_on(serve());
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    drop(telemetry);
    code
}

fn runtime(mut builder: tokio::runtime::Builder) -> Option<tokio::runtime::Runtime> {
    builder
        .enable_all()
        .build()
        .map_err(|e| eprintln!("hearth: no async runtime: {e}"))
        .ok()
}

enum Copying {
    Backup,
    Restore { force: bool },
}

/// `hearth backup <file>` and `hearth restore [--force] <file>` (src/backup.rs).
fn copy(what: Copying, file: &str) -> std::process::ExitCode {
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let Some(runtime) = runtime(tokio::runtime::Builder::new_current_thread()) else {
        return std::process::ExitCode::FAILURE;
    };
    let file = std::path::Path::new(file);
    let done = runtime.block_on(async {
        match what {
            Copying::Backup => hearth::backup::backup(&settings.database, file)
                .await
                .map(|s| format!("backed up {s} to {}", file.display())),
            Copying::Restore { force } => hearth::backup::restore(&settings.database, file, force)
                .await
                .map(|s| format!("restored {s} from {}", file.display())),
        }
    });
    match done {
        Ok(line) => {
            println!("hearth: {line}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hearth: {e}");
            std::process::ExitCode::FAILURE
        }
    }
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
