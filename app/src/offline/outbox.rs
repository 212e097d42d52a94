//! The outbox as the pages use it: what waits to be sent, in the browser's IndexedDB
//! (`idb`): expenses (`pages::budget`) and the other changes (`pages::budget::waiting`). A failure to read
//! or remove is logged; on the server there is nothing to keep.

use crate::model::NewExpense;
use crate::offline::Waiting;

/// The expenses waiting, oldest first.
pub async fn expenses() -> Vec<NewExpense> {
    #[cfg(not(feature = "ssr"))]
    {
        crate::offline::idb::all().await.unwrap_or_else(|e| {
            leptos::logging::warn!("hearth: outbox unreadable: {e:?}");
            Vec::new()
        })
    }
    #[cfg(feature = "ssr")]
    Vec::new()
}

/// Keeps an expense; false when the browser cannot store it.
pub async fn put_expense(expense: &NewExpense) -> bool {
    #[cfg(not(feature = "ssr"))]
    {
        crate::offline::idb::put(expense).await.is_ok()
    }
    #[cfg(feature = "ssr")]
    {
        let _ = expense;
        false
    }
}

/// The other changes waiting, oldest first.
pub async fn writes() -> Vec<Waiting> {
    #[cfg(not(feature = "ssr"))]
    {
        crate::offline::idb::writes().await.unwrap_or_else(|e| {
            leptos::logging::warn!("hearth: outbox unreadable: {e:?}");
            Vec::new()
        })
    }
    #[cfg(feature = "ssr")]
    Vec::new()
}

/// Keeps a change; false when the browser cannot store it.
pub async fn put_write(write: &Waiting) -> bool {
    #[cfg(not(feature = "ssr"))]
    {
        crate::offline::idb::put_write(write).await.is_ok()
    }
    #[cfg(feature = "ssr")]
    {
        let _ = write;
        false
    }
}

/// Forgets an expense or a change (sent, or refused by the server).
pub async fn remove(id: uuid::Uuid) {
    #[cfg(not(feature = "ssr"))]
    if let Err(e) = crate::offline::idb::remove(id).await {
        leptos::logging::warn!("hearth: outbox entry not removed: {e:?}");
    }
    #[cfg(feature = "ssr")]
    let _ = id;
}
