//! The one error type. Every variant carries what the user needs to fix the problem: what went
//! wrong, where (file:line:column or git ref), and how to fix it. `main` renders it and exits 2.

use std::ops::Range;
use std::path::PathBuf;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// A problem in a file the user wrote (rule pack, config, analysis record), with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// Path as shown to the user (repo-relative where possible, or `builtin:rules/x.toml`).
    pub path: String,
    /// The whole text of the file, so the error can be drawn with its line.
    pub text: String,
    /// Byte range in `text`; clamped before drawing.
    pub span: Range<usize>,
    pub message: String,
    /// Short label under the span.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl SourceError {
    pub fn new(
        path: impl Into<String>,
        text: impl Into<String>,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        SourceError {
            path: path.into(),
            text: text.into(),
            span,
            message: message.into(),
            label: String::new(),
            help: None,
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// 1-based (line, column) of the start of the span.
    pub fn line_col(&self) -> (usize, usize) {
        line_col(&self.text, self.span.start)
    }
}

/// 1-based line and column (in characters) of a byte offset; offsets past the end are clamped.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more problems in files the user wrote; all are reported, not just the first.
    #[error("{}", summarize(.0))]
    Source(Vec<SourceError>),

    /// A bad command line or an input that cannot be used.
    #[error("{message}")]
    Usage {
        message: String,
        help: Option<String>,
    },

    /// The repository cannot give what was asked (missing ref, no merge base, shallow clone).
    #[error("{message}")]
    Repository {
        message: String,
        help: Option<String>,
    },

    /// A file could not be read or written.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
        help: Option<String>,
    },
}

fn summarize(errors: &[SourceError]) -> String {
    match errors {
        [one] => {
            let (line, col) = one.line_col();
            format!("{}:{line}:{col}: {}", one.path, one.message)
        }
        many => format!("{} problems in rule, config or analysis files", many.len()),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn usage(message: impl Into<String>, help: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            help: Some(help.into()),
        }
    }

    pub fn repository(message: impl Into<String>, help: impl Into<String>) -> Self {
        Error::Repository {
            message: message.into(),
            help: Some(help.into()),
        }
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
            help: None,
        }
    }

    /// Draws the error the way rustc draws its own: with the file, line, column and a help line.
    pub fn render(&self, color: bool) -> String {
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        match self {
            Error::Source(errors) => {
                let mut out = String::new();
                for e in errors {
                    out.push_str(&render_source_error(&renderer, e));
                    out.push('\n');
                }
                if errors.len() > 1 {
                    out.push_str(&format!(
                        "error: {} problems found; nothing was checked\n",
                        errors.len()
                    ));
                }
                out
            }
            Error::Usage { help, .. } | Error::Repository { help, .. } | Error::Io { help, .. } => {
                let title = self.to_string();
                let mut group = Group::with_title(Level::ERROR.primary_title(title));
                if let Some(help) = help {
                    group = group.element(Level::HELP.message(help.as_str()));
                }
                let mut s = renderer.render(&[group]);
                s.push('\n');
                s
            }
        }
    }
}

fn render_source_error(renderer: &Renderer, e: &SourceError) -> String {
    let text = e.text.as_str();
    let mut start = e.span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = e.span.end.clamp(start, text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let title = e.message.as_str();
    let mut groups = vec![
        Level::ERROR.primary_title(title).element(
            Snippet::source(text)
                .path(e.path.as_str())
                .line_start(1)
                .fold(true)
                .annotation(
                    AnnotationKind::Primary
                        .span(start..end)
                        .label(e.label.as_str()),
                ),
        ),
    ];
    if let Some(help) = &e.help {
        groups[0] = groups[0]
            .clone()
            .element(Level::HELP.message(help.as_str()));
    }
    renderer.render(&groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one_and_clamps() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 9), (2, 3));
        assert_eq!(line_col(text, 1000), (3, 1));
    }

    #[test]
    fn source_error_names_file_line_and_help() {
        let e = Error::Source(vec![
            SourceError::new("rules/x.toml", "[[rule]]\nid = 3\n", 14..15, "bad id")
                .label("expected a string")
                .help("write id = \"kebab-case\""),
        ]);
        let out = e.render(false);
        assert!(out.contains("--> rules/x.toml:2:6"), "{out}");
        assert!(out.contains("expected a string"), "{out}");
        assert!(out.contains("help: write id"), "{out}");
        assert_eq!(e.to_string(), "rules/x.toml:2:6: bad id");
    }

    #[test]
    fn span_past_the_end_does_not_panic() {
        let e = Error::Source(vec![SourceError::new("f.toml", "x", 50..90, "m")]);
        assert!(e.render(false).contains("f.toml"));
    }
}
