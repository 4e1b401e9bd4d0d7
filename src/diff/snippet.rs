//! Snippets: the lines around a finding, from the new version of its file (read once per file),
//! or from the diff's own added lines when the file cannot be read.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::git::NewFileReader;
use super::{ChangedFile, FileStatus, NewSide};

/// Lines shown before and after a matched line.
const CONTEXT_LINES: u32 = 2;

/// Lines of the new version of a file around a finding, for display and inline acknowledgements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snippet {
    /// Line number of the first line of `text`.
    pub line_start: u32,
    /// Whole lines joined with `\n`, no trailing newline. Shared by the findings on one line.
    pub text: Arc<str>,
}

impl Snippet {
    /// `(line number, text)` for each line of the snippet.
    pub fn lines(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        self.text
            .split('\n')
            .enumerate()
            .map(|(i, l)| (self.line_start + i as u32, l))
    }
}

/// Snippets of the files of one batch of a change, each file read once.
pub struct Snippets<'a> {
    by_path: HashMap<&'a str, &'a ChangedFile>,
    new_side: &'a NewSide,
    reader: &'a NewFileReader,
    texts: HashMap<String, Option<NewText>>,
}

impl<'a> Snippets<'a> {
    pub fn new(files: &'a [ChangedFile], new_side: &'a NewSide, reader: &'a NewFileReader) -> Self {
        Snippets {
            by_path: files.iter().map(|f| (f.path.as_str(), f)).collect(),
            new_side,
            reader,
            texts: HashMap::new(),
        }
    }

    /// The lines around `line` (1-based) of the new version of `path`.
    pub fn at(&mut self, path: &str, line: u32) -> Option<Snippet> {
        snippet_at(
            path,
            line,
            self.by_path.get(path).copied(),
            self.new_side,
            self.reader,
            &mut self.texts,
        )
    }
}

/// A file's text and where each of its lines starts.
struct NewText {
    text: String,
    /// Byte offset of the start of each line, plus one past the end.
    starts: Vec<usize>,
}

impl NewText {
    fn new(bytes: &[u8]) -> NewText {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        if starts.last() != Some(&text.len()) {
            starts.push(text.len());
        }
        NewText { text, starts }
    }

    fn line_count(&self) -> usize {
        self.starts.len() - 1
    }

    /// Lines `first..=last` (1-based), joined with `\n`, without `\r`.
    fn lines(&self, first: u32, last: u32) -> String {
        (first..=last)
            .map(|n| {
                let (s, e) = (self.starts[n as usize - 1], self.starts[n as usize]);
                self.text[s..e]
                    .trim_end_matches('\n')
                    .trim_end_matches('\r')
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Lines around `line` of the new version of `path`, read through `reader` (each file once,
/// kept in `texts`), or from the diff when the file cannot be read.
fn snippet_at(
    path: &str,
    line: u32,
    changed: Option<&ChangedFile>,
    new_side: &NewSide,
    reader: &NewFileReader,
    texts: &mut HashMap<String, Option<NewText>>,
) -> Option<Snippet> {
    // Every line of an added file is in the diff already: no need to read it again.
    if let Some(file) = changed.filter(|c| c.status == FileStatus::Added && !c.binary) {
        return diff_only_snippet(file, line);
    }
    let text = texts.entry(path.to_string()).or_insert_with(|| {
        if *new_side == NewSide::DiffOnly {
            return None;
        }
        reader.read(path).map(|bytes| NewText::new(&bytes))
    });
    match text {
        Some(text) if (line as usize) <= text.line_count() && line > 0 => {
            let first = line.saturating_sub(CONTEXT_LINES).max(1);
            let last = (line + CONTEXT_LINES).min(text.line_count() as u32);
            Some(Snippet {
                line_start: first,
                text: text.lines(first, last).into(),
            })
        }
        _ => changed.and_then(|file| diff_only_snippet(file, line)),
    }
}

/// Without the new file, the added lines next to the match are the best context there is.
fn diff_only_snippet(file: &ChangedFile, line: u32) -> Option<Snippet> {
    let mut first = line;
    while first > 1 && line - first < CONTEXT_LINES && file.added.get(first - 1).is_some() {
        first -= 1;
    }
    let mut text = Vec::new();
    let mut n = first;
    while n <= line + CONTEXT_LINES {
        match file.added.get(n) {
            Some(t) => text.push(t.to_string()),
            None if n <= line => return None,
            None => break,
        }
        n += 1;
    }
    Some(Snippet {
        line_start: first,
        text: text.join("\n").into(),
    })
}
