//! API types shared by the server and the browser: request and response bodies of the JSON API
//! and the small domain newtypes (`Month`, `Day`) both sides parse the same way.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

/// Whole numbers in request bodies: JSON (and the OpenAPI document's `integer`) counts `12.0`
/// and `1.2e1` as the number 12, so the server takes them as 12; a fraction or a number out of
/// range is refused as any wrong type is. `#[serde(deserialize_with = "whole::number")]`, or
/// `whole::optional` with `#[serde(default)]`.
pub mod whole {
    use serde::de::{Deserialize, Deserializer, Error, Unexpected, Visitor};
    use std::fmt;

    struct Whole;

    impl Visitor<'_> for Whole {
        type Value = i64;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a whole number")
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
        }

        fn visit_f64<E: Error>(self, v: f64) -> Result<i64, E> {
            // 2^63 is exact as a float; every whole float below it converts exactly.
            if v.fract() == 0.0
                && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&v)
            {
                Ok(v as i64)
            } else {
                Err(E::invalid_value(Unexpected::Float(v), &self))
            }
        }
    }

    pub fn number<'de, D: Deserializer<'de>, T: TryFrom<i64>>(d: D) -> Result<T, D::Error> {
        let v = d.deserialize_i64(Whole)?;
        T::try_from(v)
            .map_err(|_| D::Error::invalid_value(Unexpected::Signed(v), &"a number in range"))
    }

    pub fn optional<'de, D: Deserializer<'de>, T: TryFrom<i64>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        #[derive(serde::Deserialize)]
        struct Number(#[serde(deserialize_with = "number")] i64);
        match Option::<Number>::deserialize(d)? {
            None => Ok(None),
            Some(Number(v)) => T::try_from(v)
                .map(Some)
                .map_err(|_| D::Error::invalid_value(Unexpected::Signed(v), &"a number in range")),
        }
    }
}

/// The contract's error body: `{"error":{"code","message"}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
            },
        }
    }
}

impl fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.error.message)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Role::Owner),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

/// A family as everybody in it sees it. `minor_units` is the number of digits of the
/// currency's minor unit (2 for EUR, 0 for JPY), so the browser formats amounts without
/// its own currency table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Family {
    pub id: Uuid,
    pub name: String,
    pub currency: String,
    pub timezone: String,
    pub minor_units: u8,
}

