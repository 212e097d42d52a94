//! Any bytes as an uploaded CSV file: rows, or a refusal naming a line — never a panic; a row
//! without an error is a valid expense (a known category, an amount in range, a real day).
#![no_main]

use hearth::service::import::rows;
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use uuid::Uuid;

fuzz_target!(|data: &[u8]| {
    let categories: HashMap<String, Uuid> = [("groceries", 1u128), ("housing", 2)]
        .into_iter()
        .map(|(name, id)| (name.to_string(), Uuid::from_u128(id)))
        .collect();
    match rows(data, &categories, "EUR", 2) {
        Ok(rows) => {
            for (row, day) in rows {
                if row.error.is_none() {
                    assert!(row.category_id.is_some(), "{row:?}");
                    assert!(
                        (1..=1_000_000_000_000).contains(&row.amount_minor),
                        "{row:?}"
                    );
                    assert!(day.is_some(), "{row:?}");
                }
            }
        }
        Err(message) => assert!(message.starts_with("line "), "{message}"),
    }
});
