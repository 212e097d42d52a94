//! Domain newtypes parsed once at the edge: a value of these types is valid by construction.
//! Each constructor's error names the field, so it becomes the contract's 422 message.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

pub fn field_error(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// A lower-cased email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        let err = || field_error("email", "enter an address such as name@example.org");
        if s.chars().count() > 254 || s.chars().any(char::is_whitespace) {
            return Err(err());
        }
        let s = s.to_lowercase();
        let (local, domain) = s.split_once('@').ok_or_else(err)?;
        if local.is_empty() || domain.is_empty() || domain.contains('@') || !domain.contains('.') {
            return Err(err());
        }
        if domain.starts_with('.') || domain.ends_with('.') {
            return Err(err());
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password long enough to be worth hashing.
pub struct Password(String);

impl Password {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let n = s.chars().count();
        if n < 10 {
            return Err(field_error("password", "use at least 10 characters"));
        }
        if n > 1024 {
            return Err(field_error("password", "use at most 1024 characters"));
        }
        Ok(Password(s.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A piece of text of at most `max` characters as sent, without control characters, and
/// not empty once trimmed; trimmed. (The OpenAPI document states the same rule as
/// `maxLength` and a pattern: `http::routes::document`.)
pub fn text(field: &'static str, s: &str, max: usize) -> Result<String, FieldError> {
    if s.chars().count() > max {
        return Err(field_error(field, format!("use at most {max} characters")));
    }
    if s.chars().any(char::is_control) {
        return Err(field_error(field, "must not contain control characters"));
    }
    let t = s.trim();
    if t.is_empty() {
        return Err(field_error(field, "must not be empty"));
    }
    Ok(t.to_string())
}

/// An ISO 4217 currency with its number of minor-unit digits, from the maintained
/// `iso_currency` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrencyCode {
    code: iso_currency::Currency,
    minor_units: u8,
}

impl CurrencyCode {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let code = iso_currency::Currency::from_code(&s.trim().to_uppercase())
            .ok_or_else(|| field_error("currency", "not an ISO 4217 currency code"))?;
        let minor_units = code
            .exponent()
            .and_then(|e| u8::try_from(e).ok())
            .ok_or_else(|| {
                field_error(
                    "currency",
                    "has no minor unit (funds and metals are not money here)",
                )
            })?;
        Ok(CurrencyCode { code, minor_units })
    }

    pub fn code(&self) -> &'static str {
        self.code.code()
    }

    pub fn minor_units(&self) -> u8 {
        self.minor_units
    }
}

/// An IANA time zone such as `Europe/Berlin`.
pub fn time_zone(s: &str) -> Result<chrono_tz::Tz, FieldError> {
    s.trim()
        .parse::<chrono_tz::Tz>()
        .map_err(|_| field_error("timezone", "not an IANA time zone such as Europe/Berlin"))
}

/// A `#rrggbb` colour, exactly.
pub fn color(s: &str) -> Result<String, FieldError> {
    let ok = s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(s.to_lowercase())
    } else {
        Err(field_error("color", "use #rrggbb"))
    }
}

/// Amounts are 1 … 10^12 minor units.
pub fn amount(v: i64) -> Result<i64, FieldError> {
    if (1..=1_000_000_000_000).contains(&v) {
        Ok(v)
    } else {
        Err(field_error(
            "amount_minor",
            "must be from 1 to 1000000000000",
        ))
    }
}

/// Limits are 0 … 10^15 minor units.
pub fn limit(v: i64) -> Result<i64, FieldError> {
    if (0..=1_000_000_000_000_000).contains(&v) {
        Ok(v)
    } else {
        Err(field_error(
            "limit_minor",
            "must be from 0 to 1000000000000000",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            Email::parse(" Ann@Example.ORG ").unwrap().as_str(),
            "ann@example.org"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.org",
            "a b@x.org",
            "a@b",
            "a@@b.org",
            "a@.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn currencies_know_their_minor_units() {
        assert_eq!(CurrencyCode::parse("eur").unwrap().minor_units(), 2);
        assert_eq!(CurrencyCode::parse("JPY").unwrap().minor_units(), 0);
        assert_eq!(CurrencyCode::parse("KWD").unwrap().minor_units(), 3);
        assert!(CurrencyCode::parse("XXX").is_err());
        assert!(CurrencyCode::parse("EURO").is_err());
    }

    #[test]
    fn passwords_need_ten_characters_and_hide_in_debug() {
        assert!(Password::parse("short").is_err());
        let p = Password::parse("long enough pass").unwrap();
        assert!(!format!("{p:?}").contains("long"));
    }

    #[test]
    fn texts_colours_and_amounts_have_bounds() {
        assert_eq!(text("name", "  Food ", 40).unwrap(), "Food");
        assert!(text("name", "   ", 40).is_err());
        assert!(text("name", &"x".repeat(41), 40).is_err());
        // Counted as sent: spaces around count too.
        assert!(text("name", &format!(" {} ", "x".repeat(39)), 40).is_err());
        assert!(text("name", "a\nb", 40).is_err());
        assert!(color(" #aabbcc").is_err());
        assert_eq!(color("#AABBCC").unwrap(), "#aabbcc");
        assert!(color("red").is_err());
        assert!(amount(0).is_err());
        assert!(amount(1_000_000_000_001).is_err());
        assert!(limit(-1).is_err());
        assert!(time_zone("Europe/Berlin").is_ok());
        assert!(time_zone("Mars/Olympus").is_err());
    }
}
