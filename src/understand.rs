//! Understanding: between the diff and the rules, files whose structure some rule reads are
//! read whole, on both sides, and parsed: migrations into operations ([`crate::migration`]).
//!
//! Only files that a structured rule can apply to are read and parsed, each once, on every
//! core. Whole texts come from the diff when it holds them (an added file's lines are all of
//! it) and from the change's trees otherwise; a side that cannot be read is said to be so, and
//! never taken for an empty file.

use std::cell::OnceCell;
use std::collections::HashMap;

use rayon::prelude::*;

use crate::diff::revision::{Read, SideReader};
use crate::diff::{ChangeSet, ChangedFile, FileStatus};
use crate::manifest::SideReading;
use crate::migration::{self, Analysis, Profile, Sides, history};

/// Files to read from git before each thread opens readers of its own: below this, opening
/// them costs more than the files take (a backtest's commits).
const PER_THREAD_FILES: usize = 16;

/// Whether reading `files` files is worth a reader on every thread: enough of them, and sides
/// a thread can open cheaply (an index is read once, on the calling thread).
fn worth_readers_per_thread(files: usize, new_side: &crate::diff::NewSide) -> bool {
    files >= PER_THREAD_FILES && !matches!(new_side, crate::diff::NewSide::Index(_))
}

/// What understanding one file gave.
#[derive(Debug, Clone, Default)]
pub struct Understood {
    pub migration: Option<Analysis>,
    /// Deploy configuration (YAML, Helm templates, Terraform) read as documents.
    pub manifest: Option<crate::manifest::Analysis>,
    /// A Helm template: for each new line (index 0 is line 1), whether it sits in a branch the
    /// change opened (opt-in, not every install), for the rules that read it as lines.
    pub template_opt_in: Option<Vec<bool>>,
    /// A deleted deploy file whose folder (or chart) still holds other deploy files after the
    /// change: what it held is removed from something that stays, not retired with it.
    pub scope_stays: bool,
}

impl Understood {
    /// Why the file's structure could not be read, when it could not.
    pub fn unread_reason(&self) -> Option<String> {
        match &self.migration {
            Some(Analysis::Unread { framework, reason }) => Some(format!(
                "this {framework} migration could not be parsed ({reason}), so it was read as lines of text"
            )),
            _ => self
                .manifest
                .as_ref()
                .and_then(|m| m.parse_failure())
                .map(|why| {
                    format!("{why}, so it was read as lines of text and line rules apply to it")
                }),
        }
    }
}

/// Reads and parses the files of one change (see the module documentation).
pub struct Understander {
    /// Opened on first use: most changes (and most commits a backtest replays) hold no
    /// migration, and opening a repository costs more than checking one commit.
    old: std::cell::OnceCell<SideReader>,
    new: std::cell::OnceCell<SideReader>,
    old_side: crate::diff::OldSide,
    new_side: crate::diff::NewSide,
    /// The change is a patch: a file it shows from line 1 may still not be all of the file.
    from_patch: bool,
}

/// A whole side of a file, as read.
enum Text<'a> {
    Absent,
    /// Borrowed from the change's lines when they are all of the file (added or deleted).
    Known(std::borrow::Cow<'a, str>),
    Unreadable(String),
}

impl Understander {
    pub fn open(change: &ChangeSet) -> Understander {
        Understander {
            old: std::cell::OnceCell::new(),
            new: std::cell::OnceCell::new(),
            old_side: change.old_side.clone(),
            new_side: change.new_side.clone(),
            from_patch: matches!(change.new_side, crate::diff::NewSide::Patch(_))
                || matches!(change.old_side, crate::diff::OldSide::Patch(_)),
        }
    }

    fn old_reader(&self) -> &SideReader {
        self.old.get_or_init(|| SideReader::old(&self.old_side))
    }

    fn new_reader(&self) -> &SideReader {
        self.new.get_or_init(|| SideReader::new(&self.new_side))
    }

