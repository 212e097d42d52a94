//! Bringing expenses in from a CSV file on `/budget`: the file is read in the browser and
//! sent for a dry run first, so the person sees every line as the server understood it
//! (duplicates of what is already here marked, bad lines with their reason) and maps the
//! file's unknown categories to the family's before anything is saved; then one request
//! saves all of it or nothing. Without a connection, the file waits in the outbox and is
//! imported once Hearth can be reached (`waiting`), under a key of its own so that sending
//! it twice saves nothing twice; the server still checks every line then and refuses the
//! whole file for a bad one. Loaded with the recurring bills
//! (`parts::load_section(Section::Bills)`).

use super::board::Board;
use super::waiting::{keep_for_later, WaitingList, Writes};
use crate::api;
use crate::components::ErrorNote;
use crate::model::{ImportRefused, ImportResult, ImportRow};
use crate::money::format_minor;
use crate::offline::Waiting;
use leptos::prelude::*;
use uuid::Uuid;

/// What the last dry run said: every row, and the refusal when a line is bad.
#[derive(Clone, Debug, PartialEq)]
struct Preview {
    rows: Vec<ImportRow>,
    refused: Option<String>,
}

/// `value` for a URL's query (RFC 3986 unreserved characters kept).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The query of an import: a dry run or not, duplicates or not, the mapped categories, and
/// the import's key (saving; a dry run saves nothing).
fn query(dry_run: bool, duplicates: bool, maps: &[(String, String)], key: Uuid) -> String {
    let mut q = format!("dry_run={dry_run}&include_duplicates={duplicates}");
    if !dry_run {
        q.push_str(&format!("&key={key}"));
    }
    for (name, id) in maps.iter().filter(|(_, id)| !id.is_empty()) {
        q.push_str(&format!("&{}={id}", encode(&format!("map[{name}]"))));
    }
    q
}

/// The file's category names that are none of the family's and not mapped yet or mapped.
fn unknown_categories(rows: &[ImportRow]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in rows
        .iter()
        .filter(|r| r.category_id.is_none() && !r.category.is_empty())
    {
        if !names.contains(&r.category) {
            names.push(r.category.clone());
        }
    }
    names
}

/// Reads the file chosen in the input of `ev` as text.
#[cfg(not(feature = "ssr"))]
async fn file_text(ev: &leptos::ev::Event) -> Option<String> {
    use wasm_bindgen::JsCast;
    let input = ev.target()?.dyn_into::<web_sys::HtmlInputElement>().ok()?;
    let file = input.files()?.get(0)?;
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .ok()?;
    text.as_string()
}

