//! CSV export of a family's expenses over a period (`GET /api/export.csv`): UTF-8, a header
//! row `date,category,amount,currency,note,member`, ISO dates, amounts in the currency's
//! decimals with a `.`, oldest first. Fields are quoted when they hold a comma, a quote or a
//! line break; a note that a spreadsheet would read as a formula (it starts with `=`, `+`,
//! `-`, `@`, a tab or a carriage return) gets a leading `'`, so opening the file runs nothing.

use super::families::family_view;
use crate::auth::FamilyMember;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use app::model::parse_day;
use app::money::format_minor;
use chrono::NaiveDate;
use std::collections::HashMap;

/// The header row.
pub const HEADER: &str = "date,category,amount,currency,note,member";

/// The longest period one export covers, in days (ten years).
const MAX_DAYS: i64 = 3_660;

/// The days asked for: `from` and `to` both included; the family's current month when
/// neither is given.
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> ApiResult<(NaiveDate, NaiveDate)> {
    let day = |field: &'static str, value: &str| {
        parse_day(value).ok_or_else(|| ApiError::invalid(field, "use a real day as YYYY-MM-DD"))
    };
    let (from, to) = match (from, to) {
        (None, None) => {
            let month = app::model::Month::of(today);
            (month.first_day(), month.last_day())
        }
        (Some(f), Some(t)) => (day("from", f)?, day("to", t)?),
        (None, Some(_)) => return Err(ApiError::invalid("from", "give from and to together")),
        (Some(_), None) => return Err(ApiError::invalid("to", "give from and to together")),
    };
    if to < from {
        return Err(ApiError::invalid("to", "the period ends before it starts"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::invalid("to", "export at most ten years at once"));
    }
    Ok((from, to))
}

/// One CSV field: quoted when it must be, never a formula.
pub fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The family's expenses from `from` to `to` (both included) as CSV.
pub async fn csv(
    state: &AppState,
    member: &FamilyMember,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<String> {
    let family = &member.family;
    let until = to.succ_opt().unwrap_or(to);
    let (categories, mut expenses) = tokio::try_join!(
        state.store.categories(family.id),
        state.store.expenses(family.id, from, until, None, None),
    )?;
    let names: HashMap<_, _> = categories.into_iter().map(|c| (c.id, c.name)).collect();
    let view = family_view(family);
    // The store lists newest first; a file reads oldest first.
    expenses.reverse();
    let mut out = String::with_capacity(64 * (expenses.len() + 1));
    out.push_str(HEADER);
    out.push('\n');
    for e in &expenses {
        let category = names.get(&e.category_id).map(String::as_str).unwrap_or("");
        let row = [
            e.spent_on.clone(),
            field(category),
            format_minor(e.amount_minor, view.minor_units),
            view.currency.clone(),
            field(e.note.as_deref().unwrap_or("")),
            field(&e.created_by_name),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_when_they_must_be_and_never_formulas() {
        assert_eq!(field("bread"), "bread");
        assert_eq!(field("bread, milk"), "\"bread, milk\"");
        assert_eq!(field("the \"good\" one"), "\"the \"\"good\"\" one\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("-5 refund"), "'-5 refund");
        assert_eq!(field("@sum"), "'@sum");
        assert_eq!(field(""), "");
    }

    #[test]
    fn a_period_is_a_month_by_default_and_checked() {
        let today = NaiveDate::from_ymd_opt(2026, 2, 14).unwrap();
        let d = |s: &str| parse_day(s).unwrap();
        assert_eq!(
            period(None, None, today).unwrap(),
            (d("2026-02-01"), d("2026-02-28"))
        );
        assert_eq!(
            period(Some("2026-01-01"), Some("2026-12-31"), today).unwrap(),
            (d("2026-01-01"), d("2026-12-31"))
        );
        assert!(period(Some("2026-01-01"), None, today).is_err());
        assert!(period(Some("2026-02-30"), Some("2026-03-01"), today).is_err());
        assert!(period(Some("2026-03-01"), Some("2026-02-01"), today).is_err());
        assert!(period(Some("2000-01-01"), Some("2026-01-01"), today).is_err());
    }
}