    /// Understands the files of `files` for which `wanted` holds; the others get `None`.
    /// `profile` is asked for only when some file is wanted.
    pub fn batch<'p>(
        &self,
        files: &[ChangedFile],
        wanted: &[bool],
        profile: impl FnOnce() -> &'p Profile,
    ) -> Vec<Option<Understood>> {
        if !wanted.iter().any(|&w| w) {
            return vec![None; files.len()];
        }
        let profile = profile();
        // Both sides, whether the file was moved in, whether it lies outside what a chart installs.
        let mut texts: Vec<Option<(Text, Text, bool, bool)>> = Vec::with_capacity(files.len());
        let mut history = history::Loaded::default();
        let mut chart_values: ChartDefaults = HashMap::new();
        let mut chart_helpers: ChartHelpers = HashMap::new();
        let mut chart_dirs: HashMap<String, bool> = HashMap::new();
        // Content that was not read as text is reported as such (content-not-checked), not
        // parsed as if it were.
        let read = |file: &ChangedFile, want: bool| want && !file.binary && file.unread.is_none();
        // An added or deleted file's text is its lines, joined; others are read from git, on
        // every thread when each can open its own readers (an index is read once, here) and there
        // are enough of them.
        let (old_side, new_side) = (&self.old_side, &self.new_side);
        let to_read = files
            .iter()
            .zip(wanted)
            .filter(|&(f, &want)| {
                read(f, want) && !matches!(f.status, FileStatus::Added | FileStatus::Deleted)
            })
            .count();
        let per_thread = worth_readers_per_thread(to_read, new_side);
        let joined: Vec<Option<(Text, Text, bool)>> = files
            .par_iter()
            .zip(wanted.par_iter())
            .map_init(
                || (OnceCell::new(), OnceCell::new()),
                |(old, new), (file, &want)| {
                    if !read(file, want) {
                        return None;
                    }
                    match file.status {
                        FileStatus::Added => {
                            Some((Text::Absent, Text::Known(whole(&file.added).into()), false))
                        }
                        FileStatus::Deleted => Some((
                            Text::Known(whole(&file.removed).into()),
                            Text::Absent,
                            false,
                        )),
                        _ if per_thread => {
                            let (old, new): (&OnceCell<_>, &OnceCell<_>) = (old, new);
                            Some(sides(
                                file,
                                || old.get_or_init(|| SideReader::old(old_side)),
                                || new.get_or_init(|| SideReader::new(new_side)),
                            ))
                        }
                        _ => None,
                    }
                },
            )
            .collect();
        for ((file, &want), joined) in files.iter().zip(wanted).zip(joined) {
            if !read(file, want) {
                texts.push(None);
                continue;
            }
            let (old, new, moved_in) =
                joined.unwrap_or_else(|| sides(file, || self.old_reader(), || self.new_reader()));
            if let Text::Known(t) = &new {
                self.load_history(&file.path, t, &mut history);
            }
            let old_path = file.old_path.as_deref();
            self.load_chart_values(&file.path, old_path, [&old, &new], &mut chart_values);
            self.load_chart_helpers(&file.path, old_path, [&old, &new], &mut chart_helpers);
            let not_installed = self.outside_chart_install(&file.path, &mut chart_dirs);
            texts.push(Some((old, new, moved_in, not_installed)));
        }
        history.prepare(|dir| profile.for_path(&format!("{dir}/x.sql")).engine);
        let stays = self.scopes_that_stay(files, wanted);
        let history = &history;
        let from_patch = self.from_patch;
        let mut out: Vec<Option<Understood>> = files
            .par_iter()
            .zip(texts.par_iter())
            .zip(stays.par_iter())
            .map(|((file, sides), &scope_stays)| {
                let (old, new, moved_in, not_installed) = sides.as_ref()?;
                fn pick<'t>(t: &'t Text<'_>) -> Option<&'t str> {
                    match t {
                        Text::Known(s) => Some(s),
                        _ => None,
                    }
                }
                let unreadable = [old, new].into_iter().find_map(|t| match t {
                    Text::Unreadable(why) => Some(why.as_str()),
                    _ => None,
                });
                // A line removed and added again unchanged (a newline at the end of the file,
                // a moved block) is not touched.
                let removed: std::collections::HashSet<&str> =
                    file.removed.iter().map(|(_, t)| t.trim()).collect();
                let touched: Vec<u32> = file
                    .added
                    .iter()
                    .filter(|(_, t)| !removed.contains(t.trim()))
                    .map(|(n, _)| n)
                    .collect();
                let manifest = crate::manifest::applies_to(&file.path).then(|| {
                    let root = crate::manifest::chart_root(&file.path);
                    let defaults = root.and_then(|root| chart_values.get(root));
                    let helpers = root.and_then(|root| chart_helpers.get(root));
                    let values = crate::manifest::ChartValues {
                        old: defaults.and_then(|(old, _)| old.as_ref()),
                        new: defaults.and_then(|(_, new)| new.as_ref()),
                        old_helpers: helpers.and_then(|(old, _)| old.as_ref()),
                        new_helpers: helpers.and_then(|(_, new)| new.as_ref()),
                        not_installed: *not_installed,
                    };
                    let mut a =
                        crate::manifest::analyze(&file.path, &side(old), &side(new), values);
                    if a.leaves_out_lines() {
                        let removed: Vec<u32> = file.removed.iter().map(|(n, _)| n).collect();
                        let added: Vec<u32> = file.added.iter().map(|(n, _)| n).collect();
                        a.read_touched_variant(
                            &file.path,
                            (&side(old), &side(new)),
                            &added,
                            &removed,
                        );
                    }
                    // An added or deleted file's lines are all of it; another's may be cut.
                    if from_patch && !matches!(file.status, FileStatus::Added | FileStatus::Deleted)
                    {
                        a.patch_shows_part();
                    }
                    a
                });
                // A patch's view of a modified file, even from line 1, may stop short of its end:
                // a migration is parsed only when the patch holds all of it.
                let partial =
                    from_patch && !matches!(file.status, FileStatus::Added | FileStatus::Deleted);
                let sides = Sides {
                    path: &file.path,
                    // Renamed or copied: a new migration to the tool that runs it.
                    old: if *moved_in || partial {
                        None
                    } else {
                        pick(old)
                    },
                    new: if partial { None } else { pick(new) },
                    unreadable: if partial {
                        Some("a patch shows only part of a modified file")
                    } else {
                        unreadable
                    },
                    touched: &touched,
                };
                let analysis = migration::analyze(&sides, history, profile);
                let template_opt_in = pick(new)
                    .filter(|t| {
                        is_helm_template(&file.path) && crate::manifest::helm::is_templated(t)
                    })
                    .map(|t| match manifest.as_ref().map(|m| (&m.old, &m.new)) {
                        // Read as documents already, with the branches of each line: no second
                        // reading (the old side too, unless it is absent).
                        Some((old_side, SideReading::Parsed(new_side)))
                            if !new_side.line_guards.is_empty()
                                && (old_side.parsed().is_some()
                                    || matches!(old_side, SideReading::Absent)) =>
                        {
                            (1..=new_side.line_guards.len() as u32)
                                .map(|line| new_side.opens_branch(line, old_side.parsed()))
                                .collect()
                        }
                        _ => crate::manifest::helm::opened_lines(pick(old), t),
                    });
                Some(Understood {
                    migration: analysis,
                    manifest,
                    template_opt_in,
                    scope_stays,
                })
            })
            .collect();
        let mut analyses: Vec<&mut Analysis> = out
            .iter_mut()
            .flatten()
            .filter_map(|u| u.migration.as_mut())
            .collect();
        migration::mark_new_tables(&mut analyses);
        for a in analyses {
            if let Analysis::Parsed { operations, .. } = a {
                migration::sql::mark_validation_in_same_transaction(operations);
            }
        }
        out
    }

    /// For each deleted deploy file of `files` (wanted): whether its folder, or its chart,
    /// still holds another deploy file on the new side (one this batch does not delete too).
    /// Each folder is listed once.
    fn scopes_that_stay(&self, files: &[ChangedFile], wanted: &[bool]) -> Vec<bool> {
        let deleted: std::collections::HashSet<&str> = files
            .iter()
            .filter(|f| f.status == FileStatus::Deleted)
            .map(|f| f.path.as_str())
            .collect();
        let mut listed: HashMap<String, bool> = HashMap::new();
        files
            .iter()
            .zip(wanted)
            .map(|(file, &want)| {
                if !want
                    || file.status != FileStatus::Deleted
                    || !crate::manifest::applies_to(&file.path)
                {
                    return false;
                }
                let scope = crate::manifest::compare::scope(&file.path);
                *listed.entry(scope.clone()).or_insert_with(|| {
                    self.new_reader().list(&scope).is_some_and(|paths| {
                        paths.iter().any(|p| {
                            !deleted.contains(p.as_str()) && crate::manifest::applies_to(p)
                        })
                    })
                })
            })
            .collect()
    }

    /// A Helm template that writes a value whole from the chart's values (`toYaml .Values.x`):
    /// the chart's `values.yaml` on each side, read once per chart, so the template is read
    /// with the defaults a plain install gets.
    /// A file moved with its chart (`old_path`) reads the old side from the chart's old folder.
    fn load_chart_values(
        &self,
        path: &str,
        old_path: Option<&str>,
        texts: [&Text; 2],
        out: &mut ChartDefaults,
    ) {
        let Some(root) = crate::manifest::chart_root(path) else {
            return;
        };
        let old_root = old_root(root, old_path);
        let writes_values = |t: &Text| match t {
            // Values written whole (`toYaml .Values.x`), or branches on them.
            Text::Known(t) => t.contains(".Values"),
            _ => false,
        };
        if out.contains_key(root) || !texts.iter().any(|t| writes_values(t)) {
            return;
        }
        let read = |side: &SideReader, root: &str| match side.read(&in_chart(root, "values.yaml")) {
            Read::Bytes(b) => crate::manifest::yaml::parse(&text_of(b))
                .ok()
                .and_then(|docs| docs.into_iter().next())
                .map(|d| d.root),
            _ => None,
        };
        // Both sides, whichever side this file has: the chart's other templates read them too.
        out.insert(
            root.to_string(),
            (
                read(self.old_reader(), old_root),
                read(self.new_reader(), root),
            ),
        );
    }

    /// A Helm template that writes a block with a helper (`{{- include "app.selectorLabels" .
    /// | nindent 6 }}`): the chart's `templates/_helpers.tpl` on each side, read once per chart.
    /// A file moved with its chart (`old_path`) reads the old side from the chart's old folder.
    fn load_chart_helpers(
        &self,
        path: &str,
        old_path: Option<&str>,
        texts: [&Text; 2],
        out: &mut ChartHelpers,
    ) {
        let Some(root) = crate::manifest::chart_root(path) else {
            return;
        };
        let old_root = old_root(root, old_path);
        let includes = |t: &Text| match t {
            Text::Known(t) => t.contains("include \"") || t.contains("template \""),
            _ => false,
        };
        if out.contains_key(root) || !texts.iter().any(|t| includes(t)) {
            return;
        }
        let read = |side: &SideReader, root: &str| match side
            .read(&in_chart(root, "templates/_helpers.tpl"))
        {
            Read::Bytes(b) => {
                let mut helpers = crate::manifest::helpers::Helpers::new();
                crate::manifest::helpers::collect(&text_of(b), &mut helpers);
                Some(helpers)
            }
            _ => None,
        };
        // Both sides, whichever side this file has: the chart's other templates read them too.
        out.insert(
            root.to_string(),
            (
                read(self.old_reader(), old_root),
                read(self.new_reader(), root),
            ),
        );
    }

    /// Whether a YAML file lies in a Helm chart's folder (a folder above it holds `Chart.yaml`)
    /// without being one of the files the chart reads or installs ([`crate::manifest::chart_reads`]).
    /// `dirs` caches, per folder, whether it holds a `Chart.yaml`.
    fn outside_chart_install(&self, path: &str, dirs: &mut HashMap<String, bool>) -> bool {
        let lower = path.to_ascii_lowercase();
        if !(lower.ends_with(".yaml") || lower.ends_with(".yml"))
            || crate::manifest::chart_reads(path)
        {
            return false;
        }
        let side = if self.new_reader().is_known() {
            self.new_reader()
        } else {
            self.old_reader()
        };
        let mut dir = path;
        while let Some((parent, _)) = dir.rsplit_once('/') {
            dir = parent;
            let holds_chart = *dirs.entry(dir.to_string()).or_insert_with(|| {
                matches!(side.read(&format!("{dir}/Chart.yaml")), Read::Bytes(_))
            });
            if holds_chart {
                return true;
            }
        }
        false
    }

    /// The migrations of folder `dir` that `keep` names, `(file name, text)`, from the new side
    /// (it holds the change's own earlier migrations too). `None` when the folder, or any file
    /// of it, cannot be read: a history with a gap would be replayed wrong, so it is unknown.
    fn read_folder(&self, dir: &str, keep: impl Fn(&str) -> bool) -> Option<Vec<(String, String)>> {
        let from_new = self.new_reader().is_known();
        let side = if from_new {
            self.new_reader()
        } else {
            self.old_reader()
        };
        let paths: Vec<String> = side.list(dir)?.into_iter().filter(|p| keep(p)).collect();
        let read = |side: &SideReader, p: &String| match side.read(p) {
            Read::Bytes(b) => Some((p.rsplit('/').next().unwrap_or(p).to_string(), text_of(b))),
            _ => None,
        };
        // A large folder is read on every thread, each with readers of its own (an index is
        // read once, here).
        if worth_readers_per_thread(paths.len(), &self.new_side) {
            let (old_side, new_side) = (&self.old_side, &self.new_side);
            return paths
                .par_iter()
                .map_init(
                    || {
                        if from_new {
                            SideReader::new(new_side)
                        } else {
                            SideReader::old(old_side)
                        }
                    },
                    |side, p| read(side, p),
                )
                .collect();
        }
        paths.iter().map(|p| read(side, p)).collect()
    }

    /// Reads what a migration's operations are judged against: a Django app's earlier
    /// migrations (when it alters fields), a Rails app's schema dump (when it changes columns).
    fn load_history(&self, path: &str, text: &str, history: &mut history::Loaded) {
        let Some((dir, name)) = path.rsplit_once('/') else {
            return;
        };
        let ends = |ext: &str| {
            path.len() >= ext.len()
                && path.as_bytes()[path.len() - ext.len()..].eq_ignore_ascii_case(ext.as_bytes())
        };
        let wants_django = ends(".py")
            && (text.contains("AlterField")
                || text.contains("AlterUniqueTogether")
                || text.contains("AlterIndexTogether"));
        static TYPE: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
        let type_word = TYPE.get_or_init(|| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build([" TYPE "])
                .expect("a fixed word builds")
        });
        let wants_sql = ends(".sql") && type_word.is_match(text);
        if wants_django || wants_sql {
            history.wanted.insert((dir.to_string(), name.to_string()));
        }
        if (wants_django || wants_sql) && !history.folders.contains_key(dir) {
            let files = self.read_folder(dir, |p| {
                let p = p.to_ascii_lowercase();
                if wants_django {
                    p.ends_with(".py")
                } else {
                    p.ends_with(".sql") && !crate::migration::detect::is_down_file(&p)
                }
            });
            history.folders.insert(dir.to_string(), files);
        }
        if ends(".rb") && text.contains("change_column") {
            let root = path.rsplit_once("db/").map(|(r, _)| r).unwrap_or("");
            let schema = format!("{root}db/schema.rb");
            if let std::collections::hash_map::Entry::Vacant(slot) = history.old_files.entry(schema)
            {
                let text = match self.old_reader().read(slot.key()) {
                    Read::Bytes(b) => Some(text_of(b)),
                    _ => None,
                };
                slot.insert(text);
            }
        }
    }
}

