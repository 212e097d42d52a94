//! One interactive part, as small as a useful one gets: five expenses (its props, read from
//! JSON as an island's are), their total, a form adding one (a category list, two fields, a
//! button, an error line) and the list. Hydrating it is what any Leptos page, or any island
//! of one, pays at the least: `bench/hydration-floor.sh` measures it.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Expense {
    pub id: u32,
    pub category: String,
    pub amount_minor: i64,
    pub note: Option<String>,
}

/// The page's five expenses.
pub fn sample() -> Vec<Expense> {
    (1..=5)
        .map(|i| Expense {
            id: i,
            category: format!("Category {}", i % 3),
            amount_minor: 1000 + i64::from(i) * 137,
            note: Some("groceries".into()),
        })
        .collect()
}

fn money(minor: i64) -> String {
    format!("{}.{:02} EUR", minor / 100, minor % 100)
}

#[component]
pub fn Tracker(expenses: Vec<Expense>) -> impl IntoView {
    let list = RwSignal::new(expenses);
    let total = Memo::new(move |_| list.with(|l| l.iter().map(|e| e.amount_minor).sum::<i64>()));
    let categories = Memo::new(move |_| {
        let mut names: Vec<String> = list.with(|l| l.iter().map(|e| e.category.clone()).collect());
        names.sort();
        names.dedup();
        names
    });
    let category = RwSignal::new(String::new());
    let amount = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match amount.get_untracked().trim().parse::<f64>() {
            Ok(value) => {
                error.set(None);
                list.update(|l| {
                    let id = l.len() as u32 + 1;
                    l.push(Expense {
                        id,
                        category: category.get_untracked(),
                        amount_minor: (value * 100.0).round() as i64,
                        note: Some(note.get_untracked()),
                    })
                });
                amount.set(String::new());
            }
            Err(_) => error.set(Some("amount: a number".into())),
        }
    };
    view! {
        <section class="budget">
            <h1>"Budget"</h1>
            <p class="total">"Spent: " {move || money(total.get())}</p>
            <form on:submit=on_submit>
                <label>
                    "Category"
                    <select bind:value=category>
                        <For each=move || categories.get() key=|c| c.clone() let(c)>
                            <option value=c.clone()>{c.clone()}</option>
                        </For>
                    </select>
                </label>
                <label>"Amount" <input type="text" bind:value=amount /></label>
                <label>"Note" <input type="text" bind:value=note /></label>
                <button type="submit" disabled=move || categories.with(|c| c.is_empty())>
                    "Add expense"
                </button>
                <Show when=move || error.with(Option::is_some)>
                    <p class="error">{move || error.get()}</p>
                </Show>
            </form>
            <ul>
                <For each=move || list.get() key=|e| e.id let(e)>
                    <li>{e.category.clone()} " " {money(e.amount_minor)} " " {e.note.clone()}</li>
                </For>
            </ul>
        </section>
    }
}

/// Reads the props, hydrates the part and marks the page hydrated.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    let expenses: Vec<Expense> = document()
        .get_element_by_id("props")
        .and_then(|p| p.text_content())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default();
    leptos::mount::hydrate_body(move || view! { <Tracker expenses /> });
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
