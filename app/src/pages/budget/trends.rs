//! The budget page's pictures of the month: the pace chart (cumulative spending day by day
//! against the even pace to the limit, for the whole budget or one category), drawn from the
//! live ledger, so every change redraws it; and the last six months per category as bars,
//! with the current month kept live. Both are SVG with a text alternative (a sentence, or a
//! label and a line of text per chart), rendered by the server into the page: the bars from
//! the page's data (`BudgetPage::trends`), which the page also carries in `data-trends` for
//! the browser's copy (`Board::rendered_trends`; else the browser asks `GET /api/trends`).
//! The browser's copy is built from the page's parts chunk after hydration
//! (`parts::load_section(Section::Spending)`).

use super::board::Board;
use crate::live::ledger::Row;
use crate::model::{Budget, Month, TrendLine, Trends};
use crate::money::format_money;
use leptos::prelude::*;
use uuid::Uuid;

/// A month's spending day by day, for the pace chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Pace {
    /// Days in the month.
    pub days: u32,
    /// Spent by the end of each day so far (today for the current month, every day for a
    /// past one).
    pub cumulative: Vec<i64>,
    /// The limit the pace runs to, when one is set.
    pub limit: Option<i64>,
}

impl Pace {
    /// From the month's budget and its list as shown (`category`: one line, or all).
    pub fn of(budget: &Budget, rows: &[Row], category: Option<Uuid>) -> Option<Pace> {
        let month = Month::parse(&budget.month).ok()?;
        let first = month.first_day();
        let days = month.days();
        let upto = month.days_elapsed(crate::model::parse_day(&budget.today)?);
        let mut daily = vec![0i64; days as usize];
        for row in rows {
            let (on, cat, amount) = match row {
                Row::Saved(e) => (Some(e.spent_on.as_str()), e.category_id, e.amount_minor),
                Row::Pending(p) => (
                    p.expense
                        .spent_on
                        .as_deref()
                        .or(Some(budget.today.as_str())),
                    p.expense.category_id,
                    p.expense.amount_minor,
                ),
            };
            if category.is_some_and(|c| c != cat) {
                continue;
            }
            let Some(day) = on.and_then(crate::model::parse_day) else {
                continue;
            };
            let index = (day - first).num_days();
            if let Some(slot) = usize::try_from(index).ok().and_then(|i| daily.get_mut(i)) {
                *slot = slot.saturating_add(amount);
            }
        }
        let cumulative = daily
            .iter()
            .take(upto as usize)
            .scan(0i64, |sum, d| {
                *sum = sum.saturating_add(*d);
                Some(*sum)
            })
            .collect();
        let limit = match category {
            Some(c) => budget
                .lines
                .iter()
                .find(|l| l.category_id == c)
                .and_then(|l| l.limit_minor),
            None => budget
                .lines
                .iter()
                .any(|l| l.limit_minor.is_some())
                .then_some(budget.totals.limit_minor),
        };
        Some(Pace {
            days,
            cumulative,
            limit,
        })
    }

    /// What the even pace to the limit is by the end of `day` (1-based).
    pub fn even(&self, day: u32) -> Option<i64> {
        let limit = i128::from(self.limit?);
        i64::try_from(limit * i128::from(day) / i128::from(self.days.max(1))).ok()
    }

    /// Spent so far.
    pub fn spent(&self) -> i64 {
        self.cumulative.last().copied().unwrap_or(0)
    }
}

const W: f64 = 320.0;
const H: f64 = 140.0;
const PAD: f64 = 6.0;

