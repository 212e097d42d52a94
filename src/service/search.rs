//! Searching a family's expenses over any period (`GET /api/expenses` with `q`, `from`, `to`,
//! `category_id`, `member_id`, `min_minor`, `max_minor`, `limit`, `cursor`): newest first, a
//! page at a time. A page ends where the next starts: the cursor is the last expense's place
//! in the order (day, creation time, id), so pages neither repeat nor skip an expense when
//! others are added meanwhile.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{ExpenseSearch, FamilyRecord, SearchPosition};
use app::model::{parse_day, Expense, Month};
use base64::Engine;
use uuid::Uuid;

/// The parameters that make a list a search (paged); without any, `/api/expenses` lists a
/// whole month.
pub const PARAMETERS: [&str; 7] = [
    "q",
    "from",
    "to",
    "min_minor",
    "max_minor",
    "limit",
    "cursor",
];

/// The ids that narrow `GET /api/expenses` (with or without a search).
pub const IDS: [&str; 2] = ["category_id", "member_id"];

/// Longest text searched for, in characters.
const MAX_TEXT: usize = 200;

/// Reads a search from the query's fields (`get`); `month` is the period when neither `from`
/// nor `to` is given.
pub fn parse(
    get: impl Fn(&str) -> Option<String>,
    month: Option<Month>,
) -> ApiResult<ExpenseSearch> {
    let day = |field: &'static str| {
        get(field)
            .map(|v| {
                parse_day(&v)
                    .ok_or_else(|| ApiError::invalid(field, "use a real day as YYYY-MM-DD"))
            })
            .transpose()
    };
    let id = |field: &'static str| {
        get(field)
            .map(|v| Uuid::parse_str(&v).map_err(|_| ApiError::invalid(field, "not an id")))
            .transpose()
    };
    let amount = |field: &'static str| {
        get(field)
            .map(|v| match v.parse::<i64>() {
                Ok(n) if n >= 0 => Ok(n),
                _ => Err(ApiError::invalid(
                    field,
                    "a whole number of minor units, 0 or more",
                )),
            })
            .transpose()
    };
    let (mut from, to) = (day("from")?, day("to")?);
    let mut until = to.and_then(|d| d.succ_opt());
    if from.is_none() && to.is_none() {
        if let Some(m) = month {
            (from, until) = (Some(m.first_day()), Some(m.next().first_day()));
        }
    }
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            return Err(ApiError::invalid("to", "the period ends before it starts"));
        }
    }
    let text = get("q")
        .map(|q| q.trim().to_string())
        .filter(|q| !q.is_empty());
    if text.as_ref().is_some_and(|q| q.chars().count() > MAX_TEXT) {
        return Err(ApiError::invalid("q", "search for at most 200 characters"));
    }
    let (min_minor, max_minor) = (amount("min_minor")?, amount("max_minor")?);
    if let (Some(min), Some(max)) = (min_minor, max_minor) {
        if max < min {
            return Err(ApiError::invalid(
                "max_minor",
                "the range ends below where it starts",
            ));
        }
    }
    let limit = match get("limit") {
        None => 100,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (1..=200).contains(&n) => n,
            _ => return Err(ApiError::invalid("limit", "from 1 to 200")),
        },
    };
    let after = get("cursor")
        .map(|c| {
            decode(&c).ok_or_else(|| ApiError::invalid("cursor", "not a cursor from this list"))
        })
        .transpose()?;
    Ok(ExpenseSearch {
        from,
        until,
        text,
        category: id("category_id")?,
        member: id("member_id")?,
        min_minor,
        max_minor,
        after,
        limit,
    })
}

/// A page of what `search` finds, and the cursor of the next page when there is one.
pub async fn page(
    state: &AppState,
    family: &FamilyRecord,
    search: ExpenseSearch,
) -> ApiResult<(Vec<Expense>, Option<String>)> {
    let limit = search.limit;
    let one_more = ExpenseSearch {
        limit: limit + 1,
        ..search
    };
    let mut found = state.store.search_expenses(family.id, &one_more).await?;
    let next = if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().and_then(encode)
    } else {
        None
    };
    Ok((found, next))
}

fn encode(e: &Expense) -> Option<String> {
    let created = chrono::DateTime::parse_from_rfc3339(&e.created_at).ok()?;
    let text = format!("{}|{}|{}", e.spent_on, created.timestamp_millis(), e.id);
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text))
}

fn decode(cursor: &str) -> Option<SearchPosition> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.split('|');
    let spent_on = parse_day(parts.next()?)?;
    let created_at_ms = parts.next()?.parse().ok()?;
    let id = Uuid::parse_str(parts.next()?).ok()?;
    parts.next().is_none().then_some(SearchPosition {
        spent_on,
        created_at_ms,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn search(pairs: &[(&str, &str)]) -> ApiResult<ExpenseSearch> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(|k| map.get(k).cloned(), None)
    }

    fn field(r: ApiResult<ExpenseSearch>) -> String {
        match r {
            Err(ApiError::Invalid(e)) => e.field.to_string(),
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    #[test]
    fn a_search_reads_its_fields_and_names_the_bad_one() {
        let s = search(&[
            ("q", " Bread "),
            ("from", "2026-01-01"),
            ("to", "2026-01-31"),
        ])
        .unwrap();
        assert_eq!(s.text.as_deref(), Some("Bread"));
        assert_eq!(s.until, parse_day("2026-02-01"), "to is included");
        assert_eq!(s.limit, 100);
        assert_eq!(field(search(&[("limit", "0")])), "limit");
        assert_eq!(field(search(&[("limit", "201")])), "limit");
        assert_eq!(field(search(&[("min_minor", "-1")])), "min_minor");
        assert_eq!(
            field(search(&[("min_minor", "5"), ("max_minor", "4")])),
            "max_minor"
        );
        assert_eq!(
            field(search(&[("from", "2026-02-01"), ("to", "2026-01-01")])),
            "to"
        );
        assert_eq!(field(search(&[("cursor", "nonsense")])), "cursor");
        assert_eq!(field(search(&[("member_id", "x")])), "member_id");
        assert_eq!(field(search(&[("q", &"x".repeat(201))])), "q");
    }

    #[test]
    fn a_cursor_is_the_place_of_the_last_expense() {
        let e = Expense {
            id: Uuid::from_u128(7),
            category_id: Uuid::nil(),
            amount_minor: 1,
            note: None,
            spent_on: "2026-03-02".into(),
            created_by: Uuid::nil(),
            created_by_name: String::new(),
            created_at: "2026-03-02T10:00:00.123Z".into(),
            updated_at: String::new(),
            version: 1,
            recurring_id: None,
        };
        let place = decode(&encode(&e).unwrap()).unwrap();
        assert_eq!(
            place.spent_on,
            chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
        );
        assert_eq!(place.created_at_ms, 1_772_445_600_123);
        assert_eq!(place.id, e.id);
    }
}
