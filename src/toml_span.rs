//! Located errors for what users write in TOML files (rule packs, `forewarn.toml`, analysis
//! records): TOML parse errors with their span, and globs built and checked the one way the
//! contract promises. Shared by config and rule loading, so neither imports the other for it.

use toml::Spanned;

use crate::error::SourceError;
use crate::glob::build_glob;

/// Turns a TOML parse or shape error into a located error.
pub fn toml_error(path: &str, text: &str, e: &toml::de::Error) -> SourceError {
    let span = e.span().unwrap_or(0..0);
    let message = e.message().trim().to_string();
    let first = message.lines().next().unwrap_or("invalid TOML").to_string();
    SourceError::new(path, text, span, first).label(message)
}

/// Checks one glob, pushing a located error if it does not compile.
pub fn check_glob(path: &str, text: &str, glob: &Spanned<String>, errors: &mut Vec<SourceError>) {
    if let Err(e) = build_glob(glob.get_ref()) {
        errors.push(
            SourceError::new(path, text, glob.span(), "invalid glob")
                .label(e.kind().to_string())
                .help("globs use globset syntax: `*` stays inside one folder, `**` crosses folders, `{a,b}` is a choice"),
        );
    }
}
