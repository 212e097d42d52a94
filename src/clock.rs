//! The clock and the family's calendar: milliseconds since the epoch (the store's time unit)
//! and today's date in a family's time zone. Everything that asks "when" asks here, so the
//! hub, the monitor and the rules agree, and none of them imports another for the time.

use crate::store::FamilyRecord;
use chrono::NaiveDate;

/// Milliseconds since the Unix epoch, the store's time unit.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Today in the family's time zone.
pub fn today(family: &FamilyRecord) -> NaiveDate {
    today_in(time_zone_of(family))
}

/// The family's time zone (UTC if the stored name is not one).
pub fn time_zone_of(family: &FamilyRecord) -> chrono_tz::Tz {
    crate::domain::time_zone(&family.timezone).unwrap_or(chrono_tz::UTC)
}

/// Today in `time_zone`.
pub fn today_in(time_zone: chrono_tz::Tz) -> NaiveDate {
    chrono::Utc::now().with_timezone(&time_zone).date_naive()
}
