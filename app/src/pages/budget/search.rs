//! The search of every month's notes, with the "Who", category and amount filters (in the
//! expenses' section, from the page's parts chunk).

use super::board::Board;
use crate::api;
use crate::components::{show_if, ErrorNote};
use crate::model::*;
use crate::money::format_minor;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

/// The expense list's tools: the "Who" filter and the search of every month's notes (with
/// the filter's member): what is typed is sent a moment after the typing stops; results come
/// a page at a time, newest first.
#[component]
pub(crate) fn ExpenseSearch(digits: u8) -> impl IntoView {
    let board = expect_context::<Board>();
    let text = board.search;
    let found = RwSignal::new(Vec::<Expense>::new());
    let next = RwSignal::new(None::<String>);
    let state = RwSignal::new("");
    let error = RwSignal::new(None::<String>);
    let asked = StoredValue::new(0u32);
    // The filters beside the text: a category and an amount range, as typed.
    let category = RwSignal::new(None::<Uuid>);
    let min = RwSignal::new(String::new());
    let max = RwSignal::new(String::new());
    let run = move |more: bool| {
        asked.update_value(|n| *n += 1);
        let ticket = asked.get_value();
        let amount = |typed: RwSignal<String>, field: &str| {
            let typed = typed.get_untracked();
            (!typed.trim().is_empty())
                .then(|| crate::money::field_amount(&typed, digits, field, false))
                .transpose()
        };
        let (min_minor, max_minor) = match (amount(min, "from"), amount(max, "to")) {
            (Ok(a), Ok(b)) => {
                error.set(None);
                (a, b)
            }
            (Err(m), _) | (_, Err(m)) => {
                error.set(Some(m));
                return;
            }
        };
        let query = api::Search {
            text: text.get_untracked(),
            member: board.who.get_untracked(),
            category: category.get_untracked(),
            min_minor,
            max_minor,
        };
        if query.text.trim().is_empty()
            && query.category.is_none()
            && min_minor.is_none()
            && max_minor.is_none()
        {
            found.set(Vec::new());
            next.set(None);
            state.set("");
            return;
        }
        let cursor = if more { next.get_untracked() } else { None };
        state.set("searching");
        spawn_local(async move {
            // Wait for the typing to stop: a newer keystroke makes this search moot.
            #[cfg(not(feature = "ssr"))]
            if !more {
                gloo_timers::future::TimeoutFuture::new(300).await;
                if asked.try_get_value() != Some(ticket) {
                    return;
                }
            }
            let page = api::search_expenses(&query, cursor.as_deref()).await;
            if asked.try_get_value() != Some(ticket) {
                return;
            }
            match page {
                Ok(page) => {
                    error.set(None);
                    if more {
                        found.update(|f| f.extend(page.expenses));
                    } else {
                        found.set(page.expenses);
                    }
                    next.set(page.next_cursor);
                    state.set("done");
                }
                Err(e) => {
                    error.set(Some(e.message()));
                    state.set("");
                }
            }
        });
    };
    let category_name = move |id: Uuid| {
        board
            .category_choices
            .with_untracked(|c| c.iter().find(|c| c.0 == id).map(|c| c.1.clone()))
            .unwrap_or_default()
    };
    // (`try_`: the month's view that made these may be on its way out while this reruns.)
    let typed = |s: RwSignal<String>| s.try_with(|t| !t.trim().is_empty()) == Some(true);
    let filtered = move || category.try_get().flatten().is_some() || typed(min) || typed(max);
    let asking = move || filtered() || !text.with(|t| t.trim().is_empty());
    let changed = Callback::new(move |_| run(false));
    view! {
        <div class="search">
            <MemberFilter who=board.who picked=changed />
            {id_filter(("Category", "search-category", "Any"), category, board.category_choices, changed)}
            {search_field(("search-input", "Search the notes of every month", "Search every month's notes…", "200"), text, changed)}
            {search_field(("search-min", "Amount from", "From", "20"), min, changed)}
            {search_field(("search-max", "Amount to", "To", "20"), max, changed)}
            <ErrorNote error />
            {move || (state.get() == "searching" && found.with(Vec::is_empty)).then(|| view! { <p class="muted">"Searching…"</p> })}
            {move || (state.get() == "done" && found.with(Vec::is_empty)).then(|| view! {
                <p class="empty">{match text.get_untracked().trim() {
                    "" => "No expense in any month matches these filters.".to_string(),
                    t => format!("No expense in any month matches “{t}”."),
                }}</p>
            })}
            {move || (!found.with(Vec::is_empty) && asking()).then(|| view! {
                {(filtered() && text.with(|t| t.trim().is_empty())).then(|| view! { <h3>"Found in every month"</h3> })}
                <ul class="expenses" data-testid="search-results">
                    {found
                        .get()
                        .into_iter()
                        .map(|e| {
                            let colour = format!("who c{}", board.ledger.with_untracked(|l| l.member_colour(e.created_by)));
                            view! {
                                <li class="expense" data-testid="search-result">
                                    <span class="what">
                                        {format!("{} · {}{}", e.spent_on, category_name(e.category_id), e.note.as_ref().map(|n| format!(" · {n}")).unwrap_or_default())}
                                    </span>
                                    <span class=colour>{e.created_by_name.clone()}</span>
                                    <span class="amount">{format_minor(e.amount_minor, digits)}</span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
                {move || next.with(Option::is_some).then(|| view! {
                    <button type="button" class="link" on:click=move |_| run(true)>"More results"</button>
                })}
            })}
        </div>
    }
}

/// Narrows the expense list to one member (shown when the family has more than one).
#[component]
fn MemberFilter(who: RwSignal<Option<Uuid>>, picked: Callback<()>) -> impl IntoView {
    let board = expect_context::<Board>();
    let me = board.me;
    let members = Signal::derive(move || {
        board.ledger.with(|l| {
            l.spent_by_member(me)
                .into_iter()
                .map(|m| (m.user_id, m.display_name))
                .collect::<Vec<_>>()
        })
    });
    show_if(
        // (`try_`: this reruns with the ledger, also while the month's view that made
        // `members` is being replaced.)
        move || members.try_with(|m| m.len() > 1) == Some(true),
        move || id_filter(("Who", "member-filter", "Everyone"), who, members, picked),
        || (),
    )
}

/// A search field (`words`: test id, label, placeholder, most characters) typed into
/// `value`; `changed` runs after each keystroke. One function for the three fields.
fn search_field(
    words: (&'static str, &'static str, &'static str, &'static str),
    value: RwSignal<String>,
    changed: Callback<()>,
) -> impl IntoView {
    view! {
        <input
            type="search"
            data-testid=words.0
            aria-label=words.1
            placeholder=words.2
            maxlength=words.3
            prop:value=move || value.get()
            on:input=move |ev| {
                value.set(event_target_value(&ev));
                changed.run(());
            }
        />
    }
}

/// A choice of one of `choices` (or none: `words.2`) into `chosen`, labelled `words.0` with
/// the test id `words.1`; `picked` runs after each choice. One function for every such
/// filter, so the browser's code holds its rendering once.
fn id_filter(
    words: (&'static str, &'static str, &'static str),
    chosen: RwSignal<Option<Uuid>>,
    choices: Signal<Vec<(Uuid, String)>>,
    picked: Callback<()>,
) -> impl IntoView {
    let on_change = move |ev: leptos::ev::Event| {
        chosen.set(Uuid::parse_str(&event_target_value(&ev)).ok());
        picked.run(());
    };
    view! {
        <label class="filter">
            {words.0}
            <select data-testid=words.1 on:change=on_change>
                <option value="" selected=move || chosen.try_get().flatten().is_none()>{words.2}</option>
                {move || choices
                    .try_get()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(id, name)| view! { <option value=id.to_string() selected=move || chosen.try_get().flatten() == Some(id)>{name}</option> })
                    .collect_view()}
            </select>
        </label>
    }
}
