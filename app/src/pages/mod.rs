//! The pages: [`budget`] (the family's live budget, the main module's page, with its parts),
//! [`performance`] (the admin monitor) and [`simple`] (the start page, signing in and up, the
//! family's page, the offline page).

pub mod budget;
pub mod performance;
pub mod simple;