/// The signed-in user's family and their role in it (`GET /api/me`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct MyFamily {
    pub id: Uuid,
    pub name: String,
    pub currency: String,
    pub timezone: String,
    pub minor_units: u8,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Me {
    pub user: User,
    pub family: Option<MyFamily>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Member {
    pub user_id: Uuid,
    pub display_name: String,
    pub role: Role,
    /// True while the member has a live connection open (presence, on any server).
    pub online: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct FamilyView {
    pub family: Family,
    pub members: Vec<Member>,
    /// Only the owner sees the invite code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct UserEnvelope {
    pub user: User,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct FamilyEnvelope {
    pub family: Family,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct FamilyCreated {
    pub family: Family,
    pub invite_code: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct RegisterRequest {
    pub email: String,
    pub password: String,
    pub display_name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct CreateFamilyRequest {
    pub name: String,
    pub currency: String,
    pub timezone: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct JoinFamilyRequest {
    pub invite_code: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Category {
    pub id: Uuid,
    pub name: String,
    pub color: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Categories {
    pub categories: Vec<Category>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct NewCategory {
    pub name: String,
    #[serde(default)]
    pub color: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct CategoryPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub color: Option<String>,
}

/// How far a category's spending is into its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Alert {
    Ok,
    Warning,
    Exceeded,
}

impl Alert {
    /// `exceeded` when spent > limit, `warning` when spent ≥ 80 % of a positive limit.
    /// Integer arithmetic only, in i128 so no sum of amounts can overflow.
    pub fn of(spent_minor: i64, limit_minor: Option<i64>) -> Self {
        match limit_minor {
            None => Alert::Ok,
            Some(limit) if spent_minor > limit => Alert::Exceeded,
            Some(limit) if limit > 0 && i128::from(spent_minor) * 100 >= i128::from(limit) * 80 => {
                Alert::Warning
            }
            Some(_) => Alert::Ok,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Alert::Ok => "ok",
            Alert::Warning => "warning",
            Alert::Exceeded => "exceeded",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct BudgetLine {
    pub category_id: Uuid,
    pub category_name: String,
    pub color: String,
    pub limit_minor: Option<i64>,
    pub spent_minor: i64,
    pub remaining_minor: Option<i64>,
    /// Whole percent of the limit spent, rounded down; null without a positive limit.
    pub percent_used: Option<i64>,
    pub alert: Alert,
    /// What recurring rules will still add this month (their days not made yet). The
    /// browser does not read it (the recurring card computes it from the rules it lists):
    /// left out of its (de)serialising code, which the first load of `/budget` carries.
    #[serde(default)]
    #[cfg_attr(not(feature = "ssr"), serde(skip))]
    pub upcoming_minor: i64,
}

impl BudgetLine {
    pub fn compute(category: &Category, limit_minor: Option<i64>, spent_minor: i64) -> Self {
        let percent_used = limit_minor.filter(|l| *l > 0).map(|limit| {
            let pct = i128::from(spent_minor) * 100 / i128::from(limit);
            i64::try_from(pct).unwrap_or(i64::MAX)
        });
        BudgetLine {
            category_id: category.id,
            category_name: category.name.clone(),
            color: category.color.clone(),
            limit_minor,
            spent_minor,
            remaining_minor: limit_minor.map(|l| l.saturating_sub(spent_minor)),
            percent_used,
            alert: Alert::of(spent_minor, limit_minor),
            upcoming_minor: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Totals {
    /// Sum of the limits that are set.
    pub limit_minor: i64,
    pub spent_minor: i64,
    pub remaining_minor: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Budget {
    pub month: String,
    /// Today in the family's time zone, `YYYY-MM-DD`.
    pub today: String,
    pub currency: String,
    pub minor_units: u8,
    pub lines: Vec<BudgetLine>,
    pub totals: Totals,
    /// Everyone in the family and what they logged this month (0 included), in the order
    /// they joined.
    #[serde(default)]
    pub members: Vec<MemberSpent>,
}

/// What each category spent in each of the last months (`GET /api/trends`), oldest month
/// first, the current month last.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Trends {
    pub months: Vec<String>,
    pub categories: Vec<TrendLine>,
}

/// A category's spending per month, in the order of `Trends::months`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct TrendLine {
    pub category_id: Uuid,
    pub category_name: String,
    pub spent_minor: Vec<i64>,
}

/// One member's part of a month (`Budget::members`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct MemberSpent {
    pub user_id: Uuid,
    pub display_name: String,
    pub spent_minor: i64,
}

impl MemberSpent {
    /// Whole percent of `total`, rounded down; 0 when nothing was spent.
    pub fn share_of(&self, total: i64) -> i64 {
        if total <= 0 {
            return 0;
        }
        i64::try_from(i128::from(self.spent_minor) * 100 / i128::from(total)).unwrap_or(0)
    }
}

impl Budget {
    pub fn from_lines(
        month: Month,
        today: NaiveDate,
        currency: String,
        minor_units: u8,
        lines: Vec<BudgetLine>,
        members: Vec<MemberSpent>,
    ) -> Self {
        Budget {
            month: month.to_string(),
            today: today.to_string(),
            currency,
            minor_units,
            totals: Totals::of(&lines),
            lines,
            members,
        }
    }
}

impl Totals {
    /// The totals of a month's lines.
    pub fn of(lines: &[BudgetLine]) -> Self {
        let limit_minor = lines
            .iter()
            .filter_map(|l| l.limit_minor)
            .fold(0i64, i64::saturating_add);
        let spent_minor = lines
            .iter()
            .map(|l| l.spent_minor)
            .fold(0i64, i64::saturating_add);
        Totals {
            limit_minor,
            spent_minor,
            remaining_minor: limit_minor.saturating_sub(spent_minor),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct SetLimit {
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 1000000000000000i64))]
    #[serde(deserialize_with = "whole::number")]
    pub limit_minor: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Expense {
    pub id: Uuid,
    pub category_id: Uuid,
    pub amount_minor: i64,
    pub note: Option<String>,
    /// `YYYY-MM-DD` in the family's time zone.
    pub spent_on: String,
    pub created_by: Uuid,
    /// The display name of who logged it (absent in what older versions cached offline).
    #[serde(default)]
    pub created_by_name: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    /// The recurring rule that made it, if one did (the browser does not read it: left out
    /// of its (de)serialising code, as `BudgetLine::upcoming_minor`).
    #[serde(default)]
    #[cfg_attr(not(feature = "ssr"), serde(skip))]
    pub recurring_id: Option<Uuid>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Expenses {
    pub expenses: Vec<Expense>,
    /// Where the next page of a search starts (`cursor=`); null on the last page and for a
    /// month's list, which is whole.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ExpenseEnvelope {
    pub expense: Expense,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct NewExpense {
    /// A client-made id: sending the same id and body again returns the same expense.
    #[serde(default)]
    pub id: Option<Uuid>,
    pub category_id: Uuid,
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 1000000000000i64))]
    #[serde(deserialize_with = "whole::number")]
    pub amount_minor: i64,
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 500,
            pattern = r"^[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*$"
        )
    )]
    pub note: Option<String>,
    /// `YYYY-MM-DD`; today in the family's time zone when absent.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(format = Date))]
    pub spent_on: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ExpensePatch {
    #[serde(deserialize_with = "whole::number")]
    pub version: i64,
    #[serde(default)]
    pub category_id: Option<Uuid>,
    #[serde(default, deserialize_with = "whole::optional")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 1000000000000i64))]
    pub amount_minor: Option<i64>,
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 500,
            pattern = r"^[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*$"
        )
    )]
    pub note: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(format = Date))]
    pub spent_on: Option<String>,
}

/// What `/budget` shows: the month's budget and its expenses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetPage {
    pub budget: Budget,
    pub expenses: Vec<Expense>,
    /// Where this load came from.
    #[serde(default)]
    pub load: Option<LoadInfo>,
    /// Where the family channel stood just before the data was read (server rendering only):
    /// the page's connection resumes from there, so nothing published in between is missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// The last six months per category (server rendering only): the page's bars are in the
    /// server's HTML, and the browser reads them from there (`pages::budget::trends`), never from this
    /// page's serialised data.
    #[serde(skip)]
    pub trends: Option<Trends>,
}

/// Where a page's data came from: the budget answer's `X-Cache` (`HIT`, `MISS`, `STALE`,
/// `BYPASS`), or `SSR` when the server rendered the page; and the server's time for it (the
/// `total` of `Server-Timing`, or the rendering's own measure).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadInfo {
    pub cache: String,
    pub server_ms: Option<f64>,
}

impl LoadInfo {
    /// Reads a metric's `dur` from a `Server-Timing` header value.
    pub fn timing(header: &str, metric: &str) -> Option<f64> {
        header.split(',').find_map(|entry| {
            let mut parts = entry.trim().split(';');
            if parts.next()?.trim() != metric {
                return None;
            }
            // The server writes milliseconds to the microsecond (`0.350`): read as an amount
            // of three decimals (`money::parse_minor`), not with the standard library's float
            // parser, whose tables would weigh 15 KB in the browser's first download.
            parts.find_map(|p| {
                let micros = crate::money::parse_minor(p.trim().strip_prefix("dur=")?, 3).ok()?;
                Some(micros as f64 / 1000.0)
            })
        })
    }
}

/// A calendar month, `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month {
    year: i32,
    month: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("month must be YYYY-MM")]
pub struct MonthError;

impl Month {
    pub fn parse(s: &str) -> Result<Self, MonthError> {
        let (y, m) = s.split_once('-').ok_or(MonthError)?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(MonthError);
        }
        let year: i32 = y.parse().map_err(|_| MonthError)?;
        let month: u32 = m.parse().map_err(|_| MonthError)?;
        if !(1..=12).contains(&month) || year < 1970 {
            return Err(MonthError);
        }
        Ok(Month { year, month })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// How many days it has.
    pub fn days(self) -> u32 {
        u32::try_from((self.next().first_day() - self.first_day()).num_days()).unwrap_or(0)
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        self.next()
            .first_day()
            .pred_opt()
            .unwrap_or(self.first_day())
    }

    /// How many of its days have begun by `today`: all of a past month, none of a future one.
    pub fn days_elapsed(self, today: NaiveDate) -> u32 {
        let current = Month::of(today);
        if self < current {
            self.days()
        } else if self == current {
            today.day()
        } else {
            0
        }
    }

    pub fn of(day: NaiveDate) -> Self {
        Month {
            year: day.year(),
            month: day.month(),
        }
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn prev(self) -> Self {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    /// "November 2026".
    pub fn label(self) -> String {
        format!("{} {}", month_name(self.month), self.year)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl TryFrom<String> for Month {
    type Error = MonthError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Month::parse(&s)
    }
}

impl From<Month> for String {
    fn from(m: Month) -> String {
        m.to_string()
    }
}

/// Parses a `YYYY-MM-DD` day: four, two and two ASCII digits, a real day from 0001-01-01.
/// (By hand rather than with chrono's `parse_from_str`: its format parser is several
/// kilobytes of the browser's first load, and this is all of it Hearth uses.)
pub fn parse_day(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let number = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(*d - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(number(0..4)?).ok()?;
    // Year 0 is no day of the Gregorian calendar as RFC 3339 writes it.
    if year == 0 {
        return None;
    }
    NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)
}

/// "January" for 1 … "December" for 12 (English, as the rest of the page).
pub fn month_name(month: u32) -> &'static str {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    NAMES[(month.clamp(1, 12) - 1) as usize]
}

/// "Monday" … "Sunday".
pub fn weekday_name(day: NaiveDate) -> &'static str {
    const NAMES: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    NAMES[day.weekday().num_days_from_monday() as usize]
}

/// Where a client stands in a channel's history.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Position {
    pub epoch: String,
    pub offset: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_parse_as_chrono_s_year_month_day_did_and_months_have_their_names() {
        let chrono = |s: &str| {
            (s.len() == 10)
                .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .flatten()
                .filter(|d| d.year() > 0)
        };
        let mut days: Vec<String> = [
            "",
            "2024-02-29",
            "2023-02-29",
            "0000-01-01",
            "0001-01-01",
            "9999-12-31",
            "+123-01-01",
            "-123-01-01",
            "2024-1-011",
            "2024-01-1 ",
            " 2024-01-1",
            "2024/01/01",
            "2024-13-01",
            "2024-00-10",
            "2024-01-32",
            "2024-01-00",
            "20240-01-0",
            "2024-01-01T",
            "2024-01-0a",
            "2024-0١-01",
            "+2024-01-01",
        ]
        .map(String::from)
        .to_vec();
        for year in [1, 4, 100, 400, 1900, 2000, 2024, 2100] {
            for month in 1..=12 {
                for day in [1, 28, 29, 30, 31] {
                    days.push(format!("{year:04}-{month:02}-{day:02}"));
                }
            }
        }
        for s in &days {
            // chrono's parser also took a sign ("+123-01-01" as 0123-01-01) and spaces
            // before a number (" 2024-01-1"), which are no `YYYY-MM-DD` and which the OpenAPI
            // document's pattern refuses: so does this.
            let lenient = s.starts_with(['+', '-']) || s.contains(' ');
            let expected = if lenient { None } else { chrono(s) };
            assert_eq!(parse_day(s), expected, "{s:?}");
        }
        assert!(chrono("+123-01-01").is_some() && chrono(" 2024-01-1").is_some());
        assert_eq!(Month::parse("2026-11").unwrap().label(), "November 2026");
        assert_eq!(Month::parse("1987-01").unwrap().label(), "January 1987");
        let day = parse_day("2026-12-06").unwrap();
        assert_eq!(weekday_name(day), day.format("%A").to_string());
        assert_eq!(month_name(3), "March");
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction_and_nothing_else() {
        let amount = |body: &str| {
            serde_json::from_str::<ExpensePatch>(body)
                .map(|p| (p.version, p.amount_minor))
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            amount(r#"{"version":1,"amount_minor":92}"#),
            Ok((1, Some(92)))
        );
        assert_eq!(
            amount(r#"{"version":1.0,"amount_minor":92.0}"#),
            Ok((1, Some(92)))
        );
        assert_eq!(
            amount(r#"{"version":1e0,"amount_minor":null}"#),
            Ok((1, None))
        );
        assert_eq!(amount(r#"{"version":1}"#), Ok((1, None)));
        for wrong in [
            r#"{"version":1,"amount_minor":92.5}"#,
            r#"{"version":1,"amount_minor":1e19}"#,
            r#"{"version":1,"amount_minor":18446744073709551615}"#,
            r#"{"version":1,"amount_minor":"92"}"#,
            r#"{"version":0.1}"#,
        ] {
            assert!(amount(wrong).is_err(), "{wrong}");
        }
        let days = |body: &str| serde_json::from_str::<NewChallenge>(body).map(|c| c.days);
        assert_eq!(days(r#"{"kind":"no_spend","days":7.0}"#).unwrap(), 7);
        assert!(days(r#"{"kind":"no_spend","days":-1}"#).is_err());
        assert!(days(r#"{"kind":"no_spend","days":4294967296}"#).is_err());
    }

    #[test]
    fn rules_fall_on_their_weekday_day_of_month_or_date() {
        let d = |s: &str| parse_day(s).unwrap();
        let days = |every: Every, start: &str, end: Option<&str>, from: &str, to: &str| {
            every
                .days_between(d(start), end.map(d), d(from), d(to))
                .into_iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
        };
        // The 31st falls on each month's last day; the rule's own first day counts.
        assert_eq!(
            days(Every::Month, "2026-01-31", None, "2026-01-01", "2026-04-30"),
            ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]
        );
        assert_eq!(
            days(Every::Month, "2026-01-15", None, "2026-03-16", "2026-05-31"),
            ["2026-04-15", "2026-05-15"]
        );
        // Weekly on the first day's weekday, never before the first day, never after the end.
        assert_eq!(
            days(
                Every::Week,
                "2026-12-02",
                Some("2026-12-23"),
                "2026-11-01",
                "2026-12-31"
            ),
            ["2026-12-02", "2026-12-09", "2026-12-16", "2026-12-23"]
        );
        assert_eq!(
            days(Every::Week, "2026-12-02", None, "2026-12-10", "2026-12-16"),
            ["2026-12-16"]
        );
        // Yearly on the date; the 29th of February on the 28th in other years.
        assert_eq!(
            days(Every::Year, "2024-02-29", None, "2024-01-01", "2028-12-31"),
            [
                "2024-02-29",
                "2025-02-28",
                "2026-02-28",
                "2027-02-28",
                "2028-02-29"
            ]
        );
        assert!(days(Every::Year, "2026-06-01", None, "2026-06-02", "2027-05-31").is_empty());
        assert_eq!(Every::parse("month"), Some(Every::Month));
        assert_eq!(Every::parse("daily"), None);
    }

    #[test]
    fn a_challenge_is_lost_once_over_and_won_after_its_last_day() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let cap = |spent, today| {
            ChallengeStatus::of(
                ChallengeKind::CategoryCap,
                Some(15_000),
                spent,
                day(29),
                day(today),
            )
        };
        assert_eq!(
            cap(15_000, 20),
            ChallengeStatus::Active,
            "at the limit is fine"
        );
        assert_eq!(cap(15_001, 20), ChallengeStatus::Lost);
        assert_eq!(cap(15_001, 30), ChallengeStatus::Lost);
        assert_eq!(
            cap(0, 29),
            ChallengeStatus::Active,
            "the last day still counts"
        );
        assert_eq!(cap(14_000, 30), ChallengeStatus::Won);
        let none = |spent| ChallengeStatus::of(ChallengeKind::NoSpend, None, spent, day(2), day(3));
        assert_eq!(none(0), ChallengeStatus::Won);
        assert_eq!(none(1), ChallengeStatus::Lost);
        for k in [ChallengeKind::CategoryCap, ChallengeKind::NoSpend] {
            assert_eq!(ChallengeKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn server_timing_durations_are_read_by_metric() {
        let h = "cache;desc=\"l1\";dur=0.012, total;dur=0.350";
        assert_eq!(LoadInfo::timing(h, "total"), Some(0.35));
        assert_eq!(LoadInfo::timing(h, "cache"), Some(0.012));
        assert_eq!(LoadInfo::timing(h, "db"), None);
        assert_eq!(LoadInfo::timing("total", "total"), None);
        assert_eq!(LoadInfo::timing("total;dur=12", "total"), Some(12.0));
        assert_eq!(
            LoadInfo::timing("total;dur=1234.567", "total"),
            Some(1234.567)
        );
        for bad in [
            "",
            "1.2.3",
            "-1",
            "1e3",
            "12a",
            "1.2345",
            "99999999999999999",
        ] {
            assert_eq!(
                LoadInfo::timing(&format!("total;dur={bad}"), "total"),
                None,
                "{bad}"
            );
        }
    }

    fn cat() -> Category {
        Category {
            id: Uuid::nil(),
            name: "Food".into(),
            color: "#000000".into(),
        }
    }

    #[test]
    fn alerts_use_integer_thresholds() {
        assert_eq!(Alert::of(79, Some(100)), Alert::Ok);
        assert_eq!(Alert::of(80, Some(100)), Alert::Warning);
        assert_eq!(Alert::of(100, Some(100)), Alert::Warning);
        assert_eq!(Alert::of(101, Some(100)), Alert::Exceeded);
        assert_eq!(Alert::of(5, None), Alert::Ok);
        assert_eq!(Alert::of(0, Some(0)), Alert::Ok);
        assert_eq!(Alert::of(1, Some(0)), Alert::Exceeded);
        // 80 % of 3 is 2.4: 2 is below it, 3 is not
        assert_eq!(Alert::of(2, Some(3)), Alert::Ok);
        assert_eq!(Alert::of(3, Some(3)), Alert::Warning);
    }

    #[test]
    fn a_line_rounds_its_percent_down_and_never_overflows() {
        let line = BudgetLine::compute(&cat(), Some(300), 199);
        assert_eq!(line.percent_used, Some(66));
        assert_eq!(line.remaining_minor, Some(101));
        let huge = BudgetLine::compute(&cat(), Some(1), i64::MAX);
        assert_eq!(huge.percent_used, Some(i64::MAX));
        assert_eq!(BudgetLine::compute(&cat(), None, 5).percent_used, None);
    }

    #[test]
    fn totals_sum_only_the_limits_that_are_set() {
        let lines = vec![
            BudgetLine::compute(&cat(), Some(1000), 200),
            BudgetLine::compute(&cat(), None, 50),
        ];
        let b = Budget::from_lines(
            Month::parse("2026-11").unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(),
            "EUR".into(),
            2,
            lines,
            vec![],
        );
        assert_eq!(b.totals.limit_minor, 1000);
        assert_eq!(b.totals.spent_minor, 250);
        assert_eq!(b.totals.remaining_minor, 750);
    }

    #[test]
    fn days_depend_on_the_month_and_today() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        let march = Month::parse("2026-03").unwrap();
        assert_eq!(Month::parse("2024-02").unwrap().days(), 29);
        assert_eq!(march.days_elapsed(today), 10);
        assert_eq!(march.prev().days_elapsed(today), 28);
        assert_eq!(march.next().days_elapsed(today), 0);
        assert_eq!(
            march.last_day(),
            NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()
        );
    }

    #[test]
    fn months_parse_strictly_and_step() {
        let m = Month::parse("2026-12").unwrap();
        assert_eq!(m.next().to_string(), "2027-01");
        assert_eq!(m.prev().to_string(), "2026-11");
        assert_eq!(
            Month::parse("2026-01").unwrap().prev().to_string(),
            "2025-12"
        );
        for bad in [
            "2026-13", "2026-1", "26-01", "2026/01", "abcd-ef", "", "2026-00",
        ] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn days_parse_strictly() {
        assert!(parse_day("2026-02-28").is_some());
        assert!(parse_day("2026-02-30").is_none());
        assert!(parse_day("2026-2-3").is_none());
    }
}

/// `GET /api/insights`: where the month is heading, from plain statistics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Insights {
    pub month: String,
    pub days_in_month: u32,
    /// Days of the month that have passed, today included (all of them for a past month).
    pub days_elapsed: u32,
    pub forecasts: Vec<Forecast>,
    /// Categories whose forecast exceeds their limit.
    pub at_risk: Vec<Uuid>,
    pub unusual: Vec<UnusualExpense>,
}

/// Month-end spending if the pace so far continues: spent × days in month ÷ days elapsed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Forecast {
    pub category_id: Uuid,
    pub category_name: String,
    pub spent_minor: i64,
    pub limit_minor: Option<i64>,
    pub forecast_minor: i64,
    pub at_risk: bool,
}

/// An expense more than three times its category's median this month (categories with at
/// least four expenses).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct UnusualExpense {
    pub expense_id: Uuid,
    pub category_id: Uuid,
    pub amount_minor: i64,
    pub median_minor: i64,
}

/// One family chat message, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ChatMessage {
    /// The sender's id for the message (the `id` of its `chat` frame).
    pub client_id: String,
    pub user_id: Uuid,
    pub display_name: String,
    pub text: String,
    /// RFC 3339.
    pub created_at: String,
    /// Its offset in the family channel, once published.
    pub offset: Option<u64>,
}

/// `GET /api/chat`: the family's latest messages, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ChatHistory {
    pub messages: Vec<ChatMessage>,
}

/// What a savings challenge asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChallengeKind {
    /// Keep one category's spending within a limit over the days.
    CategoryCap,
    /// Spend nothing at all over the days.
    NoSpend,
}

impl ChallengeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeKind::CategoryCap => "category_cap",
            ChallengeKind::NoSpend => "no_spend",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ChallengeKind::CategoryCap, ChallengeKind::NoSpend]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChallengeStatus {
    Active,
    Won,
    Lost,
}

impl ChallengeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeStatus::Active => "active",
            ChallengeStatus::Won => "won",
            ChallengeStatus::Lost => "lost",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ChallengeStatus::Active,
            ChallengeStatus::Won,
            ChallengeStatus::Lost,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// Where a challenge stands: lost as soon as the spending passes what it allows (any
    /// spending for no-spend), won once its last day is over without that.
    pub fn of(
        kind: ChallengeKind,
        limit_minor: Option<i64>,
        spent_minor: i64,
        ends_on: NaiveDate,
        today: NaiveDate,
    ) -> Self {
        let allowed = match kind {
            ChallengeKind::CategoryCap => limit_minor.unwrap_or(0),
            ChallengeKind::NoSpend => 0,
        };
        if spent_minor > allowed {
            ChallengeStatus::Lost
        } else if today > ends_on {
            ChallengeStatus::Won
        } else {
            ChallengeStatus::Active
        }
    }
}

/// `POST /api/challenges`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewChallenge {
    pub kind: ChallengeKind,
    /// The category (category_cap only).
    #[serde(default)]
    pub category_id: Option<Uuid>,
    /// The most the category may spend over the days (category_cap only), minor units.
    #[serde(default, deserialize_with = "whole::optional")]
    pub limit_minor: Option<i64>,
    /// How many days, 1 to 31, from `starts_on`.
    #[serde(deserialize_with = "whole::number")]
    pub days: u32,
    /// `YYYY-MM-DD`, at most 31 days back; today in the family's time zone when absent.
    #[serde(default)]
    pub starts_on: Option<String>,
}

/// A savings challenge with its progress, measured from the family's expenses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Challenge {
    pub id: Uuid,
    pub kind: ChallengeKind,
    /// "Keep Dining out under 150.00 EUR", "No spending".
    pub title: String,
    pub category_id: Option<Uuid>,
    pub limit_minor: Option<i64>,
    pub starts_on: String,
    /// The last day, included.
    pub ends_on: String,
    pub created_by: Uuid,
    pub participants: Vec<Uuid>,
    /// Spent in the challenge's category (all categories for no-spend) over its days so far.
    pub spent_minor: i64,
    pub status: ChallengeStatus,
}

/// Something the family achieved, awarded once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Achievement {
    pub key: String,
    pub title: String,
    /// RFC 3339.
    pub awarded_at: String,
}

/// `GET /api/challenges`: newest first, with the family's achievements.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Challenges {
    pub challenges: Vec<Challenge>,
    pub achievements: Vec<Achievement>,
}

/// How often a recurring rule repeats: on its first day's weekday, day of the month (the
/// month's last day when the month is shorter) or date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Every {
    Week,
    Month,
    Year,
}

impl Every {
    pub const ALL: [Every; 3] = [Every::Week, Every::Month, Every::Year];

    pub fn as_str(self) -> &'static str {
        match self {
            Every::Week => "week",
            Every::Month => "month",
            Every::Year => "year",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Every::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// The rule's day in `month` (`starts_on` gives the day of the month).
    fn in_month(starts_on: NaiveDate, month: Month) -> NaiveDate {
        let day = starts_on.day().min(month.days());
        NaiveDate::from_ymd_opt(month.year(), month.month, day).unwrap_or(month.first_day())
    }

    /// The first day on or after `day` (and on or after `starts_on`) the rule falls on.
    pub fn on_or_after(self, starts_on: NaiveDate, day: NaiveDate) -> NaiveDate {
        let day = day.max(starts_on);
        match self {
            Every::Week => {
                let weeks = (day - starts_on).num_days().div_euclid(7)
                    + i64::from((day - starts_on).num_days().rem_euclid(7) != 0);
                starts_on + chrono::Duration::days(weeks * 7)
            }
            Every::Month => {
                let month = Month::of(day);
                let here = Every::in_month(starts_on, month);
                if here >= day {
                    here
                } else {
                    Every::in_month(starts_on, month.next())
                }
            }
            Every::Year => {
                let in_year = |year: i32| {
                    let month = Month {
                        year,
                        month: starts_on.month(),
                    };
                    Every::in_month(starts_on, month)
                };
                let here = in_year(day.year());
                if here >= day {
                    here
                } else {
                    in_year(day.year() + 1)
                }
            }
        }
    }

    /// What a rule of `amount_minor` will still add in `month`: its days from `next_on` (the
    /// next one to make; `None` once it ended) to the month's end.
    pub fn upcoming(
        self,
        starts_on: NaiveDate,
        ends_on: Option<NaiveDate>,
        next_on: Option<NaiveDate>,
        amount_minor: i64,
        month: Month,
    ) -> i64 {
        let Some(next) = next_on else { return 0 };
        let days = self.days_between(
            starts_on,
            ends_on,
            next.max(month.first_day()),
            month.last_day(),
        );
        amount_minor.saturating_mul(days.len() as i64)
    }

    /// The days the rule falls on in `[from, to]`, at most `ends_on`.
    pub fn days_between(
        self,
        starts_on: NaiveDate,
        ends_on: Option<NaiveDate>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Vec<NaiveDate> {
        let last = ends_on.map_or(to, |e| e.min(to));
        let mut days = Vec::new();
        let mut day = self.on_or_after(starts_on, from);
        while day <= last {
            days.push(day);
            match day.succ_opt() {
                Some(next) => day = self.on_or_after(starts_on, next),
                None => break,
            }
        }
        days
    }
}

/// A recurring expense: the expense it makes on each of its days, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct RecurringRule {
    pub id: Uuid,
    pub category_id: Uuid,
    pub amount_minor: i64,
    pub note: Option<String>,
    pub every: Every,
    /// `YYYY-MM-DD`, the first day; it gives the weekday, day of the month or date.
    pub starts_on: String,
    /// The last day it may fall on, included.
    pub ends_on: Option<String>,
    /// The next day it makes an expense on; null once it has ended.
    pub next_on: Option<String>,
    pub created_by: Uuid,
}

/// `GET /api/recurring`: the family's rules, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct RecurringRules {
    pub rules: Vec<RecurringRule>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct RuleEnvelope {
    pub rule: RecurringRule,
}

/// `POST /api/recurring`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewRecurringRule {
    /// A client-made id: sending the same rule again (an outbox's replay) returns the rule
    /// it made the first time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    pub category_id: Uuid,
    /// 1 to 10^12 minor units.
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 1000000000000i64))]
    #[serde(deserialize_with = "whole::number")]
    pub amount_minor: i64,
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 500,
            pattern = r"^[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*$"
        )
    )]
    pub note: Option<String>,
    pub every: Every,
    /// `YYYY-MM-DD`, at most a year back.
    #[cfg_attr(feature = "ssr", schema(format = Date))]
    pub starts_on: String,
    /// `YYYY-MM-DD`, not before `starts_on`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(format = Date))]
    pub ends_on: Option<String>,
}

