//! `forewarn analysis new`: a record to fill in, written so that filling it in walks the review.
//!
//! The comments ask the review's questions about the system (what kept the change from being a
//! safe experiment, what misled the responders), never about who did what. The result loads as a
//! draft straight away; `forewarn validate` says what is still empty.

/// A TOML basic string for `s`: quotes, backslashes and control characters escaped.
pub fn basic_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The id `analysis new` proposes: the month of `today`, then the title's words.
pub fn default_id(title: &str, today: jiff::civil::Date) -> String {
    let slug = super::record::slug(title);
    let slug: String = slug
        .split('-')
        .scan(0usize, |len, word| {
            *len += word.len() + 1;
            (*len <= 48).then_some(word)
        })
        .collect::<Vec<_>>()
        .join("-");
    let month = format!("{:04}-{:02}", today.year(), today.month());
    if slug.is_empty() {
        format!("{month}-incident")
    } else {
        format!("{month}-{slug}")
    }
}

/// The text of a new record.
pub fn render(id: &str, title: &str, today: jiff::civil::Date) -> String {
    let id = basic_string(id);
    let title = basic_string(title);
    format!(
        r##"# Analysis record, written by `forewarn analysis new`. Fill it in during the review.
#
# It speaks of systems, signals and decisions, never of who made a mistake: write "the deploy
# reached every host at once", not "X deployed to every host". People acted on what the system
# showed them at the time; the record asks what that was.
#
# `forewarn validate` checks this file (and lists what is still empty while status = "draft").
# `forewarn rule new <rule-id> --finding {id_bare}#F1 --from-culprit` turns a finding into a rule.

id = {id}
title = {title}
status = "draft"                    # draft | reviewed | closed
held = {today}                      # the day the review met; a day or two after, not during
# Who took part, by role: each saw a different part of the system. Roles, not names.
perspectives = []                   # e.g. ["backend", "on-call", "support", "release"]

# ─── Timeline ────────────────────────────────────────────────────────────────────────────────
# What happened, in order. Give every entry the source it comes from (deploy log, alert, chat,
# dashboard, ticket), so the record can be checked later. Copy this table for each entry.
[[timeline]]
at = {today}T00:00:00Z
source = ""                         # where this is written down
text = ""                           # what the system did, and what the responders could see

# ─── Culprit commits ─────────────────────────────────────────────────────────────────────────
# The change(s) that set the incident off, or that made it possible earlier. `forewarn backtest`
# replays rules over them to see which rule would have flagged them before they merged.
# [[culprit]]
# commit = "3f9c2e1"                # as `git log --oneline` shows it
# role = "trigger"                  # trigger: set it off | latent: made it possible, earlier
# # repository = "payments-api"     # only when the commit lives in another repository

# ─── Findings ────────────────────────────────────────────────────────────────────────────────
# What the review learned about the system. Each finding answers one question; a finding that
# a check could catch before merge becomes a rule (`forewarn rule new`).

# What kept the team from running this change as a safe experiment? (no canary or staged
# rollout, no flag to turn it off, no way to roll back, a manual step nobody could see...)
[[finding]]
id = "F1"
question = "prevented-safe-experiment"
text = ""
lesson = ""

# What information misled the responders, or was missing when they needed it? (a dashboard
# that stayed green, an alert on the wrong signal, a change not marked as having deploy impact)
[[finding]]
id = "F2"
question = "misleading-signal"      # misleading-signal | missing-signal | other
text = ""
lesson = ""

# ─── Actions ─────────────────────────────────────────────────────────────────────────────────
# What the team will change, each tied to the finding it answers.
# [[action]]
# id = "A1"
# finding = "F1"
# text = ""
# status = "open"                   # open | done | dropped
# tracker = "https://tracker.example/TICKET-1"
"##,
        id_bare = id.trim_matches('"'),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::record;
    use crate::rules::load::RuleFile;

    #[test]
    fn ids_from_titles() {
        let day = jiff::civil::date(2024, 5, 2);
        assert_eq!(
            default_id("Checkout errors after the 4.2 release", day),
            "2024-05-checkout-errors-after-the-4-2-release"
        );
        assert_eq!(default_id("!!!", day), "2024-05-incident");
        assert!(default_id(&"word ".repeat(40), day).len() <= 56);
    }

    #[test]
    fn template_loads_as_a_draft_that_names_what_is_empty() {
        let text = render(
            "2024-05-x",
            "A \"quoted\" title \\ with a backslash",
            jiff::civil::date(2024, 5, 2),
        );
        let set = record::load(&[RuleFile {
            path: "new.toml".into(),
            text,
            builtin: false,
        }])
        .unwrap();
        let a = &set.records[0];
        assert_eq!(a.title, "A \"quoted\" title \\ with a backslash");
        assert_eq!(a.status, record::Status::Draft);
        assert_eq!(a.findings.len(), 2);
        assert_eq!(a.held.as_deref(), Some("2024-05-02"));
        // source and text of the timeline entry, text of both findings.
        assert_eq!(set.warnings.len(), 4, "{:?}", set.warnings);
    }
}
