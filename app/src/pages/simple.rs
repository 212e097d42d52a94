//! The pages: sign-in, registration, the family and the budget. Each page renders on the
//! server with its data and hydrates; after that every load goes through the JSON API.

use crate::api::{self, ApiFailure};
use crate::components::{sendable, submit, use_me, ErrorNote};
use crate::model::*;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::use_navigate;

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
/// What the service worker shows for a page it has no copy of while the network is gone.
#[component]
pub fn OfflinePage() -> impl IntoView {
    view! {
        <section class="card" data-testid="offline-page">
            <h1>"You are offline"</h1>
            <p>
                "Hearth cannot reach its server right now. Pages you opened before, like "
                <a href="/budget">"your budget"</a>
                ", still open as you last saw them, and expenses you add wait on this device "
                "until the network is back."
            </p>
        </section>
    }
}

pub(crate) fn signed_out_redirect() -> AnyView {
    view! { <Redirect path="/login" /> }.into_any()
}

pub(crate) fn failure_view(e: &ApiFailure) -> AnyView {
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

    // The lists to choose from (the browser knows them: no bytes of ours) and the browser's
    // own time zone, once the page runs in the browser.
    let zones = RwSignal::new(Vec::<String>::new());
    let currencies = RwSignal::new(Vec::<(String, String)>::new());
    Effect::new(move |_| {
        #[cfg(not(feature = "ssr"))]
        {
            if let Some(tz) = browser_time_zone() {
                timezone.set(tz);
            }
            zones.set(browser_list(js_sys::Intl::SupportedValuesKey::TimeZone));
            currencies.set(currency_names(browser_list(
                js_sys::Intl::SupportedValuesKey::Currency,
            )));
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
                        "Currency " <small class="muted">"(type to search: EUR, dollar, yen…)"</small>
                        <input type="text" name="currency" list="currency-list" autocomplete="off" required minlength="3" maxlength="3" bind:value=currency />
                    </label>
                    <datalist id="currency-list" data-testid="currency-list">
                        {move || currencies
                            .get()
                            .into_iter()
                            .map(|(code, name)| view! { <option value=code>{name}</option> })
                            .collect_view()}
                    </datalist>
                    <label>
                        "Time zone " <small class="muted">"(type to search: Berlin, New York…)"</small>
                        <input type="text" name="timezone" list="timezone-list" autocomplete="off" required bind:value=timezone />
                    </label>
                    <datalist id="timezone-list" data-testid="timezone-list">
                        {move || zones
                            .get()
                            .into_iter()
                            .map(|zone| view! { <option value=zone></option> })
                            .collect_view()}
                    </datalist>
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

/// The browser's list of time zones (IANA) or currencies (ISO 4217), with `UTC` first among
/// the zones; empty where the browser has no `Intl.supportedValuesOf`.
#[cfg(not(feature = "ssr"))]
fn browser_list(key: js_sys::Intl::SupportedValuesKey) -> Vec<String> {
    let intl = js_sys::Reflect::get(&js_sys::global(), &"Intl".into()).unwrap_or_default();
    let supported = js_sys::Reflect::has(&intl, &"supportedValuesOf".into()).unwrap_or(false);
    if !supported {
        return Vec::new();
    }
    let mut values: Vec<String> = js_sys::Intl::supported_values_of(key)
        .into_iter()
        .map(String::from)
        .collect();
    if key == js_sys::Intl::SupportedValuesKey::TimeZone && !values.iter().any(|z| z == "UTC") {
        values.insert(0, "UTC".into());
    }
    values
}

/// Each currency code with its English name (`Intl.DisplayNames`), the code alone without one.
#[cfg(not(feature = "ssr"))]
fn currency_names(codes: Vec<String>) -> Vec<(String, String)> {
    use js_sys::Intl::{DisplayNames, DisplayNamesOptions, DisplayNamesType};
    let options = DisplayNamesOptions::new();
    options.set_type(DisplayNamesType::Currency);
    let names = DisplayNames::new(&js_sys::Array::of1(&"en".into()), &options);
    codes
        .into_iter()
        .map(|code| {
            let name = names.of(&code).map(String::from).unwrap_or_default();
            (code, name)
        })
        .collect()
}

#[cfg(not(feature = "ssr"))]
fn browser_time_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    let options = format.resolved_options();
    js_sys::Reflect::get(&options, &"timeZone".into())
        .ok()?
        .as_string()
}
