//! The benchmark's baseline: a bare axum handler returning a fixed JSON body of the size of
//! a family's budget, on the same runtime settings as Hearth. Usage: `bare <port> <body-file>`.

use axum::http::header;
use axum::routing::get;
use axum::Router;

/// The same allocator as Hearth, so the baseline differs from Hearth only in Hearth's work.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(3900);
    let body: &'static [u8] = match args.next() {
        Some(path) => Box::leak(
            std::fs::read(path)
                .expect("readable body file")
                .into_boxed_slice(),
        ),
        None => b"{}",
    };
    let app = Router::new().route(
        "/api/budgets",
        get(move || async move { ([(header::CONTENT_TYPE, "application/json")], body) }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("port is free");
    axum::serve(listener, app).await.expect("serves");
}
