//! The pages: sign-in, registration, the family and the budget. Each page renders on the
//! server with its data and hydrates; after that every load goes through the JSON API.

use crate::api::{self, ApiFailure};
use crate::components::{sendable, submit, use_me, ErrorNote};
use crate::model::*;
use crate::money::{format_minor, format_money, parse_minor};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::{use_navigate, use_query_map};
use uuid::Uuid;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <A href="/">"Go to your budget"</A></p>
        </section>
    }
}

/// `/`: the budget for a family member, the family page for a new user, else sign-in.
#[component]
pub fn Home() -> impl IntoView {
    let me = use_me();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let target = match me.await {
                    Ok(Some(Me { family: Some(_), .. })) => "/budget",
                    Ok(Some(_)) => "/family",
                    _ => "/login",
                };
                view! { <Redirect path=target /> }
            })}
        </Suspense>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let me = use_me();
    let navigate = use_navigate();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = LoginRequest {
            email: email.get_untracked(),
            password: password.get_untracked(),
        };
        let navigate = navigate.clone();
        submit(pending, error, api::login(body), move |_| {
            me.refetch();
            navigate("/", Default::default());
        });
    };
    view! {
        <section class="card auth">
            <h1>"Sign in"</h1>
            <form on:submit=on_submit data-testid="login-form">
                <label>
                    "Email"
                    <input type="email" name="email" required autocomplete="email" bind:value=email />
                </label>
                <label>
                    "Password"
                    <input
                        type="password"
                        name="password"
                        required
                        autocomplete="current-password"
                        bind:value=password
                    />
                </label>
                <ErrorNote error />
                <button type="submit" disabled=move || pending.get()>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
            <p>"New to Hearth? " <A href="/register">"Create an account"</A></p>
        </section>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let me = use_me();
    let navigate = use_navigate();
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if password.get_untracked().chars().count() < 10 {
            error.set(Some("password: use at least 10 characters".into()));
            return;
        }
        let body = RegisterRequest {
            email: email.get_untracked(),
            password: password.get_untracked(),
            display_name: name.get_untracked(),
        };
        let navigate = navigate.clone();
        submit(pending, error, api::register(body), move |_| {
            me.refetch();
            navigate("/family", Default::default());
        });
    };
    view! {
        <section class="card auth">
            <h1>"Create your account"</h1>
            <form on:submit=on_submit data-testid="register-form">
                <label>
                    "Your name"
                    <input type="text" name="display_name" required maxlength="60" autocomplete="name" bind:value=name />
                </label>
                <label>
                    "Email"
                    <input type="email" name="email" required autocomplete="email" bind:value=email />
                </label>
                <label>
                    "Password " <small class="muted">"(at least 10 characters)"</small>
                    <input
                        type="password"
                        name="password"
                        required
                        minlength="10"
                        autocomplete="new-password"
                        bind:value=password
                    />
                </label>
                <ErrorNote error />
                <button type="submit" disabled=move || pending.get()>
                    {move || if pending.get() { "Creating…" } else { "Create account" }}
                </button>
            </form>
            <p>"Already have an account? " <A href="/login">"Sign in"</A></p>
        </section>
    }
}

/// Sends a signed-out visitor to sign-in.
fn signed_out_redirect() -> AnyView {
    view! { <Redirect path="/login" /> }.into_any()
}

fn failure_view(e: &ApiFailure) -> AnyView {
    if e.is_signed_out() {
        return signed_out_redirect();
    }
    view! {
        <section class="card" role="alert">
            <h1>"Something went wrong"</h1>
            <p>{e.message()}</p>
            <p><a href="">"Try again"</a></p>
        </section>
    }
    .into_any()
}

