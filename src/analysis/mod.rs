//! The facilitator's half of forewarn: analysis records, the links between their findings and the
//! rules born from them, and what those rules caught since.
//!
//! [`record`] loads records with spans; [`links`] checks rule ↔ finding links and culprit commits;
//! [`template`] writes a new record; [`scaffold`] turns a finding into a rule file; [`backtest`]
//! replays rules over history; [`ledger`] records what checks caught; [`report`] reads it all
//! back for the next review.

pub mod backtest;
pub mod hotspots;
pub mod ledger;
pub mod links;
pub mod record;
pub mod report;
pub mod scaffold;
pub mod tables;
pub mod template;

pub use record::{Analyses, Analysis, AnalysisFinding, Culprit};
