//! forewarn: turns the lessons of post-incident analyses into checks that run on a change before
//! it merges.
//!
//! Data flows one way: input ([`diff`]) → rules ([`rules`]) → findings ([`engine`]) →
//! acknowledgements ([`ack`]) → output ([`output`]). The library never prints; commands return
//! what to print and `main` maps the outcome to an exit code.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod ack;
pub mod analysis;
pub mod atomic_write;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diff;
pub mod engine;
pub mod error;
pub mod finding;
pub mod glob;
pub mod manifest;
pub mod migration;
pub mod output;
pub mod rules;
pub mod severity;
pub mod toml_span;
pub mod understand;
pub mod verify;
pub mod workspace;

pub use error::{Error, Result};
pub use finding::Finding;