#[component]
pub fn FamilyPage() -> impl IntoView {
    let me = use_me();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(Me { family: Some(_), .. })) => view! { <FamilyDetails /> }.into_any(),
                    Ok(Some(_)) => view! { <FamilySetup /> }.into_any(),
                    Ok(None) => signed_out_redirect(),
                    Err(e) => failure_view(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn FamilyDetails() -> impl IntoView {
    let family = Resource::new(|| (), |_| sendable(api::load_family()));
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading your family…"</p> }>
            {move || Suspend::new(async move {
                match family.await {
                    Ok(view) => {
                        let FamilyView { family, members, invite_code } = view;
                        view! {
                            <section class="card">
                                <h1>{family.name.clone()}</h1>
                                <p class="muted">
                                    {format!("Budget in {} · time zone {}", family.currency, family.timezone)}
                                </p>
                                <h2>"Members"</h2>
                                <ul class="members">
                                    {members
                                        .into_iter()
                                        .map(|m| {
                                            view! {
                                                <li>
                                                    <span class=if m.online { "dot on" } else { "dot" } aria-hidden="true"></span>
                                                    {m.display_name}
                                                    <small class="muted">
                                                        {format!(" · {}{}", m.role.as_str(), if m.online { " · online" } else { "" })}
                                                    </small>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                                {invite_code
                                    .map(|code| {
                                        view! {
                                            <h2>"Invite someone"</h2>
                                            <p>"Give them this code; they enter it after creating their account."</p>
                                            <p class="invite" data-testid="invite-code">{code}</p>
                                        }
                                    })}
                                <p><A href="/budget">"Go to the budget →"</A></p>
                            </section>
                        }
                            .into_any()
                    }
                    Err(e) => failure_view(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn FamilySetup() -> impl IntoView {
    let me = use_me();
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let currency = RwSignal::new("EUR".to_string());
    let timezone = RwSignal::new("UTC".to_string());
    let code = RwSignal::new(String::new());
    let create_error = RwSignal::new(None::<String>);
    let join_error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    // Suggest the browser's own time zone once the page runs in the browser.
    Effect::new(move |_| {
        #[cfg(not(feature = "ssr"))]
        if let Some(tz) = browser_time_zone() {
            timezone.set(tz);
        }
    });

    let navigate_create = navigate.clone();
    let on_create = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = CreateFamilyRequest {
            name: name.get_untracked(),
            currency: currency.get_untracked().trim().to_uppercase(),
            timezone: timezone.get_untracked().trim().to_string(),
        };
        let navigate = navigate_create.clone();
        submit(pending, create_error, api::create_family(body), move |_| {
            me.refetch();
            navigate("/budget", Default::default());
        });
    };
    let on_join = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = JoinFamilyRequest {
            invite_code: code.get_untracked().trim().to_string(),
        };
        let navigate = navigate.clone();
        submit(pending, join_error, api::join_family(body), move |_| {
            me.refetch();
            navigate("/budget", Default::default());
        });
    };
    view! {
        <div class="grid two">
            <section class="card">
                <h1>"Start a family budget"</h1>
                <form on:submit=on_create data-testid="create-family-form">
                    <label>"Family name" <input type="text" name="name" required maxlength="80" bind:value=name /></label>
                    <label>
                        "Currency " <small class="muted">"(ISO code, e.g. EUR, USD, JPY)"</small>
                        <input type="text" name="currency" required minlength="3" maxlength="3" bind:value=currency />
                    </label>
                    <label>
                        "Time zone " <small class="muted">"(e.g. Europe/Berlin)"</small>
                        <input type="text" name="timezone" required bind:value=timezone />
                    </label>
                    <ErrorNote error=create_error />
                    <button type="submit" disabled=move || pending.get()>"Create family"</button>
                </form>
            </section>
            <section class="card">
                <h2>"Join your family"</h2>
                <form on:submit=on_join data-testid="join-family-form">
                    <label>"Invite code" <input type="text" name="invite_code" required autocomplete="off" bind:value=code /></label>
                    <ErrorNote error=join_error />
                    <button type="submit" disabled=move || pending.get()>"Join"</button>
                </form>
            </section>
        </div>
    }
}

#[cfg(not(feature = "ssr"))]
fn browser_time_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    let options = format.resolved_options();
    js_sys::Reflect::get(&options, &"timeZone".into())
        .ok()?
        .as_string()
}

/// Bumped after every change so the budget reloads through the API.
#[derive(Clone, Copy)]
struct Reload(RwSignal<u32>);

#[component]
pub fn BudgetPage() -> impl IntoView {
    let me = use_me();
    let query = use_query_map();
    let reload = Reload(RwSignal::new(0));
    provide_context(reload);
    let data = Resource::new(
        move || (query.read().get("month"), reload.0.get()),
        |(month, _)| sendable(api::load_budget_page(month)),
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(Me { family: Some(_), .. })) => view! { <BudgetView data /> }.into_any(),
                    Ok(Some(_)) => view! { <Redirect path="/family" /> }.into_any(),
                    Ok(None) => signed_out_redirect(),
                    Err(e) => failure_view(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn BudgetView(data: Resource<Result<BudgetPage, ApiFailure>>) -> impl IntoView {
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the budget…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => view! { <BudgetBody page /> }.into_any(),
                    Err(e) => failure_view(&e),
                }
            })}
        </Transition>
    }
}

#[component]
fn BudgetBody(page: BudgetPage) -> impl IntoView {
    let BudgetPage { budget, expenses } = page;
    let month = Month::parse(&budget.month).ok();
    let digits = budget.minor_units;
    let currency = budget.currency.clone();
    let categories: Vec<(Uuid, String)> = budget
        .lines
        .iter()
        .map(|l| (l.category_id, l.category_name.clone()))
        .collect();
    let alerts: Vec<BudgetLine> = budget
        .lines
        .iter()
        .filter(|l| l.alert != Alert::Ok)
        .cloned()
        .collect();
    let totals = budget.totals.clone();
    let money = {
        let currency = currency.clone();
        move |amount: i64| format_money(amount, digits, &currency)
    };
    view! {
        <section class="budget">
            <header class="budget-head">
                <h1>"Budget"</h1>
                {month
                    .map(|m| {
                        view! {
                            <nav class="months" aria-label="Month">
                                <A href=format!("/budget?month={}", m.prev()) attr:aria-label="Previous month">"‹"</A>
                                <span class="month" data-testid="month">{m.label()}</span>
                                <A href=format!("/budget?month={}", m.next()) attr:aria-label="Next month">"›"</A>
                            </nav>
                        }
                    })}
            </header>
            {(!alerts.is_empty())
                .then(|| {
                    view! {
                        <div class="alert-banner" data-testid="alert-banner" role="status">
                            {alerts
                                .iter()
                                .map(|l| {
                                    let text = match l.alert {
                                        Alert::Exceeded => format!("⛔ {} is over its limit", l.category_name),
                                        _ => format!("⚠️ {} has used {}% of its limit", l.category_name, l.percent_used.unwrap_or(0)),
                                    };
                                    view! { <p>{text}</p> }
                                })
                                .collect_view()}
                        </div>
                    }
                })}
            <div class="totals card" data-testid="budget-total" data-spent-minor=totals.spent_minor>
                <div>
                    <span class="label">"Spent"</span>
                    <strong class="spent">{money(totals.spent_minor)}</strong>
                </div>
                <div>
                    <span class="label">"Limits"</span>
                    <strong>{money(totals.limit_minor)}</strong>
                </div>
                <div>
                    <span class="label">"Left"</span>
                    <strong class=if totals.remaining_minor < 0 { "neg" } else { "" }>{money(totals.remaining_minor)}</strong>
                </div>
            </div>
            <ExpenseForm categories=categories.clone() digits today=budget.today.clone() currency=currency.clone() />
            <section class="card">
                <h2>"Categories"</h2>
                {if budget.lines.is_empty() {
                    view! { <p class="empty">"No categories yet. Add one below."</p> }.into_any()
                } else {
                    view! {
                        <ul class="lines">
                            {budget
                                .lines
                                .iter()
                                .cloned()
                                .map(|line| view! { <LineRow line month=budget.month.clone() digits currency=currency.clone() /> })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }}
                <NewCategoryForm />
            </section>
            <section class="card">
                <h2>"Expenses"</h2>
                {if expenses.is_empty() {
                    view! { <p class="empty">"No expenses this month yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="expenses" data-testid="expense-list">
                            {expenses
                                .into_iter()
                                .map(|e| view! { <ExpenseRow expense=e categories=categories.clone() digits /> })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }}
            </section>
        </section>
    }
}

fn reload() {
    if let Some(Reload(r)) = use_context::<Reload>() {
        r.update(|n| *n += 1);
    }
}

#[component]
fn LineRow(line: BudgetLine, month: String, digits: u8, currency: String) -> impl IntoView {
    let editing = RwSignal::new(false);
    let limit_text = RwSignal::new(
        line.limit_minor
            .map(|l| format_minor(l, digits))
            .unwrap_or_default(),
    );
    let error = RwSignal::new(None::<String>);
    let Reload(reloader) = expect_context::<Reload>();
    let category_id = line.category_id;
    let on_save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let limit_minor = match parse_minor(&limit_text.get_untracked(), digits) {
            Ok(v) => v,
            Err(e) => {
                error.set(Some(format!("limit: {e}")));
                return;
            }
        };
        let month = month.clone();
        spawn_local(async move {
            match api::set_limit(month, category_id, SetLimit { limit_minor }).await {
                Ok(_) => {
                    error.set(None);
                    editing.set(false);
                    reloader.update(|n| *n += 1);
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
        </li>
    }
}

#[component]
fn NewCategoryForm() -> impl IntoView {
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
                    reload();
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
fn ExpenseForm(
    categories: Vec<(Uuid, String)>,
    digits: u8,
    today: String,
    currency: String,
) -> impl IntoView {
    let category = RwSignal::new(
        categories
            .first()
            .map(|c| c.0.to_string())
            .unwrap_or_default(),
    );
    let amount = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let day = RwSignal::new(today);
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let Reload(reloader) = expect_context::<Reload>();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let amount_minor = match parse_minor(&amount.get_untracked(), digits) {
            Ok(v) if v > 0 => v,
            Ok(_) => {
                error.set(Some("amount: enter more than zero".into()));
                return;
            }
            Err(e) => {
                error.set(Some(format!("amount: {e}")));
                return;
            }
        };
        let Ok(category_id) = Uuid::parse_str(&category.get_untracked()) else {
            error.set(Some("category: choose one".into()));
            return;
        };
        let note_text = note.get_untracked().trim().to_string();
        let body = NewExpense {
            id: Some(Uuid::new_v4()),
            category_id,
            amount_minor,
            note: (!note_text.is_empty()).then_some(note_text),
            spent_on: Some(day.get_untracked()),
        };
        submit(pending, error, api::add_expense(body), move |_| {
            amount.set(String::new());
            note.set(String::new());
            reloader.update(|n| *n += 1);
        });
    };
    let no_categories = categories.is_empty();
    view! {
        <section class="card">
            <h2>"Add an expense"</h2>
            <form class="expense-form" on:submit=on_submit data-testid="expense-form">
                <label>
                    "Category"
                    <select name="category_id" required bind:value=category>
                        {categories
                            .into_iter()
                            .map(|(id, name)| view! { <option value=id.to_string()>{name}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    {format!("Amount ({currency})")}
                    <input type="text" inputmode="decimal" name="amount" required placeholder="0.00" autocomplete="off" bind:value=amount />
                </label>
                <label>"Note" <input type="text" name="note" maxlength="500" bind:value=note /></label>
                <label>"Date" <input type="date" name="spent_on" required bind:value=day /></label>
                <button type="submit" disabled=move || pending.get() || no_categories>
                    {move || if pending.get() { "Adding…" } else { "Add expense" }}
                </button>
                <ErrorNote error />
            </form>
        </section>
    }
}

#[component]
fn ExpenseRow(expense: Expense, categories: Vec<(Uuid, String)>, digits: u8) -> impl IntoView {
    let editing = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let amount = RwSignal::new(format_minor(expense.amount_minor, digits));
    let note = RwSignal::new(expense.note.clone().unwrap_or_default());
    let day = RwSignal::new(expense.spent_on.clone());
    let category = RwSignal::new(expense.category_id.to_string());
    let category_name = categories
        .iter()
        .find(|c| c.0 == expense.category_id)
        .map(|c| c.1.clone())
        .unwrap_or_default();
    let id = expense.id;
    let version = expense.version;
    let on_save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let amount_minor = match parse_minor(&amount.get_untracked(), digits) {
            Ok(v) => v,
            Err(e) => {
                error.set(Some(format!("amount: {e}")));
                return;
            }
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
                Ok(_) => reload(),
                Err(e) if e.status == 409 => {
                    error.set(Some(
                        "Someone changed this expense meanwhile; here is their version.".into(),
                    ));
                    reload();
                }
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
    let on_delete = move |_| {
        spawn_local(async move {
            match api::delete_expense(id).await {
                Ok(()) => reload(),
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
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
                    move || view! {
                        <span class="what">{label.clone()}</span>
                        <span class="amount">{format_minor(expense.amount_minor, digits)}</span>
                        <span class="actions">
                            <button type="button" class="link" on:click=move |_| editing.set(true)>"Edit"</button>
                            <button type="button" class="link danger" on:click=on_delete>"Delete"</button>
                        </span>
                    }
                }
            >
                <form class="inline edit" on:submit=on_save>
                    <label>
                        "Category"
                        <select bind:value=category>
                            {categories
                                .iter()
                                .map(|(cid, name)| view! { <option value=cid.to_string()>{name.clone()}</option> })
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
}