/// `PATCH /api/recurring/{id}`: the fields to change; the days already made stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecurringPatch {
    #[serde(default)]
    pub category_id: Option<Uuid>,
    #[serde(default, deserialize_with = "whole::optional")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 1000000000000i64))]
    pub amount_minor: Option<i64>,
    /// An empty note clears it.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 500,
            pattern = r"^[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*$"
        )
    )]
    pub note: Option<String>,
    #[serde(default)]
    pub every: Option<Every>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(format = Date))]
    pub starts_on: Option<String>,
    /// `YYYY-MM-DD`, or an empty string, which removes the end.
    #[serde(default)]
    pub ends_on: Option<String>,
}

/// One line of an imported CSV file as understood (`POST /api/import`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ImportRow {
    /// The line in the file (the header is line 1).
    pub line: u64,
    /// `YYYY-MM-DD` as read (empty when missing).
    pub date: String,
    /// The category as the file names it.
    pub category: String,
    /// The family's category it goes to, when known.
    pub category_id: Option<Uuid>,
    pub amount_minor: i64,
    pub note: Option<String>,
    /// The same day, amount and note as an expense already here.
    pub duplicate: bool,
    /// Why the line cannot be imported.
    pub error: Option<String>,
}

/// `POST /api/import`: every line as understood, and how many expenses were saved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ImportResult {
    pub rows: Vec<ImportRow>,
    pub imported: u64,
}

/// `POST /api/import` refused (422): the error names the first bad line; `rows` say what
/// is wrong with each.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ImportRefused {
    pub error: ErrorDetail,
    pub rows: Vec<ImportRow>,
}
