//! `summary.html`: the run summary as one self-contained page, for readers who never open a CSV.
//!
//! The page has no scripts, no external assets and no URLs, so it opens offline from a file share
//! or a mail attachment and prints cleanly. Charts are inline SVG bars built here by hand; every
//! piece of text that comes from data (ids, names, the job name) goes through [`escape`].

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::record::ConversationLabel;
use crate::report::{AgentMissing, Summary};

/// Width in pixels of the longest bar of a chart; other bars scale linearly from it.
pub const BAR_MAX: f64 = 560.0;
const ROW_H: usize = 22;
/// Labels longer than this are shortened in charts (tables always show them in full).
const CHART_LABEL_CHARS: usize = 38;
/// Shown for a missing queue or media type, matching what the pipeline is asked to use.
const NONE_KEY: &str = "(none)";

/// Where a label stands with respect to the wrap-up code: the three colours of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A code is present (chosen by the agent, or a system literal).
    Coded,
    /// No code, and none was expected.
    ByDesign,
    /// No code in analytics where one was expected, or nobody could tell: worth chasing.
    Gap,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Coded, Kind::ByDesign, Kind::Gap];

    fn class(self) -> &'static str {
        match self {
            Kind::Coded => "coded",
            Kind::ByDesign => "design",
            Kind::Gap => "gap",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Coded => "has a code",
            Kind::ByDesign => "null by design",
            Kind::Gap => "gap",
        }
    }
}

/// The kind of a conversation label. Unknown spellings count as gaps so they stay visible.
pub fn conversation_kind(label: &str) -> Kind {
    match ConversationLabel::parse(label) {
        Some(ConversationLabel::Coded | ConversationLabel::System | ConversationLabel::Timeout) => {
            Kind::Coded
        }
        Some(l) if l.null_by_design() => Kind::ByDesign,
        _ => Kind::Gap,
    }
}

/// Leg labels in the order the page lists them, mirroring [`ConversationLabel::ALL`].
const LEG_ORDER: [&str; 12] = [
    "coded",
    "system",
    "timeout",
    "recovered",
    "skipped",
    "not_required",
    "no_wrapup_phase",
    "not_connected",
    "pending",
    "missing",
    "unexplained",
    "lookup_failed",
];

/// The kind of a leg label (contract §1).
pub fn leg_kind(label: &str) -> Kind {
    match label {
        "coded" | "system" | "timeout" => Kind::Coded,
        "pending" | "skipped" | "not_connected" | "no_wrapup_phase" | "not_required" => {
            Kind::ByDesign
        }
        _ => Kind::Gap,
    }
}

/// Escapes text for HTML element content and quoted attribute values alike.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The `n` agents with the most missing legs, most first (ties by agent id), for
/// [`Summary::top_missing_agents`].
pub fn top_missing_agents(missing_by_agent: &BTreeMap<String, u64>, n: usize) -> Vec<AgentMissing> {
    let mut v: Vec<AgentMissing> = missing_by_agent
        .iter()
        .filter(|(_, m)| **m > 0)
        .map(|(a, m)| AgentMissing {
            agent: a.clone(),
            missing: *m,
        })
        .collect();
    v.sort_by(|a, b| {
        b.missing
            .cmp(&a.missing)
            .then_with(|| a.agent.cmp(&b.agent))
    });
    v.truncate(n);
    v
}

/// One row of a bar chart: a label and one or more stacked segments (count, CSS class, name).
pub struct BarRow {
    pub label: String,
    pub segments: Vec<(u64, &'static str, &'static str)>,
}

impl BarRow {
    fn single(label: &str, value: u64, class: &'static str) -> BarRow {
        BarRow {
            label: label.to_string(),
            segments: vec![(value, class, "")],
        }
    }

    fn by_kind(label: &str, counts: &KindCounts) -> BarRow {
        BarRow {
            label: label.to_string(),
            segments: Kind::ALL
                .iter()
                .map(|k| (counts.get(*k), k.class(), k.title()))
                .collect(),
        }
    }

    fn total(&self) -> u64 {
        self.segments.iter().map(|s| s.0).sum()
    }
}

