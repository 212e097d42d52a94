//! `GET /api/trends`: what each category spent in each of the last months, for the budget
//! page's six-month bars.

use crate::clock::today;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::FamilyRecord;
use app::model::{Month, TrendLine, Trends};
use std::collections::HashMap;

/// How many months, 1 to 24; 6 when not given.
pub fn months(value: Option<&str>) -> ApiResult<usize> {
    match value {
        None => Ok(6),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=24).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid("months", "from 1 to 24")),
        },
    }
}

/// The last `count` months up to the family's current one, every category in each.
pub async fn trends(state: &AppState, family: &FamilyRecord, count: usize) -> ApiResult<Trends> {
    let current = Month::of(today(family));
    let mut months = vec![current];
    while months.len() < count {
        let earlier = months[months.len() - 1].prev();
        months.push(earlier);
    }
    months.reverse();
    let (categories, spent) = tokio::try_join!(
        state.store.categories(family.id),
        state
            .store
            .spent_by_month(family.id, months[0].first_day(), current.next().first_day()),
    )?;
    let labels: Vec<String> = months.iter().map(ToString::to_string).collect();
    let spent: HashMap<(String, uuid::Uuid), i64> =
        spent.into_iter().map(|(m, c, s)| ((m, c), s)).collect();
    let categories = categories
        .into_iter()
        .map(|c| TrendLine {
            spent_minor: labels
                .iter()
                .map(|m| spent.get(&(m.clone(), c.id)).copied().unwrap_or(0))
                .collect(),
            category_id: c.id,
            category_name: c.name,
        })
        .collect();
    Ok(Trends {
        months: labels,
        categories,
    })
}
