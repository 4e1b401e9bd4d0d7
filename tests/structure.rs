//! The house keeps its shape: rooms (the top-level modules of `src/`) import each other without
//! a circle, the library's rooms never reach for the command line's types, and no source file
//! outgrows a reader (tests aside).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a source file may grow (test files aside).
const MAX_LINES: usize = 800;

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A test module: `tests.rs`, or any file under a `tests/` folder of `src/`.
fn is_test_file(relative: &Path) -> bool {
    relative.file_name().is_some_and(|n| n == "tests.rs")
        || relative.components().any(|c| c.as_os_str() == "tests")
}

/// The room of a file: the first component under `src/`, without `.rs`.
fn room(relative: &Path) -> String {
    let first = relative.components().next().unwrap().as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_string()
}

/// Every `crate::<room>` a file's code names (in `use` lines and paths alike), tests and
/// comments cut off.
fn rooms_named(text: &str) -> BTreeSet<String> {
    let text = text.split("#[cfg(test)]").next().unwrap_or(text);
    // Comments (doc links included) name rooms without importing them.
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let text = code.as_str();
    let mut out = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
        // `use crate::{a, b::c}` names several rooms at once.
        if let Some(group) = rest.strip_prefix('{') {
            for part in group.split('}').next().unwrap_or("").split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        }
    }
    out
}

/// Rooms by name, with the rooms each imports.
type Arrows = BTreeMap<String, BTreeSet<String>>;

/// The rooms' arrows, and each source file with its length in lines.
fn house() -> (Arrows, Vec<(PathBuf, usize)>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let rooms: BTreeSet<String> = files
        .iter()
        .map(|f| room(f.strip_prefix(&src).unwrap()))
        .collect();
    let mut arrows: Arrows = BTreeMap::new();
    let mut sizes = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        if is_test_file(relative) {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        sizes.push((relative.to_path_buf(), text.lines().count()));
        let from = room(relative);
        let to = arrows.entry(from.clone()).or_default();
        for named in rooms_named(&text) {
            if named != from && rooms.contains(&named) {
                to.insert(named);
            }
        }
    }
    (arrows, sizes)
}

/// A circle of rooms, if there is one (depth-first search, iterative).
fn find_circle(arrows: &Arrows) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    let mut marks: BTreeMap<&str, Mark> = BTreeMap::new();
    for start in arrows.keys() {
        if marks.contains_key(start.as_str()) {
            continue;
        }
        let mut path: Vec<&str> = vec![start];
        let mut stack: Vec<Vec<&str>> =
            vec![arrows[start].iter().map(String::as_str).rev().collect()];
        marks.insert(start, Mark::Open);
        while let Some(next) = stack.last_mut() {
            match next.pop() {
                Some(room) => match marks.get(room) {
                    Some(Mark::Open) => {
                        let at = path.iter().position(|r| *r == room).unwrap();
                        let mut circle: Vec<String> =
                            path[at..].iter().map(|r| r.to_string()).collect();
                        circle.push(room.to_string());
                        return Some(circle);
                    }
                    Some(Mark::Done) => {}
                    None => {
                        marks.insert(room, Mark::Open);
                        path.push(room);
                        stack.push(
                            arrows
                                .get(room)
                                .map(|to| to.iter().map(String::as_str).rev().collect())
                                .unwrap_or_default(),
                        );
                    }
                },
                None => {
                    stack.pop();
                    if let Some(done) = path.pop() {
                        marks.insert(done, Mark::Done);
                    }
                }
            }
        }
    }
    None
}

#[test]
fn rooms_import_each_other_without_a_circle() {
    let (arrows, _) = house();
    assert!(
        arrows.len() > 10,
        "the rooms of src/ were found: {arrows:?}"
    );
    assert_eq!(find_circle(&arrows), None, "{arrows:#?}");
}

#[test]
fn the_finder_of_circles_finds_one() {
    let mut arrows: Arrows = BTreeMap::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")] {
        arrows.entry(from.into()).or_default().insert(to.into());
    }
    let circle = find_circle(&arrows).expect("a → b → c → a");
    assert_eq!(circle.first(), circle.last());
    assert_eq!(circle.len(), 4, "{circle:?}");
    arrows.get_mut("c").unwrap().clear();
    assert_eq!(find_circle(&arrows), None);
}

#[test]
fn the_library_does_not_reach_for_the_command_line() {
    let (arrows, _) = house();
    for library in [
        "diff",
        "rules",
        "engine",
        "output",
        "analysis",
        "workspace",
        "migration",
        "manifest",
        "verify",
        "understand",
        "config",
    ] {
        let named = arrows.get(library).cloned().unwrap_or_default();
        assert!(
            !named.contains("cli") && !named.contains("commands"),
            "{library} imports {named:?}"
        );
    }
}

#[test]
fn no_source_file_outgrows_a_reader() {
    let (_, sizes) = house();
    let long: Vec<_> = sizes.iter().filter(|(_, n)| *n > MAX_LINES).collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:?}");
}
