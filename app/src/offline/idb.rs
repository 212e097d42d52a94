//! Expenses waiting to be sent, kept in the browser's IndexedDB (`hearth` database, `outbox`
//! store, keyed by the expense's client id) so a reload or a closed tab loses nothing; the
//! client id makes the replay idempotent on the server. The same store keeps the other
//! changes waiting for the network (`pages::budget::waiting`: recurring bills, imports), each record with
//! its `method`, `path` and content `type` beside the `body`; a record without a `path` is an
//! expense. Browser only.

use crate::model::NewExpense;
use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStore, IdbRequest, IdbTransactionMode};

const DB: &str = "hearth";
const STORE: &str = "outbox";

/// Waits for an IndexedDB request's result.
async fn done(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        let ok = request.clone();
        let on_success = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &ok.result().unwrap_or(JsValue::UNDEFINED));
        });
        let failed = request.clone();
        let on_error = Closure::once_into_js(move || {
            let error = failed
                .error()
                .ok()
                .flatten()
                .map(JsValue::from)
                .unwrap_or_else(|| JsValue::from_str("IndexedDB request failed"));
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise).await
}

async fn open() -> Result<IdbDatabase, JsValue> {
    let factory = web_sys::window()
        .ok_or("no window")?
        .indexed_db()?
        .ok_or("IndexedDB is not available")?;
    let request = factory.open_with_u32(DB, 1)?;
    let upgrading = request.clone();
    let on_upgrade = Closure::once_into_js(move || {
        if let Ok(db) = upgrading.result() {
            let db: IdbDatabase = db.unchecked_into();
            if !db.object_store_names().contains(STORE) {
                let params = web_sys::IdbObjectStoreParameters::new();
                params.set_key_path(&JsValue::from_str("id"));
                let _ = db.create_object_store_with_optional_parameters(STORE, &params);
            }
        }
    });
    request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    Ok(done(&request).await?.unchecked_into())
}

async fn store(mode: IdbTransactionMode) -> Result<IdbObjectStore, JsValue> {
    open()
        .await?
        .transaction_with_str_and_mode(STORE, mode)?
        .object_store(STORE)
}

/// Keeps an expense until it is sent.
pub async fn put(expense: &NewExpense) -> Result<(), JsValue> {
    let id = expense.id.ok_or("an outbox expense needs its client id")?;
    let body = serde_json::to_string(expense).map_err(|e| e.to_string())?;
    let record = Object::new();
    Reflect::set(&record, &"id".into(), &id.to_string().into())?;
    Reflect::set(&record, &"body".into(), &body.into())?;
    Reflect::set(&record, &"at".into(), &js_sys::Date::now().into())?;
    let store = store(IdbTransactionMode::Readwrite).await?;
    done(&store.put(&record)?).await.map(drop)
}

/// Everything waiting, oldest first.
pub async fn all() -> Result<Vec<NewExpense>, JsValue> {
    let store = store(IdbTransactionMode::Readonly).await?;
    let records: js_sys::Array = done(&store.get_all()?).await?.unchecked_into();
    let mut waiting: Vec<(f64, NewExpense)> = records
        .iter()
        .filter_map(|r| {
            if Reflect::get(&r, &"path".into()).ok()?.is_string() {
                return None;
            }
            let at = Reflect::get(&r, &"at".into()).ok()?.as_f64().unwrap_or(0.0);
            let body = Reflect::get(&r, &"body".into()).ok()?.as_string()?;
            Some((at, serde_json::from_str(&body).ok()?))
        })
        .collect();
    waiting.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(waiting.into_iter().map(|(_, e)| e).collect())
}

/// Keeps a change other than an expense until it is sent.
pub async fn put_write(write: &crate::offline::Waiting) -> Result<(), JsValue> {
    let record = Object::new();
    for (key, value) in [
        ("id", write.id.to_string()),
        ("method", write.method.clone()),
        ("path", write.path.clone()),
        ("type", write.content_type.clone()),
        ("body", write.body.clone()),
        ("what", write.what.clone()),
    ] {
        Reflect::set(&record, &key.into(), &value.into())?;
    }
    Reflect::set(&record, &"at".into(), &js_sys::Date::now().into())?;
    let store = store(IdbTransactionMode::Readwrite).await?;
    done(&store.put(&record)?).await.map(drop)
}

/// The changes other than expenses waiting, oldest first.
pub async fn writes() -> Result<Vec<crate::offline::Waiting>, JsValue> {
    let store = store(IdbTransactionMode::Readonly).await?;
    let records: js_sys::Array = done(&store.get_all()?).await?.unchecked_into();
    let text = |r: &JsValue, key: &str| Reflect::get(r, &key.into()).ok()?.as_string();
    let mut waiting: Vec<(f64, crate::offline::Waiting)> = records
        .iter()
        .filter_map(|r| {
            let at = Reflect::get(&r, &"at".into()).ok()?.as_f64().unwrap_or(0.0);
            let write = crate::offline::Waiting {
                id: uuid::Uuid::parse_str(&text(&r, "id")?).ok()?,
                method: text(&r, "method")?,
                path: text(&r, "path")?,
                content_type: text(&r, "type")?,
                body: text(&r, "body")?,
                what: text(&r, "what")?,
            };
            Some((at, write))
        })
        .collect();
    waiting.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(waiting.into_iter().map(|(_, w)| w).collect())
}

/// Forgets one expense or change (sent, or refused by the server).
pub async fn remove(id: uuid::Uuid) -> Result<(), JsValue> {
    let store = store(IdbTransactionMode::Readwrite).await?;
    done(&store.delete(&id.to_string().into())?).await.map(drop)
}

/// Forgets everything (on sign-out).
pub async fn clear() -> Result<(), JsValue> {
    let store = store(IdbTransactionMode::Readwrite).await?;
    done(&store.clear()?).await.map(drop)
}
