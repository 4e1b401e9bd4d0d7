//! `forewarn report --format html`: one self-contained page a facilitator can open or attach to
//! the review's notes. Inline CSS and inline SVG, no script, no request to anywhere (a content
//! security policy says so to the browser too). Every text from records, rules and the ledger is
//! escaped.

use std::fmt::Write as _;

use super::{Report, RuleStats, date, short};
use crate::analysis::backtest::CulpritOutcome;
use crate::analysis::links::one_line;

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { --fired: #5b7fb5; --acked: #4a2500; --held: #b3261e; --chart: #f3f4f8; --ink: #1d2330; --muted: #5f6878; --line: #d9dde5; --bg: #fbfbfd; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 8px; }
.meta { color: var(--muted); margin: 0 0 8px; }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eef0f5; padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; max-width: 100%; }
p, li, h1, h2, h3, blockquote { overflow-wrap: anywhere; }
@media (max-width: 600px) { main { padding: 16px 12px 48px; } .card { min-width: 0; flex: 1 1 140px; } th, td { padding: 6px 6px; } }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 18px 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 170px; }
.card b { display: block; font-size: 24px; }
.card.alert b { color: #b3261e; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid var(--line); }
th { font-weight: 600; color: var(--muted); font-size: 13px; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.none { color: #b3261e; font-weight: 600; }
.ok { color: #2e7d32; }
.legend span { display: inline-block; margin-right: 16px; color: var(--muted); }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px; border-radius: 2px; }
svg.chart { display: block; width: 100%; min-width: 120px; height: 44px; background: var(--chart); border-radius: 4px; }
svg.chart rect.held { fill: var(--held); }
svg.chart rect.fired { fill: var(--fired); }
svg.chart rect.acknowledged { fill: var(--acked); }
.axis { display: flex; justify-content: space-between; color: var(--muted); font-size: 12px; }
.held-mark { color: var(--held); }
ul.plain { padding-left: 20px; }
blockquote { margin: 4px 0; color: var(--muted); }
"#;

/// Bar width and gap in the chart's own units.
const BAR: usize = 10;
const GAP: usize = 2;
const HEIGHT: usize = 40;

fn chart(rule: &RuleStats, buckets: &[String], max: usize, marks: &[(usize, String)]) -> String {
    let width = (buckets.len() * (BAR + GAP)).max(1);
    let mut svg = format!(
        "<svg class=\"chart\" data-rule=\"{}\" viewBox=\"0 0 {width} {HEIGHT}\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"{} fired {} times, acknowledged {} times\">",
        esc(&rule.id),
        esc(&rule.id),
        rule.fired,
        rule.acknowledged
    );
    let scale = |n: usize| ((n * HEIGHT) as f64 / max.max(1) as f64).ceil() as usize;
    for (i, ((fired, acked), label)) in rule.series.iter().zip(buckets).enumerate() {
        if *fired == 0 {
            continue;
        }
        let x = i * (BAR + GAP);
        let _ = write!(
            svg,
            "<g data-bucket=\"{label}\"><title>{label}: fired {fired}, acknowledged {acked}</title><rect class=\"fired\" data-count=\"{fired}\" x=\"{x}\" y=\"{}\" width=\"{BAR}\" height=\"{}\"/>",
            HEIGHT - scale(*fired),
            scale(*fired),
            label = esc(label),
        );
        if *acked > 0 {
            let _ = write!(
                svg,
                "<rect class=\"acknowledged\" data-count=\"{acked}\" x=\"{x}\" y=\"{}\" width=\"{BAR}\" height=\"{}\"/>",
                HEIGHT - scale(*acked),
                scale(*acked)
            );
        }
        svg.push_str("</g>");
    }
    // Each review on the axis, as a thin line across the chart.
    for (bucket, label) in marks {
        let _ = write!(
            svg,
            "<rect class=\"held\" x=\"{}\" y=\"0\" width=\"1\" height=\"{HEIGHT}\"><title>{}</title></rect>",
            bucket * (BAR + GAP) + BAR / 2,
            esc(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn verdict(c: &CulpritOutcome) -> String {
    match (&c.not_replayed, c.caught_by.as_slice()) {
        (Some(why), _) => format!("not replayed: {}", esc(why)),
        (None, []) => "<span class=\"none\">no rule catches it</span>".to_string(),
        (None, rules) => format!(
            "<span class=\"ok\">caught by</span> {}",
            rules
                .iter()
                .map(|r| format!("<code>{}</code>", esc(r)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The page.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"forewarn {}\">\n<title>forewarn report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "<h1>forewarn report</h1>");
    let _ = writeln!(
        out,
        "<p class=\"meta\">Generated {} from {}.</p>",
        esc(&report.generated),
        esc(&report.sources())
    );
    let fired_total: usize = report.rules.iter().map(|r| r.fired).sum();
    let acked_total: usize = report.rules.iter().map(|r| r.acknowledged).sum();
    let resolved_total: usize = report.rules.iter().map(|r| r.resolved_before_merge).sum();
    let _ = writeln!(out, "<div class=\"cards\">");
    for (id, value, label, alert) in [
        ("card-fired", fired_total, "findings fired", false),
        ("card-acknowledged", acked_total, "acknowledged", false),
        (
            "card-resolved",
            resolved_total,
            "resolved before merge",
            false,
        ),
        (
            "card-never-fired",
            report.never_fired.len(),
            "rules never fired",
            false,
        ),
        (
            "card-uncaught",
            report.uncaught_culprits.len(),
            "culprit commits no rule catches",
            !report.uncaught_culprits.is_empty(),
        ),
        (
            "card-unlinked",
            report.findings_without_rule.len(),
            "findings with no rule",
            !report.findings_without_rule.is_empty(),
        ),
    ] {
        let _ = writeln!(
            out,
            "<div class=\"card{}\" id=\"{id}\"><b>{value}</b>{label}</div>",
            if alert { " alert" } else { "" }
        );
    }
    let _ = writeln!(out, "</div>");

    // The chart: one row per rule that fired, bars per time bucket on a shared axis and scale.
    let _ = writeln!(
        out,
        "<section id=\"over-time\">\n<h2>Fires and acknowledgements over time</h2>"
    );
    let fired: Vec<&RuleStats> = report.rules.iter().filter(|r| r.fired > 0).collect();
    if fired.is_empty() {
        let _ = writeln!(
            out,
            "<p>No rule has fired yet in the ledger or in history. Run <code>forewarn check --record</code> in CI so each finding is recorded.</p>"
        );
    } else {
        let max = fired
            .iter()
            .flat_map(|r| r.series.iter().map(|s| s.0))
            .max()
            .unwrap_or(1);
        let _ = writeln!(
            out,
            "<p class=\"legend\"><span><i style=\"background:var(--fired)\"></i>fired (whole bar)</span><span><i style=\"background:var(--acked)\"></i>of which acknowledged</span><span>tallest bar: {max}</span></p>"
        );
        let _ = writeln!(
            out,
            "<div class=\"scroll\">\n<table class=\"charts\">\n<tr><th>rule</th><th>fired</th><th>ack.</th><th style=\"width:60%\">over time</th></tr>"
        );
        for r in &fired {
            let _ = writeln!(
                out,
                "<tr class=\"rule-row\" data-rule=\"{}\"><td><code>{}</code></td><td class=\"n fired\">{}</td><td class=\"n acknowledged\">{}</td><td>{}</td></tr>",
                esc(&r.id),
                esc(&r.id),
                r.fired,
                r.acknowledged,
                chart(r, &report.buckets, max, &report.held_marks)
            );
        }
        let (first, last) = (
            report.buckets.first().map(String::as_str).unwrap_or(""),
            report.buckets.last().map(String::as_str).unwrap_or(""),
        );
        let _ = writeln!(
            out,
            "<tr><td colspan=\"3\"></td><td><div class=\"axis\"><span>{}</span><span>{}</span></div></td></tr>\n</table>\n</div>",
            esc(first),
            esc(last)
        );
        for (_, label) in &report.held_marks {
            let _ = writeln!(
                out,
                "<p class=\"legend held-mark\">│ analysis {}</p>",
                esc(label)
            );
        }
        if report.not_drawn > 0 {
            let _ = writeln!(
                out,
                "<p class=\"meta\" id=\"not-drawn\">{} older (commit trailers before the first ledger event and review) counted in the totals, not drawn.</p>",
                crate::analysis::links::plural(report.not_drawn, "fire or acknowledgement")
            );
        }
    }
    let _ = writeln!(out, "</section>");

    let _ = writeln!(out, "<section id=\"analyses\">");
    for a in &report.analyses {
        let _ = writeln!(
            out,
            "<h2 class=\"analysis\" id=\"analysis-{}\">{}: {}</h2>\n<p class=\"meta\">Status {} · held {} · <code>{}</code></p>",
            esc(&a.id),
            esc(&a.id),
            esc(&a.title),
            esc(a.status),
            esc(a.held.as_deref().unwrap_or("(no date)")),
            esc(&a.file)
        );
        if a.findings.is_empty() {
            let _ = writeln!(out, "<p>No findings yet.</p>");
        } else {
            let _ = writeln!(
                out,
                "<div class=\"scroll\">\n<table class=\"findings\">\n<tr><th>finding</th><th>question</th><th>rule</th><th>fired</th><th>ack.</th><th>last fired</th></tr>"
            );
            for f in &a.findings {
                let what = format!(
                    "<b>{}</b> {}{}",
                    esc(&f.id),
                    esc(&one_line(&f.text, 140)),
                    if f.lesson.trim().is_empty() {
                        String::new()
                    } else {
                        format!(
                            "<blockquote>{}</blockquote>",
                            esc(&one_line(&f.lesson, 140))
                        )
                    }
                );
                if f.rules.is_empty() {
                    let _ = writeln!(
                        out,
                        "<tr class=\"finding unlinked\" data-link=\"{}\"><td>{what}</td><td>{}</td><td colspan=\"4\"><span class=\"none\">no rule yet</span>: <code>forewarn rule new &lt;id&gt; --finding {}</code></td></tr>",
                        esc(&f.link),
                        esc(f.question),
                        esc(&f.link)
                    );
                }
                for id in &f.rules {
                    let stats = report.rule(id);
                    let _ = writeln!(
                        out,
                        "<tr class=\"finding\" data-link=\"{}\"><td>{what}</td><td>{}</td><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                        esc(&f.link),
                        esc(f.question),
                        esc(id),
                        stats.map_or(0, |s| s.fired),
                        stats.map_or(0, |s| s.acknowledged),
                        esc(stats
                            .and_then(|s| s.last_fired.as_deref())
                            .map(date)
                            .unwrap_or("never"))
                    );
                }
            }
            let _ = writeln!(out, "</table>\n</div>");
        }
        if !a.culprits.is_empty() {
            let _ = writeln!(
                out,
                "<h3>Culprit commits</h3>\n<ul class=\"plain culprits\">"
            );
            for c in &a.culprits {
                let _ = writeln!(
                    out,
                    "<li><code>{}</code> ({}): {}</li>",
                    esc(&c.commit),
                    c.role.as_str(),
                    verdict(c)
                );
            }
            let _ = writeln!(out, "</ul>");
        }
        if let Some(h) = &a.hotspots {
            let _ = writeln!(
                out,
                "<h3>Hotspots</h3>\n<p class=\"hotspots\">{}: touched by {} ({} acknowledged)</p>",
                esc(&h.since),
                esc(&crate::analysis::links::plural(h.changes, "change")),
                h.acknowledged
            );
            if !h.paths.is_empty() {
                let _ = writeln!(out, "<ul class=\"plain hotspots\">");
                for (path, n) in &h.paths {
                    let _ = writeln!(out, "<li><code>{}</code> ({n})</li>", esc(path));
                }
                let _ = writeln!(out, "</ul>");
            }
        }
    }
    let _ = writeln!(out, "</section>");

    let _ = writeln!(
        out,
        "<section id=\"reasons\">\n<h2>Why findings were acknowledged</h2>"
    );
    let with_reasons: Vec<&RuleStats> = report
        .rules
        .iter()
        .filter(|r| !r.reasons.is_empty())
        .collect();
    if with_reasons.is_empty() {
        let _ = writeln!(out, "<p>No acknowledgements yet.</p>");
    } else {
        let _ = writeln!(
            out,
            "<div class=\"scroll\">\n<table>\n<tr><th>rule</th><th>reason</th><th>where</th><th>times</th><th>last</th></tr>"
        );
        for r in with_reasons {
            for reason in &r.reasons {
                let _ = writeln!(
                    out,
                    "<tr class=\"reason\"><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                    esc(&r.id),
                    esc(&reason.reason),
                    esc(&reason.source),
                    reason.count,
                    esc(date(&reason.last))
                );
            }
        }
        let _ = writeln!(out, "</table>\n</div>");
    }
    let _ = writeln!(out, "</section>");

    let _ = writeln!(
        out,
        "<section id=\"never-fired\">\n<h2>Rules that never fired</h2>"
    );
    if report.never_fired.is_empty() {
        let _ = writeln!(out, "<p>Every rule in force has fired.</p>");
    } else {
        // The team's rules first and open; shipped rules folded, so they do not bury them.
        for builtin in [false, true] {
            let quiet: Vec<&RuleStats> = report
                .rules
                .iter()
                .filter(|r| r.fired == 0 && r.origin.is_some() && r.builtin == builtin)
                .collect();
            if quiet.is_empty() {
                continue;
            }
            if builtin {
                let _ = writeln!(
                    out,
                    "<details><summary>{} built-in rules</summary>",
                    quiet.len()
                );
            }
            let _ = writeln!(out, "<ul class=\"plain\">");
            for r in quiet {
                let _ = writeln!(
                    out,
                    "<li class=\"never-fired\" data-rule=\"{}\"><code>{}</code> {} <span class=\"meta\">{}</span></li>",
                    esc(&r.id),
                    esc(&r.id),
                    esc(&r.title),
                    esc(r.origin.as_deref().unwrap_or(""))
                );
            }
            let _ = writeln!(out, "</ul>");
            if builtin {
                let _ = writeln!(out, "</details>");
            }
        }
    }
    let _ = writeln!(out, "</section>");

    let _ = writeln!(
        out,
        "<section id=\"uncaught-culprits\">\n<h2>Culprit commits no rule catches</h2>"
    );
    if report.uncaught_culprits.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"ok\">None: every culprit commit is caught by a rule in force.</p>"
        );
    } else {
        let _ = writeln!(out, "<ul class=\"plain\">");
        for c in &report.uncaught_culprits {
            let _ = writeln!(
                out,
                "<li class=\"culprit\"><code>{}</code> of {} ({}): {}</li>",
                esc(&short(&c.commit)),
                esc(&c.analysis),
                c.role.as_str(),
                verdict(c)
            );
        }
        let _ = writeln!(out, "</ul>");
    }
    let _ = writeln!(out, "</section>");

    let _ = writeln!(
        out,
        "<section id=\"findings-without-rule\">\n<h2>Findings with no rule</h2>"
    );
    if report.findings_without_rule.is_empty() {
        let _ = writeln!(out, "<p class=\"ok\">None: every finding has a rule.</p>");
    } else {
        let _ = writeln!(out, "<ul class=\"plain\">");
        for link in &report.findings_without_rule {
            let _ = writeln!(
                out,
                "<li class=\"unlinked\"><code>{}</code></li>",
                esc(link)
            );
        }
        let _ = writeln!(out, "</ul>");
    }
    let _ = writeln!(out, "</section>");
    if !report.warnings.is_empty() {
        let _ = writeln!(
            out,
            "<section id=\"notes\">\n<h2>Notes</h2>\n<ul class=\"plain\">"
        );
        for w in &report.warnings {
            let _ = writeln!(out, "<li>{}</li>", esc(w));
        }
        let _ = writeln!(out, "</ul>\n</section>");
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::ledger::{Event, Kind};
    use crate::analysis::record::Analyses;
    use crate::analysis::report::{Inputs, build};
    use crate::rules::Severity;

    #[test]
    fn escapes_everything_it_is_given() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        let events = vec![Event {
            version: 1,
            time: "2024-04-01T10:00:00Z".into(),
            kind: Kind::Acknowledged,
            rule: "<script>alert(1)</script>".into(),
            rule_version: String::new(),
            findings: vec![],
            severity: Severity::Error,
            fingerprint: "f".into(),
            path: None,
            commit: None,
            pull_request: None,
            reason: Some("</td><img src=x onerror=alert(1)>".into()),
            ack_source: Some("inline".into()),
            ack_commit: None,
            present: vec![],
            forewarn: String::new(),
        }];
        let analyses = Analyses::default();
        let report = build(Inputs {
            analyses: &analyses,
            rules: &[],
            events: &events,
            history_acks: &[],
            history_commits: 0,
            culprits: &[],
            warnings: vec![],
            generated: "now".into(),
        });
        let page = render(&report);
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("<svg class=\"chart\""));
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "no network"
        );
    }
}
