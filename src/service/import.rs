//! CSV import (`POST /api/import`): the export's columns back in, all or nothing.
//!
//! The file is read whole first: each line becomes a row with its category (by name, any
//! case, or as the caller mapped it), amount, day and note, or with the reason it cannot be
//! imported; rows with the same day, amount and note as an expense already here are marked
//! duplicates. Only a file without any bad line is saved, in one transaction, duplicates
//! left out unless asked for; a dry run saves nothing. The export's protection against
//! spreadsheet formulas (a leading `'`) is taken off again.

use super::families::family_view;
use crate::auth::FamilyMember;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{NewExpenseRecord, StoreError};
use app::model::{parse_day, ImportRow};
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// The largest file taken, in bytes.
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// The most lines one file may hold.
pub const MAX_ROWS: usize = 10_000;

/// What the query asks: a dry run, whether duplicates are saved too, and the family's
/// category for each category name of the file that is not one of the family's (lower case).
#[derive(Debug, Default)]
pub struct Options {
    pub dry_run: bool,
    pub include_duplicates: bool,
    pub map: HashMap<String, Uuid>,
    /// The client's name for this import: each line's expense gets an id made from it and
    /// the line's number, so the same import sent again (an outbox's replay) saves nothing twice.
    pub key: Option<Uuid>,
}

fn flag(field: &'static str, value: Option<&str>) -> ApiResult<bool> {
    match value {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::invalid(field, "use true or false")),
    }
}

/// Reads the options from the query's pairs: `dry_run`, `include_duplicates`, and
/// `map[<name in the file>]=<category id>`.
pub fn options<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> ApiResult<Options> {
    let mut options = Options::default();
    for (key, value) in pairs {
        match key {
            "dry_run" => options.dry_run = flag("dry_run", Some(value))?,
            "include_duplicates" => {
                options.include_duplicates = flag("include_duplicates", Some(value))?
            }
            "key" => {
                let key = Uuid::parse_str(value)
                    .map_err(|_| ApiError::invalid("key", "a UUID naming this import"))?;
                options.key = Some(key);
            }
            _ => {
                if let Some(name) = key.strip_prefix("map[").and_then(|k| k.strip_suffix(']')) {
                    let id = Uuid::parse_str(value)
                        .map_err(|_| ApiError::invalid("map", "map a name to a category id"))?;
                    options.map.insert(name.trim().to_lowercase(), id);
                }
            }
        }
    }
    Ok(options)
}

/// What came of an import: every row, and how many expenses were saved. `Refused` when a
/// line is bad (the message names the first).
pub enum Outcome {
    Done {
        rows: Vec<ImportRow>,
        imported: u64,
    },
    Refused {
        message: String,
        rows: Vec<ImportRow>,
    },
}

/// The columns by name (the header row, any case and order).
struct Columns {
    date: usize,
    category: usize,
    amount: usize,
    currency: Option<usize>,
    note: Option<usize>,
}

impl Columns {
    fn of(header: &csv::StringRecord) -> Result<Self, String> {
        let find = |name: &str| {
            header.iter().position(|h| {
                h.trim()
                    .trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case(name)
            })
        };
        let needed = |name: &str| {
            find(name).ok_or_else(|| {
                format!("line 1: the header has no {name} column (date,category,amount,currency,note,member)")
            })
        };
        Ok(Columns {
            date: needed("date")?,
            category: needed("category")?,
            amount: needed("amount")?,
            currency: find("currency"),
            note: find("note"),
        })
    }
}

/// The note as exported: without the `'` that kept a formula from running.
fn unprotect(note: &str) -> &str {
    match note.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => note,
    }
}