fn points(values: &[(u32, i64)], days: u32, top: i64) -> String {
    values
        .iter()
        .map(|(day, v)| {
            let x = PAD + (W - 2.0 * PAD) * f64::from(*day) / f64::from(days.max(1));
            let y = H - PAD - (H - 2.0 * PAD) * (*v as f64) / (top.max(1) as f64);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The pace chart and the six-month bars.
#[component]
pub(crate) fn TrendsCard(digits: u8) -> impl IntoView {
    let board = expect_context::<Board>();
    let which = board.pace_of;
    let currency = move || board.currency();
    let money = move |amount: i64| format_money(amount, digits, &currency());
    let pace = move || {
        let rows = board.ledger.with(|l| l.rows());
        board
            .shown
            .with(|b| b.as_ref().and_then(|b| Pace::of(b, &rows, which.get())))
    };
    let history = board.history;
    // The bars' data: the server's page carries it (`data-trends`, read by the page while
    // hydrating, before the browser's copy of this card replaces the server's), else it is
    // asked for.
    #[cfg(not(feature = "ssr"))]
    if history.with_untracked(Option::is_none) {
        let from_page = board
            .rendered_trends
            .try_update_value(Option::take)
            .flatten()
            .and_then(|t| serde_json::from_str(&t).ok());
        match from_page {
            Some(t) => history.set(Some(t)),
            None => leptos::task::spawn_local(async move {
                if let Ok(t) = crate::api::trends().await {
                    history.set(Some(t));
                }
            }),
        }
    }
    #[cfg(feature = "ssr")]
    let rendered =
        history.with_untracked(|t| t.as_ref().and_then(|t| serde_json::to_string(t).ok()));
    #[cfg(not(feature = "ssr"))]
    let rendered = None::<String>;
    let summary = move || {
        pace().map(|p| {
            let day = p.cumulative.len() as u32;
            let spent = money(p.spent());
            match p.even(day.max(1)) {
                Some(even) => format!(
                    "Spent {spent} by day {day} of {}; at an even pace to the {} limit it would be {}.",
                    p.days,
                    money(p.limit.unwrap_or(0)),
                    money(even)
                ),
                None => format!("Spent {spent} by day {day} of {}; no limit is set.", p.days),
            }
        })
    };
    view! {
        <section class="card charts">
            <h2>"How the month is going"</h2>
            <label class="filter">
                "Show "
                <select on:change=move |ev| which.set(Uuid::parse_str(&event_target_value(&ev)).ok())>
                    <option value="" selected=move || which.get().is_none()>"All categories"</option>
                    {move || board.category_choices.get().into_iter().map(|(id, name)| view! {
                        <option value=id.to_string() selected=move || which.get() == Some(id)>{name}</option>
                    }).collect_view()}
                </select>
            </label>
            <figure data-testid="pace-chart">
                {move || pace().map(|p| {
                    let top = p.limit.unwrap_or(0).max(p.spent()).max(1) * 11 / 10;
                    let spent: Vec<(u32, i64)> = std::iter::once((0, 0))
                        .chain(p.cumulative.iter().enumerate().map(|(i, v)| (i as u32 + 1, *v)))
                        .collect();
                    let even = p.limit.map(|l| points(&[(0, 0), (p.days, l)], p.days, top));
                    view! {
                        <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=summary().unwrap_or_default()>
                            <line class="axis" x1=PAD y1=H - PAD x2=W - PAD y2=H - PAD />
                            {even.map(|pts| view! { <polyline class="pace" points=pts /> })}
                            <polyline class="spent" points=points(&spent, p.days, top) />
                        </svg>
                    }
                })}
                <figcaption data-testid="pace-summary">{summary}</figcaption>
            </figure>
            <h3>"The last six months"</h3>
            <div data-testid="trend-chart" class="trend" data-trends=rendered>
                {move || match history.get() {
                    None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(mut t) => {
                        // The current month as the page shows it, live.
                        board.shown.with(|b| {
                            if let Some(b) = b.as_ref().filter(|b| t.months.last() == Some(&b.month)) {
                                current_month(&mut t, &b.lines);
                            }
                        });
                        let top = t.categories.iter().flat_map(|c| c.spent_minor.iter().copied()).max().unwrap_or(0).max(1);
                        let labels: Vec<String> = t.months.iter().map(|m| Month::parse(m).map(|m| m.label()).unwrap_or_default()).collect();
                        let n = t.months.len().max(1) as f64;
                        t.categories
                            .into_iter()
                            .filter(|c| c.spent_minor.iter().any(|v| *v > 0))
                            .map(|c| {
                                let text = labels
                                    .iter()
                                    .zip(&c.spent_minor)
                                    .map(|(m, v)| format!("{m}: {}", money(*v)))
                                    .collect::<Vec<_>>()
                                    .join(", ");
                                let bars = c.spent_minor.iter().enumerate().map(|(i, v)| {
                                    let h = 40.0 * (*v as f64) / (top as f64);
                                    let w = 120.0 / n;
                                    view! { <rect x=format!("{:.1}", i as f64 * w + 1.0) y=format!("{:.1}", 40.0 - h) width=format!("{:.1}", w - 2.0) height=format!("{h:.1}") /> }
                                }).collect_view();
                                view! {
                                    <div class="trend-row" data-category=c.category_name.clone()>
                                        <span class="name">{c.category_name.clone()}</span>
                                        <svg viewBox="0 0 120 40" role="img" aria-label=format!("{}: {text}", c.category_name)>{bars}</svg>
                                        <span class="sr-only">{text}</span>
                                    </div>
                                }
                            })
                            .collect_view()
                            .into_any()
                    }
                }}
            </div>
        </section>
    }
}

/// Puts the month shown (the last of `trends`) as the page has it now: each category's
/// spending and name, and the categories added since the six months were read.
fn current_month(trends: &mut Trends, lines: &[crate::model::BudgetLine]) {
    let months = trends.months.len();
    for l in lines {
        let i = match trends
            .categories
            .iter()
            .position(|c| c.category_id == l.category_id)
        {
            Some(i) => i,
            None => {
                trends.categories.push(TrendLine {
                    category_id: l.category_id,
                    category_name: String::new(),
                    spent_minor: vec![0; months],
                });
                trends.categories.len() - 1
            }
        };
        let c = &mut trends.categories[i];
        c.category_name.clone_from(&l.category_name);
        if let Some(last) = c.spent_minor.last_mut() {
            *last = l.spent_minor;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::ledger::PendingExpense;
    use crate::model::{BudgetLine, Category, Expense, NewExpense};

    fn category(n: u128) -> Category {
        Category {
            id: Uuid::from_u128(n),
            name: format!("c{n}"),
            color: "#000000".into(),
        }
    }

    fn saved(n: u128, cat: u128, amount: i64, day: &str) -> Row {
        Row::Saved(Expense {
            id: Uuid::from_u128(100 + n),
            category_id: Uuid::from_u128(cat),
            amount_minor: amount,
            note: None,
            spent_on: day.into(),
            created_by: Uuid::nil(),
            created_by_name: String::new(),
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
            recurring_id: None,
        })
    }

    #[test]
    fn the_month_shown_updates_the_bars_and_adds_new_categories() {
        let mut trends = Trends {
            months: vec!["2026-10".into(), "2026-11".into()],
            categories: vec![TrendLine {
                category_id: Uuid::from_u128(1),
                category_name: "old name".into(),
                spent_minor: vec![500, 100],
            }],
        };
        let lines = vec![
            BudgetLine::compute(&category(1), None, 250),
            BudgetLine::compute(&category(2), None, 70),
        ];
        current_month(&mut trends, &lines);
        assert_eq!(trends.categories.len(), 2);
        assert_eq!(trends.categories[0].spent_minor, vec![500, 250]);
        assert_eq!(trends.categories[0].category_name, "c1");
        assert_eq!(trends.categories[1].spent_minor, vec![0, 70]);
        assert_eq!(trends.categories[1].category_name, "c2");
    }

    #[test]
    fn the_pace_adds_up_each_day_and_runs_evenly_to_the_limit() {
        let lines = vec![
            BudgetLine::compute(&category(1), Some(3000), 0),
            BudgetLine::compute(&category(2), None, 0),
        ];
        let budget = Budget::from_lines(
            Month::parse("2026-11").unwrap(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 5).unwrap(),
            "EUR".into(),
            2,
            lines,
            vec![],
        );
        let rows = vec![
            saved(1, 1, 100, "2026-11-01"),
            saved(2, 1, 200, "2026-11-03"),
            saved(3, 2, 999, "2026-11-02"),
            // Today's, on its way (no day given).
            Row::Pending(PendingExpense::new(NewExpense {
                id: Some(Uuid::from_u128(9)),
                category_id: Uuid::from_u128(1),
                amount_minor: 50,
                note: None,
                spent_on: None,
            })),
        ];
        let all = Pace::of(&budget, &rows, None).unwrap();
        assert_eq!(all.days, 30);
        assert_eq!(
            all.cumulative,
            vec![100, 1099, 1299, 1299, 1349],
            "up to today"
        );
        assert_eq!(all.limit, Some(3000));
        assert_eq!(all.even(5), Some(500));
        let one = Pace::of(&budget, &rows, Some(Uuid::from_u128(1))).unwrap();
        assert_eq!(one.cumulative, vec![100, 100, 300, 300, 350]);
        let unlimited = Pace::of(&budget, &rows, Some(Uuid::from_u128(2))).unwrap();
        assert_eq!(unlimited.limit, None);
        assert_eq!(unlimited.even(5), None);
        assert_eq!(unlimited.spent(), 999);
    }
}
