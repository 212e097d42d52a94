//! Amounts as integer minor units: formatting for display and parsing what a person types,
//! for any number of minor-unit digits (0 for JPY, 2 for EUR, 3 for KWD).

/// `12345` with 2 digits is `"123.45"`; with 0 digits `"12345"`.
pub fn format_minor(amount: i64, digits: u8) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    if digits == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10u64.pow(u32::from(digits));
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = usize::from(digits)
    )
}

/// Formats with the currency code: `"123.45 EUR"`.
pub fn format_money(amount: i64, digits: u8, currency: &str) -> String {
    format!("{} {currency}", format_minor(amount, digits))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("enter an amount such as 12.50")]
    Malformed,
    #[error("use at most {0} digits after the decimal point")]
    TooPrecise(u8),
    #[error("the amount is too large")]
    TooLarge,
}

/// Parses `"12.5"`, `"12,50"` or `"12"` into minor units. No floating point anywhere.
pub fn parse_minor(input: &str, digits: u8) -> Result<i64, AmountError> {
    let s = input.trim().replace(',', ".");
    if s.is_empty() {
        return Err(AmountError::Malformed);
    }
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s.as_str(), ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return Err(AmountError::Malformed);
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AmountError::Malformed);
    }
    if frac.len() > usize::from(digits) {
        return Err(AmountError::TooPrecise(digits));
    }
    let scale = 10i64.pow(u32::from(digits));
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| AmountError::TooLarge)?
    };
    let frac_value: i64 = if frac.is_empty() {
        0
    } else {
        let padded = format!("{frac:0<width$}", width = usize::from(digits));
        padded.parse().map_err(|_| AmountError::Malformed)?
    };
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac_value))
        .ok_or(AmountError::TooLarge)
}

/// A form field's amount, or the message to show under the form (`field: reason`);
/// `positive` refuses zero.
pub fn field_amount(input: &str, digits: u8, field: &str, positive: bool) -> Result<i64, String> {
    match parse_minor(input, digits) {
        Ok(v) if positive && v <= 0 => Err(format!("{field}: enter more than zero")),
        Ok(v) => Ok(v),
        Err(e) => Err(format!("{field}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_minor_digits() {
        assert_eq!(format_minor(12345, 2), "123.45");
        assert_eq!(format_minor(5, 2), "0.05");
        assert_eq!(format_minor(-150, 2), "-1.50");
        assert_eq!(format_minor(1234, 0), "1234");
        assert_eq!(format_minor(1234, 3), "1.234");
        assert_eq!(format_money(1000, 2, "EUR"), "10.00 EUR");
    }

    #[test]
    fn parses_what_people_type() {
        assert_eq!(parse_minor("12.5", 2), Ok(1250));
        assert_eq!(parse_minor("12,50", 2), Ok(1250));
        assert_eq!(parse_minor(" 7 ", 2), Ok(700));
        assert_eq!(parse_minor(".5", 2), Ok(50));
        assert_eq!(parse_minor("500", 0), Ok(500));
        assert_eq!(parse_minor("1.5", 0), Err(AmountError::TooPrecise(0)));
        assert_eq!(parse_minor("1.234", 2), Err(AmountError::TooPrecise(2)));
        assert_eq!(parse_minor("-3", 2), Err(AmountError::Malformed));
        assert_eq!(parse_minor("abc", 2), Err(AmountError::Malformed));
        assert_eq!(parse_minor(".", 2), Err(AmountError::Malformed));
        assert_eq!(
            parse_minor("99999999999999999999", 2),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn form_amounts_name_their_field_when_refused() {
        assert_eq!(field_amount("12.5", 2, "amount", true), Ok(1250));
        assert_eq!(field_amount("0", 2, "limit", false), Ok(0));
        assert_eq!(
            field_amount("0", 2, "amount", true),
            Err("amount: enter more than zero".into())
        );
        assert!(field_amount("abc", 2, "limit", false)
            .unwrap_err()
            .starts_with("limit: "));
    }
}