/// Reads the file into rows; `Err` for a file that cannot be read at all (with the line).
pub fn rows(
    body: &[u8],
    categories: &HashMap<String, Uuid>,
    currency: &str,
    minor_units: u8,
) -> Result<Vec<(ImportRow, Option<NaiveDate>)>, String> {
    let text = std::str::from_utf8(body).map_err(|e| {
        let line = body[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        format!("line {line}: the file is not UTF-8 text")
    })?;
    let text = text.trim_start_matches('\u{feff}');
    // The line a record starts on (the reader's own count skips blank lines, and its
    // position is before them).
    let line_at = |p: Option<&csv::Position>| {
        let byte = p.map_or(0, |p| p.byte() as usize).min(text.len());
        let blank = text.as_bytes()[byte..]
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let start = byte + blank;
        text.as_bytes()[..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64
            + 1
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| format!("line 1: {e}"))?
        .clone();
    if header.iter().all(|h| h.trim().is_empty()) {
        return Err("line 1: the file is empty; it needs a header row".into());
    }
    let columns = Columns::of(&header)?;
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            format!(
                "line {}: the file cannot be read as CSV here",
                line_at(e.position())
            )
        })?;
        if out.len() == MAX_ROWS {
            return Err(format!(
                "line {}: a file holds at most {MAX_ROWS} expenses",
                record.position().map_or(0, |p| p.line())
            ));
        }
        let line = line_at(record.position());
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let date = field(columns.date);
        let category = field(columns.category);
        let note = columns.note.map(|i| unprotect(field(i))).unwrap_or("");
        let mut error = None;
        let day = parse_day(date);
        if day.is_none() {
            error = Some(format!("the date {date:?} is not a day as YYYY-MM-DD"));
        }
        let category_id = categories.get(&category.to_lowercase()).copied();
        if category_id.is_none() && error.is_none() {
            error = Some(format!(
                "there is no category {category:?} here: map it to one of the family's"
            ));
        }
        let amount = field(columns.amount);
        let amount_minor = match app::money::parse_minor(amount, minor_units)
            .map_err(|e| e.to_string())
            .and_then(|a| crate::domain::amount(a).map_err(|e| e.reason))
        {
            Ok(a) => a,
            Err(reason) => {
                error.get_or_insert(format!("the amount {amount:?}: {reason}"));
                0
            }
        };
        if let Some(c) = columns.currency.map(field).filter(|c| !c.is_empty()) {
            if !c.eq_ignore_ascii_case(currency) {
                error.get_or_insert(format!("the amount is in {c}, the family keeps {currency}"));
            }
        }
        let note = match super::budget::note(Some(note.to_string())) {
            Ok(n) => n,
            Err(e) => {
                error.get_or_insert(format!("the note {e}"));
                None
            }
        };
        let row = ImportRow {
            line,
            date: date.to_string(),
            category: category.to_string(),
            category_id,
            amount_minor,
            note,
            duplicate: false,
            error,
        };
        out.push((row, day));
    }
    if out.is_empty() {
        return Err("line 2: the file has no expenses after its header".into());
    }
    Ok(out)
}