/// A horizontal bar chart; every segment's width is proportional to its count, and the longest
/// row is [`BAR_MAX`] pixels wide.
pub fn bar_chart(title: &str, rows: &[BarRow]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let scale = rows.iter().map(BarRow::total).max().unwrap_or(0).max(1) as f64;
    let longest = rows
        .iter()
        .map(|r| r.label.chars().count().min(CHART_LABEL_CHARS + 1))
        .max()
        .unwrap_or(0);
    let label_w = (longest * 7 + 16).clamp(60, 300) as f64;
    let width = label_w + BAR_MAX + 70.0;
    let height = rows.len() * ROW_H + 6;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    for (i, row) in rows.iter().enumerate() {
        let y = (i * ROW_H + 3) as f64;
        let label = shorten(&row.label);
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            label_w - 8.0,
            y + 14.0,
            escape(&label)
        );
        let mut x = label_w;
        for (value, class, name) in &row.segments {
            if *value == 0 {
                continue;
            }
            let w = *value as f64 / scale * BAR_MAX;
            let what = if name.is_empty() {
                String::new()
            } else {
                format!(" {name}")
            };
            let _ = write!(
                svg,
                r#"<rect class="bar {class}" x="{x:.2}" y="{}" width="{w:.2}" height="16" data-value="{value}"><title>{}:{} {value}</title></rect>"#,
                y + 1.0,
                escape(&row.label),
                escape(&what)
            );
            x += w;
        }
        let _ = write!(
            svg,
            r#"<text class="value" x="{:.2}" y="{}">{}</text>"#,
            x + 6.0,
            y + 14.0,
            row.total()
        );
    }
    svg.push_str("</svg>");
    svg
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= CHART_LABEL_CHARS {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(CHART_LABEL_CHARS - 1).collect();
        t.push('…');
        t
    }
}

/// Conversation counts split by [`Kind`], plus the gap labels analysts ask about first.
#[derive(Debug, Default, Clone, Copy)]
struct KindCounts {
    coded: u64,
    by_design: u64,
    gap: u64,
}

impl KindCounts {
    fn of(labels: &BTreeMap<String, u64>) -> KindCounts {
        let mut k = KindCounts::default();
        for (label, n) in labels {
            match conversation_kind(label) {
                Kind::Coded => k.coded += n,
                Kind::ByDesign => k.by_design += n,
                Kind::Gap => k.gap += n,
            }
        }
        k
    }

    fn get(&self, kind: Kind) -> u64 {
        match kind {
            Kind::Coded => self.coded,
            Kind::ByDesign => self.by_design,
            Kind::Gap => self.gap,
        }
    }

    fn total(&self) -> u64 {
        self.coded + self.by_design + self.gap
    }
}

fn pct(n: u64, of: u64) -> String {
    if of == 0 {
        "–".to_string()
    } else {
        format!("{:.1} %", n as f64 * 100.0 / of as f64)
    }
}

fn kind_cell(kind: Kind) -> String {
    format!(
        r#"<td><span class="swatch {}"></span>{}</td>"#,
        kind.class(),
        kind.title()
    )
}

