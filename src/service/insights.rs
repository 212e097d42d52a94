//! Insights: a month-end forecast per category from the spending pace, the categories at
//! risk of passing their limit, and expenses far above their category's median. Plain
//! integer statistics, named for what they are.

use super::budget;
use crate::auth::FamilyMember;
use crate::error::ApiResult;
use crate::state::AppState;
use app::model::{Expense, Forecast, Insights, Month, UnusualExpense};
use std::collections::HashMap;
use uuid::Uuid;

/// An expense is unusual above this multiple of its category's median.
const UNUSUAL_FACTOR: i64 = 3;
const MIN_EXPENSES_FOR_MEDIAN: usize = 4;

pub fn forecast(spent: i64, days_in_month: u32, elapsed: u32) -> i64 {
    if elapsed == 0 || elapsed >= days_in_month {
        return spent;
    }
    let f = i128::from(spent) * i128::from(days_in_month) / i128::from(elapsed);
    i64::try_from(f).unwrap_or(i64::MAX)
}

fn median(sorted: &[i64]) -> i64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        ((i128::from(sorted[n / 2 - 1]) + i128::from(sorted[n / 2])) / 2) as i64
    }
}

pub fn unusual(expenses: &[Expense]) -> Vec<UnusualExpense> {
    let mut by_category: HashMap<Uuid, Vec<&Expense>> = HashMap::new();
    for e in expenses {
        by_category.entry(e.category_id).or_default().push(e);
    }
    let mut out: Vec<UnusualExpense> = by_category
        .into_iter()
        .filter(|(_, list)| list.len() >= MIN_EXPENSES_FOR_MEDIAN)
        .flat_map(|(category_id, list)| {
            let mut amounts: Vec<i64> = list.iter().map(|e| e.amount_minor).collect();
            amounts.sort_unstable();
            let m = median(&amounts);
            list.into_iter()
                .filter(move |e| {
                    i128::from(e.amount_minor) > i128::from(m) * i128::from(UNUSUAL_FACTOR)
                })
                .map(move |e| UnusualExpense {
                    expense_id: e.id,
                    category_id,
                    amount_minor: e.amount_minor,
                    median_minor: m,
                })
        })
        .collect();
    out.sort_by_key(|u| std::cmp::Reverse(u.amount_minor));
    out
}

pub async fn insights(
    state: &AppState,
    member: &FamilyMember,
    month: Option<Month>,
) -> ApiResult<Insights> {
    let today = member.today();
    let month = month.unwrap_or_else(|| Month::of(today));
    let (b, expenses) = tokio::try_join!(
        budget::budget(state, &member.family, Some(month)),
        budget::expenses(state, &member.family, Some(month), None, None)
    )?;
    let (days_in_month, elapsed) = (month.days(), month.days_elapsed(today));
    let forecasts: Vec<Forecast> = b
        .lines
        .into_iter()
        .map(|l| {
            let forecast_minor = forecast(l.spent_minor, days_in_month, elapsed);
            Forecast {
                at_risk: l.limit_minor.is_some_and(|limit| forecast_minor > limit),
                category_id: l.category_id,
                category_name: l.category_name,
                spent_minor: l.spent_minor,
                limit_minor: l.limit_minor,
                forecast_minor,
            }
        })
        .collect();
    Ok(Insights {
        month: month.to_string(),
        days_in_month,
        days_elapsed: elapsed,
        at_risk: forecasts
            .iter()
            .filter(|f| f.at_risk)
            .map(|f| f.category_id)
            .collect(),
        forecasts,
        unusual: unusual(&expenses),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expense(category: Uuid, amount: i64) -> Expense {
        Expense {
            id: Uuid::new_v4(),
            category_id: category,
            amount_minor: amount,
            note: None,
            spent_on: "2026-03-01".into(),
            created_by: Uuid::nil(),
            created_by_name: String::new(),
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
            recurring_id: None,
        }
    }

    #[test]
    fn the_forecast_follows_the_pace() {
        assert_eq!(forecast(1000, 30, 10), 3000);
        assert_eq!(forecast(1000, 31, 31), 1000);
        assert_eq!(forecast(1000, 30, 0), 1000);
        assert_eq!(forecast(7, 30, 4), 52);
    }

    #[test]
    fn unusual_means_over_three_times_the_median_with_enough_data() {
        let food = Uuid::new_v4();
        let few = Uuid::new_v4();
        let mut list: Vec<Expense> = [100, 120, 90, 110, 1000]
            .iter()
            .map(|a| expense(food, *a))
            .collect();
        list.extend([10, 5000].iter().map(|a| expense(few, *a)));
        let found = unusual(&list);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].amount_minor, found[0].median_minor), (1000, 110));
    }
}
