//! The budget page's sections around its form, from the page's parts chunk in a split build
//! (`parts::load_section`): the month's status (the connection, the alerts, the
//! totals), the categories with their limits and bars, and the month's expenses with their
//! changes. The page's first load needs only the form (and the ledger behind it); these take
//! over from the server's copy once their chunk is there (`components::deferred_part`).

use super::board::{notification_permission, Board};
use super::search::ExpenseSearch;
use crate::api;
use crate::components::{show_if, ErrorNote};
use crate::live::ledger::Row;
use crate::model::*;
use crate::money::{field_amount, format_minor, format_money};
use crate::ws::EventKind;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

/// The live state of the month: the connection, the last change's note, the alerts at 80 %
/// and 100 % of a limit, and the totals.
#[component]
pub(super) fn Status() -> impl IntoView {
    let board = expect_context::<Board>();
    let shown = board.shown;
    let digits = move || board.digits();
    let currency = move || board.currency();
    let money = move |amount: i64| format_money(amount, digits(), &currency());
    let totals = move || {
        shown
            .with(|b| b.as_ref().map(|b| b.totals.clone()))
            .unwrap_or(Totals {
                limit_minor: 0,
                spent_minor: 0,
                remaining_minor: 0,
            })
    };
    let alerts = move || {
        shown.with(|b| {
            b.as_ref()
                .map(|b| {
                    b.lines
                        .iter()
                        .filter(|l| l.alert != Alert::Ok)
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    view! {
        <LiveBar />
        <div class="toast-area" aria-live="polite">
            {move || board.toast.get().map(|(_, text)| view! { <p class="update-toast" data-testid="update-toast">{text}</p> })}
        </div>
        // One line is always there, so the first alert replaces it instead of pushing
        // the page down.
        {show_if(
            move || !alerts().is_empty(),
            move || view! {
                <div class="alert-banner" data-testid="alert-banner" role="status">
                    {move || alerts()
                        .into_iter()
                        .map(|l| {
                            let text = match l.alert {
                                Alert::Exceeded => format!("⛔ {} is over its limit", l.category_name),
                                _ => format!("⚠️ {} has used {}% of its limit", l.category_name, l.percent_used.unwrap_or(0)),
                            };
                            view! { <p>{text}</p> }
                        })
                        .collect_view()}
                </div>
            },
            || view! { <p class="alerts-clear">"✓ Every category is within its limit"</p> },
        )}
        <div class="totals card" data-testid="budget-total" data-spent-minor=move || totals().spent_minor>
            <div>
                <span class="label">"Spent"</span>
                <strong class="spent">{move || money(totals().spent_minor)}</strong>
            </div>
            <div>
                <span class="label">"Limits"</span>
                <strong>{move || money(totals().limit_minor)}</strong>
            </div>
            <div>
                <span class="label">"Left"</span>
                <strong class=move || if totals().remaining_minor < 0 { "neg" } else { "" }>
                    {move || money(totals().remaining_minor)}
                </strong>
            </div>
        </div>
    }
    .into_any()
}

/// "Last message at 14:03:07", in the browser's time zone. From the date's own fields: the
/// first `toLocaleTimeString` of a page sets up the browser's locale data, which took half of
/// a 100 ms task (at 4x) when the connection's first message arrived.
fn last_message(ms: f64) -> String {
    #[cfg(not(feature = "ssr"))]
    {
        let at = js_sys::Date::new(&ms.into());
        format!(
            "Last message at {}",
            clock_time(at.get_hours(), at.get_minutes(), at.get_seconds())
        )
    }
    #[cfg(feature = "ssr")]
    {
        let _ = ms;
        String::new()
    }
}

/// A time of day as `HH:MM:SS`.
#[cfg(any(not(feature = "ssr"), test))]
fn clock_time(hours: u32, minutes: u32, seconds: u32) -> String {
    format!("{hours:02}:{minutes:02}:{seconds:02}")
}

#[component]
fn LiveBar() -> impl IntoView {
    let board = expect_context::<Board>();
    let live = board.live;
    let permission = RwSignal::new(None::<String>);
    Effect::new(move |_| permission.set(notification_permission()));
    let ask = move |_| {
        #[cfg(not(feature = "ssr"))]
        if let Ok(promise) = web_sys::Notification::request_permission() {
            spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
                permission.set(notification_permission());
            });
        }
    };
    view! {
        <div class="livebar" aria-label="Connection">
            <span
                class=move || format!("status {}", live.status().as_str())
                title=move || live.last_message_ms.get().map(last_message).unwrap_or_default()
            >
                <span class="dot" aria-hidden="true"></span>
                <span data-testid="connection-status">{move || live.status().as_str()}</span>
            </span>
            <span class="metric" title="Round trip of the last heartbeat">
                "latency "
                <span data-testid="latency-ms">
                    {move || live.latency_ms.get().map(|ms| ms.to_string()).unwrap_or_else(|| "–".into())}
                </span>
                " ms"
            </span>
            <span class="metric" title="Where the last budget load came from, and the server's time for it">
                "data "
                <span data-testid="cache-indicator">
                    {move || board.load.get().map(|l| l.cache).unwrap_or_else(|| "–".into())}
                </span>
                {move || {
                    board
                        .load
                        .get()
                        .and_then(|l| l.server_ms)
                        .map(|ms| format!(" · {ms:.1} ms"))
                }}
            </span>
            <Show when=move || permission.get().as_deref() == Some("default")>
                <button type="button" class="link" on:click=ask>"Turn on alert notifications"</button>
            </Show>
        </div>
    }
    .into_any()
}

/// The month's categories: each one's spending against its limit, its limit to change, and
/// a new category to add.
#[component]
pub(super) fn CategoriesCard() -> impl IntoView {
    let board = expect_context::<Board>();
    let shown = board.shown;
    let categories = board.category_choices;
    let digits = move || board.digits();
    let currency = move || board.currency();
    view! {
        <section class="card">
            <h2>"Categories"</h2>
            {show_if(
                move || !categories.with(|c| c.is_empty()),
                move || view! {
                    <ul class="lines">
                        <For
                            each=move || shown.with(|b| b.as_ref().map(|b| b.lines.clone()).unwrap_or_default())
                            key=|l| (l.category_id, l.spent_minor, l.limit_minor, l.category_name.clone())
                            let(line)
                        >
                            <LineRow line month=shown.with_untracked(|b| b.as_ref().map(|b| b.month.clone()).unwrap_or_default()) digits=digits() currency=currency() />
                        </For>
                    </ul>
                },
                || view! { <p class="empty">"No categories yet. Add one below."</p> },
            )}
            <NewCategoryForm />
        </section>
    }
    .into_any()
}

/// The month's expenses (or one member's, from "Who spent"), the ones still being saved
/// first, and the month's and the year's CSV.
#[component]
pub(super) fn ExpensesCard() -> impl IntoView {
    let board = expect_context::<Board>();
    let shown = board.shown;
    let categories = board.category_choices;
    let who = board.who;
    let month = move || shown.with(|b| b.as_ref().and_then(|b| Month::parse(&b.month).ok()));
    let digits = move || board.digits();
    view! {
        <section class="card">
            <h2>"Expenses"</h2>
            <ExpenseSearch digits=digits() />
            {show_if(
                move || board.search.with(|q| q.trim().is_empty()) && board.ledger.with(|l| !l.rows().is_empty()),
                move || view! {
                    <ul class="expenses" data-testid="expense-list">
                        <For
                            each=move || {
                                let who = who.get();
                                board.ledger.with(|l| l.rows()).into_iter().filter(|row| match (who, row) {
                                    (None, _) => true,
                                    (Some(m), Row::Saved(e)) => e.created_by == m,
                                    (Some(m), Row::Pending(_)) => m == board.me,
                                }).collect::<Vec<_>>()
                            }
                            key=|row| match row {
                                Row::Saved(e) => (e.id, e.version, 0u8),
                                Row::Pending(p) => (p.expense.id.unwrap_or_default(), 0, 1 + u8::from(p.offline)),
                            }
                            let(row)
                        >
                            {match row {
                                Row::Saved(expense) => view! { <ExpenseRow expense categories digits=digits() /> }.into_any(),
                                Row::Pending(p) => {
                                    let name = categories.with_untracked(|c| {
                                        c.iter().find(|c| c.0 == p.expense.category_id).map(|c| c.1.clone()).unwrap_or_default()
                                    });
                                    let state = if p.offline { "waiting for the network" } else { "saving…" };
                                    view! {
                                        <li class="expense pending" data-testid="expense" data-pending="true">
                                            <span class="what">
                                                {format!(
                                                    "{} · {}{}",
                                                    p.expense.spent_on.clone().unwrap_or_default(),
                                                    name,
                                                    p.expense.note.as_ref().map(|n| format!(" · {n}")).unwrap_or_default()
                                                )}
                                            </span>
                                            <span class=format!("who c{}", board.ledger.with_untracked(|l| l.member_colour(board.me))) data-testid="expense-member">"You"</span>
                                            <span class="amount">{format_minor(p.expense.amount_minor, digits())}</span>
                                            <span class="state">{state}</span>
                                        </li>
                                    }
                                        .into_any()
                                }
                            }}
                        </For>
                    </ul>
                },
                move || show_if(
                    move || board.search.with(|q| q.trim().is_empty()),
                    || view! { <p class="empty">"No expenses this month yet."</p> },
                    || (),
                ),
            )}
            {move || month().map(|m| {
                // (`Month::last_day` inline: calling it here put 393 B more into the
                // first load, over the guard.)
                let last = m.next().first_day().pred_opt().unwrap_or(m.first_day());
                let year = m.year();
                view! {
                    <p class="export">
                        "Download as CSV: "
                        <a href=format!("/api/export.csv?from={}&to={last}", m.first_day()) download data-testid="export-link">"this month"</a>
                        " · "
                        <a href=format!("/api/export.csv?from={year}-01-01&to={year}-12-31") download data-testid="export-year-link">{format!("all of {year}")}</a>
                    </p>
                }
            })}
        </section>
    }
    .into_any()
}

#[component]
fn LineRow(line: BudgetLine, month: String, digits: u8, currency: String) -> impl IntoView {
    let board = expect_context::<Board>();
    let editing = RwSignal::new(false);
    let limit_text = RwSignal::new(
        line.limit_minor
            .map(|l| format_minor(l, digits))
            .unwrap_or_default(),
    );
    let error = RwSignal::new(None::<String>);
    let category_id = line.category_id;
    let on_save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Ok(limit_minor) = field_amount(&limit_text.get_untracked(), digits, "limit", false)
            .map_err(|m| error.set(Some(m)))
        else {
            return;
        };
        let month = month.clone();
        spawn_local(async move {
            match api::set_limit(month, category_id, SetLimit { limit_minor }).await {
                Ok(line) => {
                    error.set(None);
                    editing.set(false);
                    board.ledger.update(|l| l.line(line));
                }
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
    let pct = line.percent_used.unwrap_or(0).clamp(0, 100);
    let status = match line.alert {
        Alert::Ok => "",
        Alert::Warning => " · nearly there",
        Alert::Exceeded => " · over the limit",
    };
    let summary = match line.limit_minor {
        Some(limit) => format!(
            "{} of {} {}{}",
            format_minor(line.spent_minor, digits),
            format_minor(limit, digits),
            currency,
            status
        ),
        None => format!(
            "{} {} · no limit",
            format_minor(line.spent_minor, digits),
            currency
        ),
    };
    view! {
        <li class=format!("line {}", line.alert.as_str()) data-testid="budget-line" data-category=line.category_name.clone() data-alert=line.alert.as_str()>
            <div class="line-head">
                <svg class="swatch" viewBox="0 0 10 10" aria-hidden="true"><circle cx="5" cy="5" r="5" fill=line.color.clone() /></svg>
                <span class="name">{line.category_name.clone()}</span>
                <span class="amount">{summary}</span>
            </div>
            <progress max="100" value=pct aria-label=format!("{} used", line.category_name)>{format!("{pct}%")}</progress>
            <Show
                when=move || editing.get()
                fallback=move || view! {
                    <button type="button" class="link" on:click=move |_| editing.set(true)>
                        {if line.limit_minor.is_some() { "Change limit" } else { "Set limit" }}
                    </button>
                }
            >
                <form class="inline" on:submit=on_save.clone()>
                    <label>
                        "Monthly limit"
                        <input type="text" inputmode="decimal" name="limit" required bind:value=limit_text />
                    </label>
                    <button type="submit">"Save"</button>
                    <button type="button" class="link" on:click=move |_| editing.set(false)>"Cancel"</button>
                </form>
            </Show>
            <ErrorNote error />
            <DeleteCategory category_id name=line.category_name.clone() />
        </li>
    }
    .into_any()
}

/// Deleting a category: asked once, then done at once when nothing names it; when expenses
/// or challenges do, the server says how many and the person picks the category that takes
/// them (`?move_to=`), or keeps the category.
#[component]
fn DeleteCategory(category_id: Uuid, name: String) -> impl IntoView {
    let board = expect_context::<Board>();
    let asking = RwSignal::new(false);
    let in_use = RwSignal::new(None::<String>);
    let target = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let others = Signal::derive(move || {
        board
            .category_choices
            .get()
            .into_iter()
            .filter(|(id, _)| *id != category_id)
            .collect::<Vec<_>>()
    });
    let delete = move |move_to: Option<Uuid>| {
        pending.set(true);
        spawn_local(async move {
            match api::delete_category(category_id, move_to).await {
                Ok(()) => {
                    asking.set(false);
                    in_use.set(None);
                    error.set(None);
                    board.refresh();
                }
                Err(e) if e.code() == "category_in_use" => {
                    if target.with_untracked(String::is_empty) {
                        if let Some((first, _)) = others.get_untracked().first() {
                            target.set(first.to_string());
                        }
                    }
                    in_use.set(Some(e.message()));
                }
                Err(e) => error.set(Some(e.message())),
            }
            pending.set(false);
        });
    };
    let cancel = move |_| {
        asking.set(false);
        in_use.set(None);
        error.set(None);
    };
    let on_move = move |ev: SubmitEvent| {
        ev.prevent_default();
        match Uuid::parse_str(&target.get_untracked()) {
            Ok(to) => delete(Some(to)),
            Err(_) => error.set(Some("Choose the category that takes them.".into())),
        }
    };
    view! {
        <Show
            when=move || asking.get()
            fallback=move || view! {
                <button type="button" class="link" on:click=move |_| asking.set(true)>"Delete category"</button>
            }
        >
            {
                let name = name.clone();
                move || match in_use.get() {
                    None => view! {
                        <p class="inline" data-testid="delete-category">
                            {format!("Delete {name}? ")}
                            <button type="button" disabled=move || pending.get() on:click=move |_| delete(None)>"Delete"</button>
                            <button type="button" class="link" on:click=cancel>"Cancel"</button>
                        </p>
                    }
                    .into_any(),
                    Some(message) => view! {
                        <form class="inline" on:submit=on_move data-testid="move-category-form">
                            <p role="status">{message}</p>
                            <Show
                                when=move || !others.with(Vec::is_empty)
                                fallback=|| view! { <p>"Add another category to move them to first."</p> }
                            >
                                <label>
                                    "Move them to"
                                    <select name="move_to" bind:value=target>
                                        <For each=move || others.get() key=|(id, _)| *id let((id, other))>
                                            <option value=id.to_string()>{other}</option>
                                        </For>
                                    </select>
                                </label>
                                <button type="submit" disabled=move || pending.get()>"Move and delete"</button>
                            </Show>
                            <button type="button" class="link" on:click=cancel>"Keep it"</button>
                        </form>
                    }
                    .into_any(),
                }
            }
        </Show>
        <ErrorNote error />
    }
}

#[component]
fn NewCategoryForm() -> impl IntoView {
    let board = expect_context::<Board>();
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = NewCategory {
            name: name.get_untracked().trim().to_string(),
            color: None,
        };
        spawn_local(async move {
            match api::create_category(body).await {
                Ok(_) => {
                    name.set(String::new());
                    error.set(None);
                    board.refresh();
                }
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
    view! {
        <form class="inline" on:submit=on_submit data-testid="category-form">
            <label>"New category" <input type="text" name="category" required maxlength="40" bind:value=name /></label>
            <button type="submit">"Add"</button>
            <ErrorNote error />
        </form>
    }
}

#[component]
fn ExpenseRow(
    expense: Expense,
    categories: Signal<Vec<(Uuid, String)>>,
    digits: u8,
) -> impl IntoView {
    let board = expect_context::<Board>();
    let editing = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let amount = RwSignal::new(format_minor(expense.amount_minor, digits));
    let note = RwSignal::new(expense.note.clone().unwrap_or_default());
    let day = RwSignal::new(expense.spent_on.clone());
    let category = RwSignal::new(expense.category_id.to_string());
    let category_name = categories.with_untracked(|c| {
        c.iter()
            .find(|c| c.0 == expense.category_id)
            .map(|c| c.1.clone())
            .unwrap_or_default()
    });
    let id = expense.id;
    let version = expense.version;
    let on_save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Ok(amount_minor) = field_amount(&amount.get_untracked(), digits, "amount", false)
            .map_err(|m| error.set(Some(m)))
        else {
            return;
        };
        let body = ExpensePatch {
            version,
            category_id: Uuid::parse_str(&category.get_untracked()).ok(),
            amount_minor: Some(amount_minor),
            note: Some(note.get_untracked().trim().to_string()),
            spent_on: Some(day.get_untracked()),
        };
        spawn_local(async move {
            match api::update_expense(id, body).await {
                Ok(saved) => {
                    board
                        .ledger
                        .update(|l| l.expense_event(EventKind::ExpenseUpdated, saved));
                    board.after_change();
                }
                Err(e) if e.status == 409 => {
                    error.set(Some(
                        "Someone changed this expense meanwhile; here is their version.".into(),
                    ));
                    board.refresh();
                }
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
    let deleted = expense.clone();
    let on_delete = move |_| {
        let deleted = deleted.clone();
        spawn_local(async move {
            match api::delete_expense(id).await {
                Ok(()) => {
                    board
                        .ledger
                        .update(|l| l.expense_event(EventKind::ExpenseDeleted, deleted));
                    board.after_change();
                }
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
    let who = expense.created_by_name.clone();
    let who_class = format!(
        "who c{}",
        board
            .ledger
            .with_untracked(|l| l.member_colour(expense.created_by))
    );
    let label = format!(
        "{} · {}{}",
        expense.spent_on,
        category_name,
        expense
            .note
            .as_ref()
            .map(|n| format!(" · {n}"))
            .unwrap_or_default()
    );
    view! {
        <li class="expense" data-testid="expense">
            <Show
                when=move || editing.get()
                fallback={
                    let label = label.clone();
                    let on_delete = on_delete.clone();
                    let who = who.clone();
                    let who_class = who_class.clone();
                    move || view! {
                        <span class="what">{label.clone()}</span>
                        <span class=who_class.clone() data-testid="expense-member">{who.clone()}</span>
                        <span class="amount">{format_minor(expense.amount_minor, digits)}</span>
                        <span class="actions">
                            <button type="button" class="link" on:click=move |_| editing.set(true)>"Edit"</button>
                            <button type="button" class="link danger" on:click=on_delete.clone()>"Delete"</button>
                        </span>
                    }
                }
            >
                <form class="inline edit" on:submit=on_save>
                    <label>
                        "Category"
                        <select bind:value=category>
                            {categories
                                .get_untracked()
                                .into_iter()
                                .map(|(cid, name)| view! { <option value=cid.to_string()>{name}</option> })
                                .collect_view()}
                        </select>
                    </label>
                    <label>"Amount" <input type="text" inputmode="decimal" required bind:value=amount /></label>
                    <label>"Note" <input type="text" maxlength="500" bind:value=note /></label>
                    <label>"Date" <input type="date" required bind:value=day /></label>
                    <button type="submit">"Save"</button>
                    <button type="button" class="link" on:click=move |_| editing.set(false)>"Cancel"</button>
                </form>
            </Show>
            <ErrorNote error />
        </li>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::clock_time;

    #[test]
    fn a_time_of_day_is_written_with_two_digits_each() {
        assert_eq!(clock_time(9, 3, 7), "09:03:07");
        assert_eq!(clock_time(23, 59, 0), "23:59:00");
    }
}
