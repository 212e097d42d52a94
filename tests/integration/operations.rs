use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let c = app.client();
    assert_eq!(c.get("/healthz").await.status(), StatusCode::OK);
    let ready = c.json("/readyz").await;
    assert_eq!(
        ready,
        serde_json::json!({"status": "ok", "db": "up", "redis": "disabled"})
    );
    assert!(
        app.db_path.exists(),
        "the SQLite file is created on first start"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let c = app.client();
    for path in ["/api/me", "/login", "/healthz", "/favicon.svg"] {
        let r = c.get(path).await;
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        // Data may load nothing; documents and files only from this site.
        let default = if path.starts_with("/api/") {
            "default-src 'none'"
        } else {
            "default-src 'self'"
        };
        assert!(csp.contains(default), "{path}: {csp}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
    }
}

#[tokio::test]
async fn the_openapi_document_lists_every_endpoint() {
    let app = spawn_app().await;
    let doc: Value = app.client().json("/api/openapi.json").await;
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/logout",
        "/api/me",
        "/api/families",
        "/api/families/join",
        "/api/family",
        "/api/chat",
        "/api/categories",
        "/api/categories/{id}",
        "/api/budgets",
        "/api/budgets/{month}/{category_id}",
        "/api/expenses",
        "/api/expenses/{id}",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    assert!(doc["components"]["schemas"]["Budget"].is_object());
}

#[tokio::test]
async fn unknown_pages_are_404_pages() {
    let app = spawn_app().await;
    let r = app.client().get("/no/such/page").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("Page not found"));
}

#[test]
fn the_binary_prints_its_version_and_settings_and_refuses_unknown_arguments() {
    let run = |arg: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
            .arg(arg)
            .output()
            .expect("the binary runs")
    };
    let version = run("--version");
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("hearth {}", env!("CARGO_PKG_VERSION"))
    );
    let help = run("--help");
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for (variable, _, _) in hearth::config::SETTINGS {
        assert!(text.contains(variable), "{variable} in --help");
    }
    let bogus = run("--serve-me-tea");
    assert_eq!(bogus.status.code(), Some(2));
    let line = String::from_utf8_lossy(&bogus.stderr);
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(line.contains("--serve-me-tea") && line.contains("--help"));
}
