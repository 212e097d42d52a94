//! Working without a network: the outbox in the browser's IndexedDB ([`idb`]; [`outbox`] as
//! the pages use it, on the server a no-op) holding expenses and [`Waiting`] changes, and the
//! installable app ([`pwa`]: the service worker, its updates and the install offer).

#[cfg(not(feature = "ssr"))]
pub mod idb;
pub mod outbox;
pub mod pwa;

use uuid::Uuid;

/// A change kept until Hearth can be reached.
#[derive(Clone, Debug, PartialEq)]
pub struct Waiting {
    /// Its key in the outbox.
    pub id: Uuid,
    pub method: String,
    pub path: String,
    pub content_type: String,
    pub body: String,
    /// What a person calls it ("Add the bill “Rent”").
    pub what: String,
}

impl Waiting {
    /// A change with a JSON body (none when `body` is `None`).
    pub fn json(
        method: &str,
        path: String,
        body: Option<&impl serde::Serialize>,
        what: String,
    ) -> Self {
        Waiting {
            id: Uuid::new_v4(),
            method: method.into(),
            path,
            content_type: "application/json".into(),
            body: body
                .and_then(|b| serde_json::to_string(b).ok())
                .unwrap_or_default(),
            what,
        }
    }

    pub fn is_import(&self) -> bool {
        self.path.starts_with("/api/import")
    }
}