#[component]
pub(crate) fn ImportCard(digits: u8, writes: Writes) -> impl IntoView {
    let board = expect_context::<Board>();
    let text = RwSignal::new(None::<String>);
    // This file's import, named once so that sending it again saves nothing twice.
    let key = RwSignal::new(Uuid::new_v4());
    // The dry run could not reach Hearth: the file may wait to be imported unseen.
    let unreachable = RwSignal::new(false);
    let preview = RwSignal::new(None::<Preview>);
    let maps = RwSignal::new(Vec::<(String, String)>::new());
    let duplicates = RwSignal::new(false);
    let done = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let send = move |dry_run: bool| {
        let Some(csv) = text.get_untracked() else {
            return;
        };
        let q = query(
            dry_run,
            duplicates.get_untracked(),
            &maps.get_untracked(),
            key.get_untracked(),
        );
        pending.set(true);
        error.set(None);
        unreachable.set(false);
        leptos::task::spawn_local(async move {
            let kept = (!dry_run).then(|| Waiting {
                id: Uuid::new_v4(),
                method: "POST".into(),
                path: format!("/api/import?{q}"),
                content_type: "text/csv; charset=utf-8".into(),
                body: csv.clone(),
                what: "The file to import".into(),
            });
            let shown = match api::import_csv(csv, q).await {
                Ok(Ok(ImportResult { imported, .. })) if !dry_run => {
                    done.try_set(Some(match imported {
                        1 => "Imported 1 expense.".to_string(),
                        n => format!("Imported {n} expenses."),
                    }));
                    preview.try_set(None);
                    text.try_set(None);
                    maps.try_set(Vec::new());
                    None
                }
                Ok(Ok(ImportResult { rows, .. })) => Some(Preview {
                    rows,
                    refused: None,
                }),
                Ok(Err(ImportRefused { error: e, rows })) => Some(Preview {
                    rows,
                    refused: Some(e.message),
                }),
                Err(e) if keep_for_later(&e) => match kept {
                    // Saving: the file waits in the outbox, as it was to be sent.
                    Some(kept) => {
                        writes.keep(kept).await;
                        preview.try_set(None);
                        text.try_set(None);
                        maps.try_set(Vec::new());
                        None
                    }
                    None => {
                        error.try_set(Some(format!(
                            "{} The file is checked line by line before anything is saved; it can also wait and be imported once Hearth can be reached.",
                            e.message()
                        )));
                        unreachable.try_set(true);
                        None
                    }
                },
                Err(e) => {
                    error.try_set(Some(e.message()));
                    None
                }
            };
            if shown.is_some() {
                preview.try_set(shown);
            }
            pending.try_set(false);
        });
    };
    let on_file = move |ev: leptos::ev::Event| {
        done.set(None);
        key.set(Uuid::new_v4());
        preview.set(None);
        maps.set(Vec::new());
        #[cfg(not(feature = "ssr"))]
        leptos::task::spawn_local(async move {
            match file_text(&ev).await {
                Some(t) => {
                    text.try_set(Some(t));
                    send(true);
                }
                None => {
                    error.try_set(Some("The file could not be read.".into()));
                }
            }
        });
        #[cfg(feature = "ssr")]
        let _ = ev;
    };
    let to_save = move || {
        preview.with(|p| {
            p.as_ref().map_or(0, |p| {
                p.rows
                    .iter()
                    .filter(|r| duplicates.get() || !r.duplicate)
                    .count()
            })
        })
    };
    let ready = move || preview.with(|p| p.as_ref().is_some_and(|p| p.refused.is_none()));
    view! {
        <section class="card import">
            <h2>"Bring expenses in"</h2>
            <form data-testid="import-form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                send(false);
            }>
                <label>
                    "A CSV file with date, category, amount (and note) columns, as Hearth exports"
                    <input type="file" name="import_file" accept=".csv,text/csv" on:change=on_file />
                </label>
                {move || preview.get().map(|p| {
                    let unknown = unknown_categories(&p.rows);
                    let shown = p.rows.len().min(200);
                    let more = p.rows.len() - shown;
                    view! {
                        {p.refused.clone().map(|m| view! { <p class="error" role="alert" data-testid="import-refused">{m}</p> })}
                        {unknown.into_iter().map(|name| {
                            let key = name.clone();
                            view! {
                                <label class="map">
                                    {format!("Put \u{201c}{name}\u{201d} in")}
                                    <select name="import_map" on:change=move |ev| {
                                        let id = event_target_value(&ev);
                                        let key = key.clone();
                                        maps.update(|m| {
                                            m.retain(|(n, _)| *n != key);
                                            m.push((key, id));
                                        });
                                        send(true);
                                    }>
                                        <option value="">"choose a category"</option>
                                        {board.category_choices.get_untracked().into_iter().map(|(id, n)| view! {
                                            <option value=id.to_string()>{n}</option>
                                        }).collect_view()}
                                    </select>
                                </label>
                            }
                        }).collect_view()}
                        <table class="preview" data-testid="import-preview">
                            <thead><tr><th>"Line"</th><th>"Date"</th><th>"Category"</th><th>"Amount"</th><th>"Note"</th><th>"Status"</th></tr></thead>
                            <tbody>
                                {p.rows.into_iter().take(shown).map(|r| {
                                    let status = match (&r.error, r.duplicate) {
                                        (Some(e), _) => e.clone(),
                                        (None, true) => "already here".to_string(),
                                        (None, false) => "new".to_string(),
                                    };
                                    let class = if r.error.is_some() { "bad" } else if r.duplicate { "duplicate" } else { "" };
                                    view! {
                                        <tr class=class data-testid="import-row">
                                            <td>{r.line}</td>
                                            <td>{r.date}</td>
                                            <td>{r.category}</td>
                                            <td class="amount">{format_minor(r.amount_minor, digits)}</td>
                                            <td>{r.note.unwrap_or_default()}</td>
                                            <td>{status}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        {(more > 0).then(|| view! { <p class="muted">{format!("… and {more} more lines")}</p> })}
                    }
                })}
                {move || ready().then(|| view! {
                    <label class="check">
                        <input type="checkbox" name="import_duplicates" bind:checked=duplicates />
                        "Import the lines already here too"
                    </label>
                    <button type="submit" disabled=move || pending.get() || to_save() == 0>
                        {move || match to_save() {
                            1 => "Import 1 expense".to_string(),
                            n => format!("Import {n} expenses"),
                        }}
                    </button>
                })}
                {move || unreachable.get().then(|| view! {
                    <button type="button" data-testid="import-later" disabled=move || pending.get() on:click=move |_| send(false)>
                        "Import it once Hearth can be reached"
                    </button>
                })}
                <p class="done" role="status" data-testid="import-done">{move || done.get().or_else(|| writes.imported.get())}</p>
                <ErrorNote error />
                <WaitingList writes imports=true />
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_carries_the_mapped_categories_encoded() {
        let maps = vec![
            ("Lebensmittel & Co".to_string(), "id1".to_string()),
            ("Unmapped".to_string(), String::new()),
        ];
        assert_eq!(
            query(true, false, &maps, Uuid::nil()),
            "dry_run=true&include_duplicates=false&map%5BLebensmittel%20%26%20Co%5D=id1"
        );
        // Saving names the import by its key.
        assert_eq!(
            query(false, true, &[], Uuid::nil()),
            "dry_run=false&include_duplicates=true&key=00000000-0000-0000-0000-000000000000"
        );
    }
}