fn legend() -> String {
    let mut s = String::from(r#"<p class="legend">"#);
    for (kind, what) in [
        (Kind::Coded, "a code is present (agent, system or timeout)"),
        (
            Kind::ByDesign,
            "no code, and none was expected (no agent, no wrap-up phase, skipped, not finished…)",
        ),
        (
            Kind::Gap,
            "no code in analytics where one was expected or nobody could tell (missing, lookup_failed, unexplained; recovered = the platform has the code, analytics lost it)",
        ),
    ] {
        let _ = write!(
            s,
            r#"<span class="key"><span class="swatch {}"></span><b>{}</b>: {}</span> "#,
            kind.class(),
            kind.title(),
            escape(what)
        );
    }
    s.push_str("</p>");
    s
}

fn no_data(what: &str) -> String {
    format!(r#"<p class="nodata">No data: {}</p>"#, escape(what))
}

const STYLE: &str = r#"
:root { --coded: #4c78a8; --design: #8fb996; --gap: #d55e00; --neutral: #8c8c8c; --ink: #1f2328; --rule: #d0d7de; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 0; background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.6em; margin: 0 0 6px; }
h2 { font-size: 1.2em; margin: 0 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--rule); }
section { margin-top: 28px; }
.meta { color: #57606a; margin: 0 0 14px; line-height: 1.5; }
.meta code { font-size: 0.95em; }
.status { font-weight: 600; padding: 1px 6px; border-radius: 4px; background: #dafbe1; }
.status.bad { background: #ffebe9; color: #a40e26; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0 6px; }
.tile { border: 1px solid var(--rule); border-radius: 6px; padding: 8px 14px; min-width: 150px; }
.tile .n { font-size: 1.5em; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile .l { color: #57606a; font-size: 0.85em; }
.tile.gap { border-left: 6px solid var(--gap); }
.tile.design { border-left: 6px solid var(--design); }
.tile.coded { border-left: 6px solid var(--coded); }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 0.9em; }
th, td { border: 1px solid var(--rule); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.id { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.95em; word-break: break-all; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 5px; border-radius: 2px; vertical-align: baseline; }
.swatch.coded, .bar.coded { background: var(--coded); fill: var(--coded); }
.swatch.design, .bar.design { background: var(--design); fill: var(--design); }
.swatch.gap, .bar.gap { background: var(--gap); fill: var(--gap); }
.bar.neutral { fill: var(--neutral); }
.legend { font-size: 0.85em; color: #57606a; line-height: 1.6; }
.legend .key { display: inline-block; margin-right: 14px; }
.chart { display: block; max-width: 100%; height: auto; font-size: 12px; margin: 4px 0 10px; }
.chart text { fill: var(--ink); }
.chart text.value { fill: #57606a; }
.nodata { color: #57606a; font-style: italic; }
.note { color: #57606a; font-size: 0.9em; }
footer { margin-top: 36px; color: #57606a; font-size: 0.8em; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
@page { size: A4; margin: 14mm; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  section { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; }
  thead { display: table-header-group; }
  .chart { max-width: 17cm; }
}
"#;

/// Renders the whole page.
pub fn render(s: &Summary) -> String {
    let mut h = String::new();
    let title = format!("Wrap-up audit: {}", s.job);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(&title)
    );
    header(&mut h, s, &title);
    totals(&mut h, s);
    null_reasons(&mut h, s);
    by_day(&mut h, s);
    breakdown(
        &mut h,
        "by-queue",
        "By queue",
        "queue id",
        &s.by_queue,
        "this run's outcome does not break conversations down by queue yet.",
    );
    breakdown(
        &mut h,
        "by-media",
        "By media type",
        "media type",
        &s.by_media,
        "this run's outcome does not break conversations down by media type yet.",
    );
    top_agents(&mut h, &s.top_missing_agents);
    leg_labels(&mut h, &s.leg_labels);
    lookups(&mut h, s);
    api(&mut h, s);
    let _ = write!(
        h,
        "<footer>Written by wrapup-audit {} from run <code>{}</code>. The same numbers are in summary.json; the rows are in parquet/conversations, parquet/legs and csv/…, one date=… folder per day.</footer>\n</main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        escape(&s.run_id)
    );
    h
}

fn header(h: &mut String, s: &Summary, title: &str) {
    let status_class = if s.status == "success" {
        "status"
    } else {
        "status bad"
    };
    let _ = write!(
        h,
        r#"<header><h1>{}</h1><p class="meta">Window <b>{}</b> to <b>{}</b> ({}), as of {}.<br>Run <code>{}</code>, status <span class="{status_class}">{}</span>.</p>"#,
        escape(title),
        escape(&s.window_from),
        escape(&s.window_to),
        escape(&s.timezone),
        escape(&s.as_of),
        escape(&s.run_id),
        escape(s.status)
    );
    let counts = KindCounts::of(&label_map(s));
    let no_code = counts.by_design + counts.gap;
    let _ = write!(
        h,
        r#"<div class="tiles"><div class="tile"><div class="n">{}</div><div class="l">conversations</div></div><div class="tile"><div class="n">{}</div><div class="l">agent legs</div></div><div class="tile coded"><div class="n">{}</div><div class="l">with a code ({})</div></div><div class="tile design"><div class="n">{}</div><div class="l">null by design ({})</div></div><div class="tile gap"><div class="n">{}</div><div class="l">gaps ({})</div></div></div>"#,
        s.conversations,
        s.legs,
        counts.coded,
        pct(counts.coded, s.conversations),
        counts.by_design,
        pct(counts.by_design, s.conversations),
        counts.gap,
        pct(counts.gap, s.conversations),
    );
    let _ = write!(
        h,
        r#"<p class="note">{no_code} conversations ({}) have no wrap-up code in analytics.{}</p>"#,
        pct(no_code, s.conversations),
        if s.dropped_outside_window + s.dropped_duplicates > 0 {
            format!(
                " The query also returned {} rows outside the window and {} duplicates, which were dropped.",
                s.dropped_outside_window, s.dropped_duplicates
            )
        } else {
            String::new()
        }
    );
    h.push_str(&legend());
    h.push_str("</header>\n");
}

fn label_map(s: &Summary) -> BTreeMap<String, u64> {
    s.labels
        .iter()
        .map(|l| (l.label.to_string(), l.conversations))
        .collect()
}

fn totals(h: &mut String, s: &Summary) {
    h.push_str(r#"<section id="totals"><h2>Conversations by classification</h2>"#);
    let present: Vec<_> = s.labels.iter().filter(|l| l.conversations > 0).collect();
    if present.is_empty() {
        h.push_str(&no_data("no conversations in this window."));
        h.push_str("</section>\n");
        return;
    }
    h.push_str(r#"<table><thead><tr><th>classification</th><th>kind</th><th class="num">conversations</th><th class="num">share</th></tr></thead><tbody>"#);
    for l in &present {
        let _ = write!(
            h,
            r#"<tr><td>{}</td>{}<td class="num">{}</td><td class="num">{}</td></tr>"#,
            escape(l.label),
            kind_cell(conversation_kind(l.label)),
            l.conversations,
            pct(l.conversations, s.conversations)
        );
    }
    let _ = write!(
        h,
        r#"</tbody><tfoot><tr><th>total</th><th></th><th class="num">{}</th><th class="num">{}</th></tr></tfoot></table>"#,
        s.conversations,
        pct(s.conversations, s.conversations)
    );
    let rows: Vec<BarRow> = present
        .iter()
        .map(|l| BarRow::single(l.label, l.conversations, conversation_kind(l.label).class()))
        .collect();
    h.push_str(&bar_chart("Conversations by classification", &rows));
    let absent: Vec<&str> = s
        .labels
        .iter()
        .filter(|l| l.conversations == 0)
        .map(|l| l.label)
        .collect();
    if !absent.is_empty() {
        let _ = write!(
            h,
            r#"<p class="note">No conversations labelled {}.</p>"#,
            escape(&absent.join(", "))
        );
    }
    h.push_str("</section>\n");
}

fn null_reasons(h: &mut String, s: &Summary) {
    h.push_str(r#"<section id="null-reasons"><h2>Why the code is null</h2><p class="note">Only conversations with no code in analytics: which are null by design, and which are gaps to chase.</p>"#);
    let mut nulls: Vec<_> = s
        .labels
        .iter()
        .filter(|l| l.conversations > 0 && conversation_kind(l.label) != Kind::Coded)
        .collect();
    // Gaps first: they are what the reader has to act on.
    nulls.sort_by_key(|l| conversation_kind(l.label) != Kind::Gap);
    let total: u64 = nulls.iter().map(|l| l.conversations).sum();
    if nulls.is_empty() {
        h.push_str(&no_data("every conversation has a wrap-up code."));
        h.push_str("</section>\n");
        return;
    }
    let gaps: u64 = nulls
        .iter()
        .filter(|l| conversation_kind(l.label) == Kind::Gap)
        .map(|l| l.conversations)
        .sum();
    let _ = write!(
        h,
        r#"<p>{total} conversations without a code: <b>{}</b> null by design ({}), <b>{gaps}</b> gaps ({}).</p>"#,
        total - gaps,
        pct(total - gaps, total),
        pct(gaps, total)
    );
    h.push_str(r#"<table><thead><tr><th>classification</th><th>kind</th><th class="num">conversations</th><th class="num">share of null</th><th class="num">share of all</th></tr></thead><tbody>"#);
    for l in &nulls {
        let _ = write!(
            h,
            r#"<tr><td>{}</td>{}<td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            escape(l.label),
            kind_cell(conversation_kind(l.label)),
            l.conversations,
            pct(l.conversations, total),
            pct(l.conversations, s.conversations)
        );
    }
    h.push_str("</tbody></table>");
    let rows: Vec<BarRow> = nulls
        .iter()
        .map(|l| BarRow::single(l.label, l.conversations, conversation_kind(l.label).class()))
        .collect();
    h.push_str(&bar_chart("Conversations without a code", &rows));
    h.push_str("</section>\n");
}

fn by_day(h: &mut String, s: &Summary) {
    h.push_str(r#"<section id="by-day"><h2>By day</h2>"#);
    if s.by_day.is_empty() {
        h.push_str(&no_data("no day partition was written."));
        h.push_str("</section>\n");
        return;
    }
    h.push_str(r#"<table><thead><tr><th>date</th><th class="num">conversations</th><th class="num">with a code</th><th class="num">null by design</th><th class="num">gaps</th><th class="num">gap rate</th><th class="num">missing</th><th class="num">lookup_failed</th><th class="num">unexplained</th><th class="num">recovered</th><th>final</th></tr></thead><tbody>"#);
    for (day, labels) in &s.by_day {
        let k = KindCounts::of(labels);
        let g = |l: &str| labels.get(l).copied().unwrap_or(0);
        let is_final = g("in_progress") + g("too_recent") == 0;
        let _ = write!(
            h,
            r#"<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            escape(day),
            k.total(),
            k.coded,
            k.by_design,
            k.gap,
            pct(k.gap, k.total()),
            g("missing"),
            g("lookup_failed"),
            g("unexplained"),
            g("recovered"),
            if is_final { "yes" } else { "no (rerun later)" }
        );
    }
    h.push_str("</tbody></table>");
    let rows: Vec<BarRow> = s
        .by_day
        .iter()
        .map(|(day, labels)| BarRow::by_kind(day, &KindCounts::of(labels)))
        .collect();
    h.push_str(&bar_chart("Conversations per day by kind", &rows));
    h.push_str(&legend());
    h.push_str(r#"<p class="note">A day is final when none of its conversations is in_progress or too_recent; otherwise a later run should redo it.</p></section>"#);
    h.push('\n');
}

fn breakdown(
    h: &mut String,
    id: &str,
    title: &str,
    key_name: &str,
    map: &BTreeMap<String, BTreeMap<String, u64>>,
    empty: &str,
) {
    let _ = write!(
        h,
        r#"<section id="{}"><h2>{}</h2>"#,
        escape(id),
        escape(title)
    );
    if map.is_empty() {
        h.push_str(&no_data(empty));
        h.push_str("</section>\n");
        return;
    }
    // Most gaps first, then by name, so the worst queue tops both the table and the chart.
    let mut rows: Vec<(&String, KindCounts, &BTreeMap<String, u64>)> = map
        .iter()
        .map(|(k, labels)| (k, KindCounts::of(labels), labels))
        .collect();
    rows.sort_by(|a, b| b.1.gap.cmp(&a.1.gap).then_with(|| a.0.cmp(b.0)));
    let _ = write!(
        h,
        r#"<table><thead><tr><th>{}</th><th class="num">conversations</th><th class="num">with a code</th><th class="num">null by design</th><th class="num">gaps</th><th class="num">gap rate</th><th class="num">missing</th></tr></thead><tbody>"#,
        escape(key_name)
    );
    for (key, k, labels) in &rows {
        let class = if key.as_str() == NONE_KEY { "" } else { "id" };
        let _ = write!(
            h,
            r#"<tr><td class="{class}">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            escape(key),
            k.total(),
            k.coded,
            k.by_design,
            k.gap,
            pct(k.gap, k.total()),
            labels.get("missing").copied().unwrap_or(0)
        );
    }
    h.push_str("</tbody></table>");
    let bars: Vec<BarRow> = rows
        .iter()
        .map(|(key, k, _)| BarRow::by_kind(key, k))
        .collect();
    h.push_str(&bar_chart(title, &bars));
    h.push_str("</section>\n");
}

fn top_agents(h: &mut String, agents: &[AgentMissing]) {
    h.push_str(
        r#"<section id="top-missing-agents"><h2>Agents with the most missing wrap-ups</h2>"#,
    );
    if agents.is_empty() {
        h.push_str(&no_data(
            "this run's outcome does not count missing legs per agent yet, or no leg is missing.",
        ));
        h.push_str("</section>\n");
        return;
    }
    h.push_str(r#"<table><thead><tr><th class="num">#</th><th>agent (user id)</th><th class="num">missing legs</th></tr></thead><tbody>"#);
    for (i, a) in agents.iter().enumerate() {
        let _ = write!(
            h,
            r#"<tr><td class="num">{}</td><td class="id">{}</td><td class="num">{}</td></tr>"#,
            i + 1,
            escape(&a.agent),
            a.missing
        );
    }
    h.push_str("</tbody></table>");
    let bars: Vec<BarRow> = agents
        .iter()
        .map(|a| BarRow::single(&a.agent, a.missing, "gap"))
        .collect();
    h.push_str(&bar_chart("Missing legs per agent", &bars));
    h.push_str(r#"<p class="note">The legs themselves: legs files, <code>label = 'missing'</code>, by <code>user_id</code>.</p></section>"#);
    h.push('\n');
}

fn leg_labels(h: &mut String, legs: &BTreeMap<String, u64>) {
    h.push_str(r#"<section id="leg-labels"><h2>Agent legs by label</h2>"#);
    let mut present: Vec<(&str, u64)> = legs
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(l, n)| (l.as_str(), *n))
        .collect();
    // Contract order (codes, then by design, then gaps); unknown labels go last.
    present.sort_by_key(|(l, _)| LEG_ORDER.iter().position(|o| o == l).unwrap_or(usize::MAX));
    if present.is_empty() {
        h.push_str(&no_data("no agent legs in this window."));
        h.push_str("</section>\n");
        return;
    }
    let total: u64 = present.iter().map(|p| p.1).sum();
    h.push_str(r#"<table><thead><tr><th>leg label</th><th>kind</th><th class="num">legs</th><th class="num">share</th></tr></thead><tbody>"#);
    for (label, n) in &present {
        let _ = write!(
            h,
            r#"<tr><td>{}</td>{}<td class="num">{n}</td><td class="num">{}</td></tr>"#,
            escape(label),
            kind_cell(leg_kind(label)),
            pct(*n, total)
        );
    }
    h.push_str("</tbody></table>");
    let bars: Vec<BarRow> = present
        .iter()
        .map(|(l, n)| BarRow::single(l, *n, leg_kind(l).class()))
        .collect();
    h.push_str(&bar_chart("Agent legs by label", &bars));
    h.push_str("</section>\n");
}

fn lookups(h: &mut String, s: &Summary) {
    let l = &s.lookups;
    let rows: [(&str, u64, &str, &'static str); 6] = [
        (
            "needed",
            l.needed,
            "conversations analytics could not explain",
            "neutral",
        ),
        (
            "made",
            l.made,
            "GET /api/v2/conversations/{id} calls",
            "coded",
        ),
        (
            "over_budget",
            l.over_budget,
            "skipped: the lookup budget was spent (now unexplained)",
            "gap",
        ),
        (
            "disabled",
            l.disabled,
            "skipped: lookups are off (now unexplained)",
            "gap",
        ),
        (
            "failed",
            l.failed,
            "ended in lookup_failed (404, 403, retries exhausted)",
            "gap",
        ),
        (
            "failed_transient",
            l.failed_transient,
            "of those, failures a rerun may fix",
            "gap",
        ),
    ];
    h.push_str(r#"<section id="lookups"><h2>Lookups</h2><table><thead><tr><th>counter</th><th class="num">conversations</th><th>meaning</th></tr></thead><tbody>"#);
    for (name, n, meaning, _) in &rows {
        let _ = write!(
            h,
            r#"<tr><td>{name}</td><td class="num">{n}</td><td>{}</td></tr>"#,
            escape(meaning)
        );
    }
    h.push_str("</tbody></table>");
    if rows.iter().all(|r| r.1 == 0) {
        h.push_str(&no_data("no conversation needed a lookup."));
    } else {
        let bars: Vec<BarRow> = rows
            .iter()
            .map(|(name, n, _, class)| BarRow::single(name, *n, class))
            .collect();
        h.push_str(&bar_chart("Lookups", &bars));
    }
    h.push_str("</section>\n");
}

fn api(h: &mut String, s: &Summary) {
    let a = &s.api;
    h.push_str(r#"<section id="api"><h2>API requests</h2><table><thead><tr><th>counter</th><th class="num">count</th></tr></thead><tbody>"#);
    for (name, n) in [
        ("requests", a.requests),
        ("retries", a.retries),
        ("rate_limited (429)", a.rate_limited),
        ("server_errors (5xx)", a.server_errors),
        ("transport_errors", a.transport_errors),
        ("token_requests", a.token_requests),
    ] {
        let _ = write!(
            h,
            r#"<tr><td>{}</td><td class="num">{n}</td></tr>"#,
            escape(name)
        );
    }
    h.push_str("</tbody></table>");
    if a.requests_by_endpoint.is_empty() {
        h.push_str(&no_data("no requests recorded per endpoint."));
    } else {
        h.push_str(r#"<table><thead><tr><th>endpoint</th><th class="num">requests</th></tr></thead><tbody>"#);
        for (ep, n) in &a.requests_by_endpoint {
            let _ = write!(
                h,
                r#"<tr><td>{}</td><td class="num">{n}</td></tr>"#,
                escape(ep)
            );
        }
        h.push_str("</tbody></table>");
        let bars: Vec<BarRow> = a
            .requests_by_endpoint
            .iter()
            .map(|(ep, n)| BarRow::single(ep, *n, "neutral"))
            .collect();
        h.push_str(&bar_chart("Requests by endpoint", &bars));
    }
    h.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiStatsSnapshot;
    use crate::pipeline::LookupStats;
    use crate::report::LabelShare;

    fn summary() -> Summary {
        let counts: BTreeMap<String, u64> = [
            ("coded", 40),
            ("timeout", 10),
            ("missing", 20),
            ("no_agent", 5),
            ("lookup_failed", 3),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let total: u64 = counts.values().sum();
        let labels = ConversationLabel::ALL
            .iter()
            .map(|l| {
                let n = counts.get(l.as_str()).copied().unwrap_or(0);
                LabelShare {
                    label: l.as_str(),
                    conversations: n,
                    share: n as f64 / total as f64,
                    null_by_design: l.null_by_design(),
                }
            })
            .collect();
        let mut by_queue = BTreeMap::new();
        by_queue.insert(
            "Sales <b>&\"".to_string(),
            [("missing", 7u64), ("coded", 3)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        );
        by_queue.insert(
            "(none)".to_string(),
            [("no_agent", 5u64)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        );
        Summary {
            run_id: "run-1".into(),
            job: "demo".into(),
            window_from: "2026-11-19T00:00:00.000Z".into(),
            window_to: "2026-11-21T00:00:00.000Z".into(),
            timezone: "UTC".into(),
            as_of: "2026-11-21T00:20:00.000Z".into(),
            status: "success",
            conversations: total,
            legs: 90,
            labels,
            leg_labels: [("coded", 50u64), ("missing", 20), ("not_connected", 4)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            by_day: [
                ("2026-11-19".to_string(), counts.clone()),
                (
                    "2026-11-20".to_string(),
                    [("coded", 2u64), ("too_recent", 1)]
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect(),
                ),
            ]
            .into_iter()
            .collect(),
            lookups: LookupStats {
                needed: 23,
                made: 23,
                failed: 3,
                ..LookupStats::default()
            },
            api: ApiStatsSnapshot {
                requests: 30,
                requests_by_endpoint: [("conversation".to_string(), 23u64)].into_iter().collect(),
                ..ApiStatsSnapshot::default()
            },
            dropped_outside_window: 0,
            dropped_duplicates: 0,
            by_queue,
            by_media: BTreeMap::new(),
            top_missing_agents: vec![AgentMissing {
                agent: "agent-7".into(),
                missing: 4,
            }],
            unresolved: Default::default(),
        }
    }

    /// The `width` and `data-value` of every bar, in page order.
    fn bars(svg: &str) -> Vec<(f64, u64)> {
        let attr = |s: &str, name: &str| -> String {
            let start = s.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            s[start..].split('"').next().unwrap().to_string()
        };
        svg.split("<rect")
            .skip(1)
            .map(|r| {
                let tag = r.split('>').next().unwrap();
                (
                    attr(tag, "width").parse().unwrap(),
                    attr(tag, "data-value").parse().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn page_has_no_scripts_and_no_urls() {
        let html = render(&summary()).to_ascii_lowercase();
        assert!(html.starts_with("<!doctype html>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("javascript:"));
        assert!(!html.contains("http://"));
        assert!(!html.contains("https://"));
        assert!(!html.contains("url("));
        assert!(!html.contains("@import"));
        assert!(html.contains("@media print"));
    }

    #[test]
    fn every_label_with_a_count_appears() {
        let s = summary();
        let html = render(&s);
        for l in s.labels.iter().filter(|l| l.conversations > 0) {
            assert!(
                html.contains(&format!("<td>{}</td>", l.label)),
                "{} missing from the tables",
                l.label
            );
            assert!(
                html.contains(&format!("<title>{}: {}</title>", l.label, l.conversations)),
                "{} missing from the charts",
                l.label
            );
        }
        for leg in s.leg_labels.keys() {
            assert!(html.contains(&format!("<td>{leg}</td>")));
        }
        let legs = html.split("id=\"leg-labels\"").nth(1).unwrap();
        assert!(legs.find("<td>coded</td>") < legs.find("<td>not_connected</td>"));
        assert!(legs.find("<td>not_connected</td>") < legs.find("<td>missing</td>"));
        assert!(html.contains("2026-11-20"));
        assert!(html.contains("agent-7"));
    }

    #[test]
    fn text_from_data_is_escaped() {
        assert_eq!(
            escape(r#"<b>&"'x"#),
            "&lt;b&gt;&amp;&quot;&#39;x".to_string()
        );
        let mut s = summary();
        s.job = "<script>alert(1)</script>".into();
        let html = render(&s);
        assert!(!html.contains("<b>&\""));
        assert!(html.contains("Sales &lt;b&gt;&amp;&quot;"));
        assert!(!html.to_ascii_lowercase().contains("<script"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }

    #[test]
    fn bar_widths_are_proportional_to_counts() {
        let rows = [
            BarRow::single("a", 40, "coded"),
            BarRow::single("b", 10, "gap"),
            BarRow::single("c", 0, "gap"),
            BarRow::single("d", 20, "design"),
        ];
        let got = bars(&bar_chart("t", &rows));
        // A zero count draws no bar.
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], (BAR_MAX, 40));
        for (w, v) in got {
            assert!((w - v as f64 / 40.0 * BAR_MAX).abs() < 0.01, "{w} for {v}");
        }
        // The page's own classification chart follows the same scale.
        let html = render(&summary());
        let totals = html.split("id=\"totals\"").nth(1).unwrap();
        let totals = &totals[..totals.find("</svg>").unwrap()];
        let got = bars(totals);
        assert_eq!(got.len(), 5);
        let max = got.iter().map(|b| b.1).max().unwrap() as f64;
        for (w, v) in got {
            assert!((w - v as f64 / max * BAR_MAX).abs() < 0.01);
        }
    }

    #[test]
    fn stacked_rows_split_by_kind_and_scale_by_total() {
        let html = render(&summary());
        let day = html.split("id=\"by-day\"").nth(1).unwrap();
        let day = &day[..day.find("</svg>").unwrap()];
        let got = bars(day);
        // Day 1: 50 coded, 5 by design, 23 gaps; day 2: 2 coded, 1 by design.
        let values: Vec<u64> = got.iter().map(|b| b.1).collect();
        assert_eq!(values, vec![50, 5, 23, 2, 1]);
        let row1: f64 = got[..3].iter().map(|b| b.0).sum();
        assert!((row1 - BAR_MAX).abs() < 0.05);
        assert!((got[3].0 - 2.0 / 78.0 * BAR_MAX).abs() < 0.01);
    }

    #[test]
    fn empty_sections_say_no_data() {
        let mut s = summary();
        s.by_queue.clear();
        s.top_missing_agents.clear();
        s.by_day.clear();
        let html = render(&s);
        for id in ["by-queue", "by-media", "top-missing-agents", "by-day"] {
            let sec = html.split(&format!("id=\"{id}\"")).nth(1).unwrap();
            let sec = &sec[..sec.find("</section>").unwrap()];
            assert!(sec.contains("No data:"), "{id}");
            assert!(!sec.contains("<svg"), "{id}");
        }
    }

    #[test]
    fn null_reasons_split_design_from_gaps() {
        let html = render(&summary());
        let sec = html.split("id=\"null-reasons\"").nth(1).unwrap();
        let sec = &sec[..sec.find("</section>").unwrap()];
        // 28 without a code: no_agent by design, missing and lookup_failed are gaps.
        assert!(sec.contains("28 conversations without a code: <b>5</b> null by design"));
        assert!(sec.contains("<b>23</b> gaps"));
        assert!(!sec.contains("<td>coded</td>"));
        assert!(!sec.contains("<td>timeout</td>"));
        assert!(sec.find("<td>missing</td>").unwrap() < sec.find("<td>no_agent</td>").unwrap());
    }

    #[test]
    fn kinds_follow_the_contract() {
        for l in ConversationLabel::ALL {
            let k = conversation_kind(l.as_str());
            assert_eq!(k == Kind::ByDesign, l.null_by_design(), "{}", l.as_str());
        }
        assert_eq!(conversation_kind("recovered"), Kind::Gap);
        assert_eq!(conversation_kind("system"), Kind::Coded);
        assert_eq!(leg_kind("pending"), Kind::ByDesign);
        assert_eq!(leg_kind("lookup_failed"), Kind::Gap);
    }

    #[test]
    fn top_missing_agents_sorts_and_truncates() {
        let m: BTreeMap<String, u64> = [("b", 3u64), ("a", 3), ("c", 9), ("d", 0), ("e", 1)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let top = top_missing_agents(&m, 3);
        let names: Vec<&str> = top.iter().map(|a| a.agent.as_str()).collect();
        assert_eq!(names, ["c", "a", "b"]);
    }
}