/// Reads, checks and (unless a dry run or a bad line) saves the file's expenses.
pub async fn import(
    state: &AppState,
    member: &FamilyMember,
    body: &[u8],
    options: Options,
) -> ApiResult<Outcome> {
    let family = &member.family;
    let view = family_view(family);
    let mut names: HashMap<String, Uuid> = HashMap::new();
    let family_categories = state.store.categories(family.id).await?;
    for c in &family_categories {
        names.insert(c.name.to_lowercase(), c.id);
    }
    for (name, id) in &options.map {
        if !family_categories.iter().any(|c| c.id == *id) {
            return Err(ApiError::invalid(
                "map",
                format!("{name:?} is mapped to no category of the family"),
            ));
        }
        names.insert(name.clone(), *id);
    }
    let mut rows = match rows(body, &names, &view.currency, view.minor_units) {
        Ok(rows) => rows,
        Err(message) => {
            return Ok(Outcome::Refused {
                message,
                rows: Vec::new(),
            })
        }
    };
    // The expenses already here over the file's days, to find the duplicates.
    let days: Vec<NaiveDate> = rows.iter().filter_map(|(_, d)| *d).collect();
    if let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) {
        let until = last.succ_opt().unwrap_or(*last);
        let here = state
            .store
            .expenses(family.id, *first, until, None, None)
            .await?;
        let known: HashSet<(String, i64, String)> = here
            .into_iter()
            .map(|e| (e.spent_on, e.amount_minor, e.note.unwrap_or_default()))
            .collect();
        for (row, _) in rows.iter_mut() {
            let key = (
                row.date.clone(),
                row.amount_minor,
                row.note.clone().unwrap_or_default(),
            );
            row.duplicate = known.contains(&key);
        }
    }
    if let Some((bad, _)) = rows.iter().find(|(r, _)| r.error.is_some()) {
        let message = format!(
            "line {}: {}; nothing was imported",
            bad.line,
            bad.error.as_deref().unwrap_or("")
        );
        let rows = rows.into_iter().map(|(r, _)| r).collect();
        return Ok(Outcome::Refused { message, rows });
    }
    let now = crate::clock::now_ms();
    let records: Vec<NewExpenseRecord> = rows
        .iter()
        .filter(|(r, _)| options.include_duplicates || !r.duplicate)
        .filter_map(|(r, day)| {
            Some(NewExpenseRecord {
                id: options.key.map_or_else(Uuid::new_v4, |key| {
                    Uuid::new_v5(&key, r.line.to_string().as_bytes())
                }),
                family_id: family.id,
                category_id: r.category_id?,
                amount_minor: r.amount_minor,
                note: r.note.clone(),
                spent_on: (*day)?,
                created_by: member.user.id,
                now_ms: now,
                body_hash: format!("import|{}", r.line),
            })
        })
        .collect();
    let rows: Vec<ImportRow> = rows.into_iter().map(|(r, _)| r).collect();
    if options.dry_run || records.is_empty() {
        return Ok(Outcome::Done { rows, imported: 0 });
    }
    let saved = match state.store.import_expenses(&records).await {
        Ok(saved) => saved,
        // Saved already, by the first sending of this import: nothing more to save.
        Err(StoreError::Conflict("duplicate_id")) if options.key.is_some() => {
            return Ok(Outcome::Done { rows, imported: 0 })
        }
        Err(e) => return Err(e.into()),
    };
    let current = super::changed(state, family).await;
    super::events::created(state, member, &saved, current).await;
    Ok(Outcome::Done {
        rows,
        imported: saved.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(csv: &str) -> Result<Vec<ImportRow>, String> {
        let food = Uuid::from_u128(1);
        let names = HashMap::from([("food".to_string(), food)]);
        rows(csv.as_bytes(), &names, "EUR", 2).map(|r| r.into_iter().map(|(r, _)| r).collect())
    }

    #[test]
    fn an_export_reads_back_line_by_line() {
        let rows = read(
            "\u{feff}date,category,amount,currency,note,member\n\
             2026-03-01,Food,12.50,EUR,\"bread, milk\",Sam\n\
             \n\
             2026-03-02,FOOD,3,,'=1+1,Sam\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].amount_minor, 1250);
        assert_eq!(rows[0].note.as_deref(), Some("bread, milk"));
        assert_eq!(rows[0].category_id, Some(Uuid::from_u128(1)));
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].amount_minor, 300);
        assert_eq!(
            rows[1].note.as_deref(),
            Some("=1+1"),
            "the formula guard comes off"
        );
        assert!(rows.iter().all(|r| r.error.is_none()));
    }

    #[test]
    fn each_bad_line_says_why() {
        let rows = read(
            "category,amount,date\n\
             Food,1.234,2026-03-01\n\
             Food,-5,2026-03-01\n\
             Toys,5,2026-03-01\n\
             Food,5,2026-02-30\n\
             Food,5,2026-03-01\n",
        )
        .unwrap();
        let errors: Vec<_> = rows.iter().map(|r| r.error.clone()).collect();
        assert!(errors[0].as_deref().unwrap().contains("at most 2 digits"));
        assert!(errors[1].as_deref().unwrap().contains("amount"));
        assert!(errors[2]
            .as_deref()
            .unwrap()
            .contains("no category \"Toys\""));
        assert!(errors[3].as_deref().unwrap().contains("not a day"));
        assert_eq!(errors[4], None);
        let currency = read("date,category,amount,currency\n2026-03-01,Food,5,USD\n").unwrap();
        assert!(currency[0].error.as_deref().unwrap().contains("USD"));
    }

    #[test]
    fn files_that_cannot_be_read_name_the_line() {
        assert!(read("").unwrap_err().starts_with("line 1"));
        assert!(read("date,amount\n")
            .unwrap_err()
            .contains("no category column"));
        assert!(read("date,category,amount\n")
            .unwrap_err()
            .starts_with("line 2"));
        let quote =
            read("date,category,amount,note\n2026-03-01,Food,1,ok\n2026-03-01,Food,1,\"open\n");
        assert!(quote.is_err() || quote.unwrap().len() == 2);
        let bytes = b"date,category,amount\n2026-03-01,Food,\xff\n";
        let names = HashMap::new();
        assert_eq!(
            rows(bytes, &names, "EUR", 2).unwrap_err(),
            "line 2: the file is not UTF-8 text"
        );
    }

    #[test]
    fn options_are_checked() {
        let o = options(
            [
                ("dry_run", "true"),
                ("map[Lebensmittel]", &*Uuid::nil().to_string()),
            ]
            .into_iter(),
        )
        .unwrap();
        assert!(o.dry_run && !o.include_duplicates);
        assert_eq!(o.map.get("lebensmittel"), Some(&Uuid::nil()));
        assert!(options([("dry_run", "yes")].into_iter()).is_err());
        assert!(options([("map[x]", "food")].into_iter()).is_err());
    }

    use proptest::prelude::Strategy;

    proptest::proptest! {
        /// Any file, CSV-shaped or not, is read into rows or refused with a message naming a
        /// line: never a panic; each row is on a line after the header, and one without an
        /// error has a day, a category and an amount within the contract's range.
        #[test]
        fn any_file_is_read_or_refused_naming_a_line(
            body in proptest::prop_oneof![
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
                "(date,category,amount,note\n)?([0-9-]{0,10},(Food|food|Toys|),[0-9.,-]{0,8},(\"[^\"]{0,6}\"|[^,\n]{0,6})?(\r?\n){0,2}){0,6}"
                    .prop_map(|s: String| s.into_bytes()),
            ]
        ) {
            let names = HashMap::from([("food".to_string(), Uuid::from_u128(1))]);
            match rows(&body, &names, "EUR", 2) {
                Ok(rows) => {
                    for (row, day) in rows {
                        proptest::prop_assert!(row.line >= 2);
                        if row.error.is_none() {
                            proptest::prop_assert!(day.is_some());
                            proptest::prop_assert!(row.category_id.is_some());
                            proptest::prop_assert!((1..=1_000_000_000_000).contains(&row.amount_minor));
                        }
                    }
                }
                Err(message) => proptest::prop_assert!(message.starts_with("line "), "{}", message),
            }
        }
    }
}