/// Chart root → its named templates on the old and the new side.
type ChartHelpers = HashMap<
    String,
    (
        Option<crate::manifest::helpers::Helpers>,
        Option<crate::manifest::helpers::Helpers>,
    ),
>;

/// Chart root → its default values on the old and the new side.
type ChartDefaults = HashMap<
    String,
    (
        Option<crate::manifest::yaml::Node>,
        Option<crate::manifest::yaml::Node>,
    ),
>;

/// The whole text of a file whose lines are all added (or all removed).
fn whole(lines: &crate::diff::Lines) -> &str {
    lines.all_text()
}

/// Bytes as text: UTF-16 with a byte-order mark decoded (SQL Server tools write migrations so),
/// a UTF-8 byte-order mark dropped, anything else read as UTF-8 with invalid bytes replaced.
/// Valid UTF-8 without a mark keeps its buffer (no copy) unless it holds much more room than
/// it fills.
fn text_of(bytes: Vec<u8>) -> String {
    if let Some(text) = crate::diff::git::decode_utf16(&bytes) {
        return text;
    }
    if bytes.starts_with(b"\xEF\xBB\xBF")
        || crate::diff::Lines::roomy(bytes.len(), bytes.capacity())
    {
        let bom = if bytes.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        return String::from_utf8_lossy(&bytes[bom..]).into_owned();
    }
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn side<'t>(t: &'t Text<'_>) -> crate::manifest::Side<'t> {
    match t {
        Text::Absent => crate::manifest::Side::Absent,
        Text::Known(s) => crate::manifest::Side::Text(s),
        Text::Unreadable(why) => crate::manifest::Side::Unread(why),
    }
}

/// A file of a Helm chart's `templates/` folder (`.yaml`, `.yml`, or a `.tpl` helper).
fn is_helm_template(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".tpl", ".yaml", ".yml"].iter().any(|e| lower.ends_with(e))
        && (lower.contains("/templates/") || lower.starts_with("templates/"))
}

/// Both whole sides of a changed file, and whether it was renamed or copied (its old side is
/// then no earlier version of the migration). The readers are opened only when a side is read.
fn sides<'r, 'f>(
    file: &'f ChangedFile,
    old_reader: impl FnOnce() -> &'r SideReader,
    new_reader: impl FnOnce() -> &'r SideReader,
) -> (Text<'f>, Text<'f>, bool) {
    let read = |side: &SideReader, path: &str| match side.read(path) {
        Read::Absent => Text::Absent,
        Read::Bytes(b) => Text::Known(text_of(b).into()),
        Read::Unreadable(why) => Text::Unreadable(why),
    };
    let new = match file.status {
        FileStatus::Deleted => Text::Absent,
        // An added file's lines are the whole file.
        FileStatus::Added if !file.binary => Text::Known(whole(&file.added).into()),
        _ => read(new_reader(), &file.path),
    };
    let old_path = file.old_path.as_deref().unwrap_or(&file.path);
    let old = match file.status {
        FileStatus::Added => Text::Absent,
        FileStatus::Deleted if !file.binary => Text::Known(whole(&file.removed).into()),
        _ => read(old_reader(), old_path),
    };
    // A migration renamed, moved or copied is a new one to the tool that runs it (Django,
    // Rails, Flyway and the rest track migrations by name or version): all of its operations
    // run again where the old name was already applied. Deploy configuration keeps its real
    // old side (a moved object is the same object).
    let moved_in = matches!(file.status, FileStatus::Renamed | FileStatus::Copied);
    (old, new, moved_in)
}

/// The path of `file` in the chart at `root` (`""`: the repository's root).
fn in_chart(root: &str, file: &str) -> String {
    if root.is_empty() {
        file.to_string()
    } else {
        format!("{root}/{file}")
    }
}

/// The chart folder a file's old side lies in: the one its old path names when the file was
/// moved with its chart, else `root`.
fn old_root<'p>(root: &'p str, old_path: Option<&'p str>) -> &'p str {
    old_path
        .and_then(crate::manifest::chart_root)
        .unwrap_or(root)
}
