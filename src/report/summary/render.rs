//! Renders `summary.html` and `summary.md` from the templates in `src/report/summary/templates/` (minijinja,
//! HTML auto-escaped). Numbers are formatted here once, so both files show the same strings.

use minijinja::Environment;
use serde::Serialize;

use super::charts::{self, BarRow, Series};
use super::{Named, Rates, Summary};
use crate::record::{Kind, LegLabel};

const HTML: &str = include_str!("templates/summary.html");
const MD: &str = include_str!("templates/summary.md");
const STYLE: &str = include_str!("templates/style.css");

/// Agents listed in the ranking tables.
const AGENTS_SHOWN: usize = 20;

fn pct(x: Option<f64>) -> String {
    x.map_or("–".to_string(), |r| format!("{:.1} %", r * 100.0))
}

fn share(n: u64, of: u64) -> String {
    pct((of > 0).then(|| n as f64 / of as f64))
}

fn minutes(ms: i64) -> String {
    format!("{:.1}", ms as f64 / 60_000.0)
}

/// The colour class and words of a conversation label.
fn conversation_kind(label: &str) -> (&'static str, &'static str) {
    super::conversation_kind(label).class_and_title()
}

/// The colour class and words of a leg label. Unknown spellings count as gaps so they stay visible.
fn leg_kind(label: &str) -> (&'static str, &'static str) {
    LegLabel::parse(label)
        .map_or(Kind::Gap, LegLabel::kind)
        .class_and_title()
}

/// One row of a compliance table (agent, queue, media or day), every number formatted.
#[derive(Serialize)]
struct Row {
    id: String,
    name: String,
    prompt: String,
    legs: u64,
    owed: u64,
    with_code: u64,
    gaps: u64,
    timeout: u64,
    missing: u64,
    unknown: u64,
    gap_rate: String,
    timeout_rate: String,
    acw_min: String,
    timeout_acw_min: String,
    mismatches: u64,
}

fn row(id: &str, name: Option<&str>, prompt: String, r: &Rates) -> Row {
    let c = &r.counts;
    Row {
        id: id.to_string(),
        name: name.unwrap_or(id).to_string(),
        prompt,
        legs: c.legs,
        owed: c.owed,
        with_code: c.with_code,
        gaps: r.gaps,
        timeout: c.timeout,
        missing: c.missing,
        unknown: c.unknown,
        gap_rate: pct(r.gap_rate),
        timeout_rate: pct(r.timeout_rate),
        acw_min: minutes(c.acw_ms),
        timeout_acw_min: minutes(c.timeout_acw_ms),
        mismatches: c.config_mismatches,
    }
}

fn named_row(id: &str, n: &Named) -> Row {
    let prompt = match (&n.wrapup_prompt, n.acw_timeout_ms) {
        (Some(p), Some(t)) => format!("{p} ({} s)", t / 1000),
        (Some(p), None) => p.clone(),
        _ => String::new(),
    };
    row(id, n.name.as_deref(), prompt, &n.rates)
}

/// Gaps of each row, stacked by cause.
fn gap_bars(rows: &[Row]) -> Vec<BarRow> {
    rows.iter()
        .filter(|r| r.owed > 0)
        .map(|r| BarRow {
            label: r.name.clone(),
            segments: vec![
                (r.timeout, "timeout", "timeout"),
                (r.missing, "gap", "missing"),
                (r.unknown, "neutral", "unknown"),
            ],
        })
        .collect()
}

#[derive(Serialize)]
struct LabelRow {
    label: String,
    class: &'static str,
    kind: &'static str,
    n: u64,
    share: String,
}

#[derive(Serialize)]
struct DayRow {
    date: String,
    conversations: u64,
    coded: u64,
    by_design: u64,
    gaps: u64,
    missing: u64,
    lookup_failed: u64,
    unexplained: u64,
    is_final: bool,
}

#[derive(Serialize)]
struct TrendRow {
    date: String,
    in_window: bool,
    is_final: bool,
    owed: u64,
    gaps: u64,
    timeout: u64,
    gap_rate: String,
    timeout_rate: String,
}

#[derive(Serialize)]
struct MismatchRow {
    mismatch: &'static str,
    queue: String,
    prompt: String,
    legs: u64,
    ids: String,
}

#[derive(Serialize)]
struct FindingRow {
    title: String,
    detail: String,
    action: String,
    ids: String,
    query: String,
}

#[derive(Serialize)]
struct Tiles {
    conversations: u64,
    legs: u64,
    owed: u64,
    with_code: u64,
    gaps: u64,
    gap_rate: String,
    timeout_rate: String,
    timeout_acw_min: String,
}

#[derive(Serialize)]
struct View<'a> {
    s: &'a Summary,
    title: String,
    version: &'static str,
    style: &'static str,
    status_ok: bool,
    tiles: Tiles,
    findings: Vec<FindingRow>,
    trend: Vec<TrendRow>,
    trend_svg: String,
    queues: Vec<Row>,
    queues_svg: String,
    agents: Vec<Row>,
    agents_svg: String,
    agents_unranked: usize,
    min_owed: u64,
    media: Vec<Row>,
    days: Vec<Row>,
    mismatches: Vec<MismatchRow>,
    labels: Vec<LabelRow>,
    labels_svg: String,
    absent_labels: String,
    by_day: Vec<DayRow>,
    leg_labels: Vec<LabelRow>,
    leg_labels_svg: String,
}

// Long: the template's whole context in one place, mirroring summary.html section by section.
fn view(s: &Summary) -> View<'_> {
    let c = &s.compliance;
    let t = &c.total;
    let mut queues: Vec<Row> = c.by_queue.iter().map(|(id, n)| named_row(id, n)).collect();
    queues.sort_by(|a, b| b.gaps.cmp(&a.gaps).then_with(|| a.name.cmp(&b.name)));
    let agents: Vec<Row> = c
        .agents_by_gap_rate
        .iter()
        .take(AGENTS_SHOWN)
        .filter_map(|id| c.by_agent.get(id).map(|n| named_row(id, n)))
        .collect();
    let mut media: Vec<Row> = c
        .by_media
        .iter()
        .map(|(k, r)| row(k, None, String::new(), r))
        .collect();
    media.sort_by(|a, b| b.gaps.cmp(&a.gaps).then_with(|| a.id.cmp(&b.id)));
    let days: Vec<Row> = c
        .by_day
        .iter()
        .map(|(d, r)| row(d, None, String::new(), r))
        .collect();
    let trend: Vec<TrendRow> = s
        .trend
        .iter()
        .map(|d| TrendRow {
            date: d.date.clone(),
            in_window: d.in_window,
            is_final: d.is_final,
            owed: d.owed,
            gaps: d.gaps,
            timeout: d.timeout,
            gap_rate: pct(d.gap_rate),
            timeout_rate: pct(d.timeout_rate),
        })
        .collect();
    let trend_svg = charts::line_chart(
        "Gap rate and timeout rate per day",
        &s.trend.iter().map(|d| d.date.clone()).collect::<Vec<_>>(),
        &[
            Series {
                name: "gap rate",
                class: "gap",
                values: s.trend.iter().map(|d| d.gap_rate).collect(),
            },
            Series {
                name: "timeout rate",
                class: "timeout",
                values: s.trend.iter().map(|d| d.timeout_rate).collect(),
            },
        ],
    );
    let label_rows: Vec<LabelRow> = s
        .labels
        .iter()
        .filter(|l| l.conversations > 0)
        .map(|l| {
            let (class, kind) = conversation_kind(l.label);
            LabelRow {
                label: l.label.to_string(),
                class,
                kind,
                n: l.conversations,
                share: share(l.conversations, s.conversations),
            }
        })
        .collect();
    let labels_svg = charts::bar_chart(
        "Conversations by classification",
        &label_rows
            .iter()
            .map(|l| BarRow::single(&l.label, l.n, l.class))
            .collect::<Vec<_>>(),
        "",
    );
    let mut legs: Vec<(&String, &u64)> = s.leg_labels.iter().filter(|(_, n)| **n > 0).collect();
    legs.sort_by_key(|(l, _)| {
        LegLabel::ALL
            .iter()
            .position(|o| o.as_str() == l.as_str())
            .unwrap_or(usize::MAX)
    });
    let leg_total: u64 = legs.iter().map(|(_, n)| **n).sum();
    let leg_labels: Vec<LabelRow> = legs
        .iter()
        .map(|(l, n)| {
            let (class, kind) = leg_kind(l);
            LabelRow {
                label: l.to_string(),
                class,
                kind,
                n: **n,
                share: share(**n, leg_total),
            }
        })
        .collect();
    let leg_labels_svg = charts::bar_chart(
        "Agent legs by label",
        &leg_labels
            .iter()
            .map(|l| BarRow::single(&l.label, l.n, l.class))
            .collect::<Vec<_>>(),
        "",
    );
    let by_day = s
        .by_day
        .iter()
        .map(|(d, labels)| {
            let g = |k: &str| labels.get(k).copied().unwrap_or(0);
            let mut k = [0u64; 3];
            for (l, n) in labels {
                k[match conversation_kind(l).0 {
                    "coded" => 0,
                    "design" => 1,
                    _ => 2,
                }] += n;
            }
            DayRow {
                date: d.clone(),
                conversations: labels.values().sum(),
                coded: k[0],
                by_design: k[1],
                gaps: k[2],
                missing: g("missing"),
                lookup_failed: g("lookup_failed"),
                unexplained: g("unexplained"),
                is_final: g("in_progress") + g("too_recent") == 0,
            }
        })
        .collect();
    View {
        title: format!("Wrap-up audit: {}", s.job),
        version: env!("CARGO_PKG_VERSION"),
        style: STYLE,
        status_ok: s.status == "success",
        tiles: Tiles {
            conversations: s.conversations,
            legs: s.legs,
            owed: t.counts.owed,
            with_code: t.counts.with_code,
            gaps: t.gaps,
            gap_rate: pct(t.gap_rate),
            timeout_rate: pct(t.timeout_rate),
            timeout_acw_min: minutes(t.counts.timeout_acw_ms),
        },
        findings: s
            .findings
            .iter()
            .map(|f| FindingRow {
                title: f.title.clone(),
                detail: f.detail.clone(),
                action: f.action.clone(),
                ids: f.conversation_ids.join("\n"),
                query: f.query.clone().unwrap_or_default(),
            })
            .collect(),
        trend,
        trend_svg,
        queues_svg: charts::bar_chart("Gaps per queue by cause", &gap_bars(&queues), " gaps"),
        queues,
        agents_svg: charts::bar_chart(
            "Gaps of the ranked agents by cause",
            &gap_bars(&agents),
            " gaps",
        ),
        agents_unranked: c.by_agent.len().saturating_sub(c.agents_by_gap_rate.len()),
        agents,
        min_owed: c.min_owed_to_rank,
        media,
        days,
        mismatches: s
            .config_mismatches
            .iter()
            .map(|m| MismatchRow {
                mismatch: m.mismatch,
                queue: m.queue_name.clone().unwrap_or_else(|| m.queue_id.clone()),
                prompt: m.queue_wrapup_prompt.clone().unwrap_or_default(),
                legs: m.legs,
                ids: m.example_conversation_ids.join(" "),
            })
            .collect(),
        absent_labels: s
            .labels
            .iter()
            .filter(|l| l.conversations == 0)
            .map(|l| l.label)
            .collect::<Vec<_>>()
            .join(", "),
        labels: label_rows,
        labels_svg,
        by_day,
        leg_labels,
        leg_labels_svg,
        s,
    }
}

fn env() -> Environment<'static> {
    let mut env = Environment::new();
    // Template names decide escaping: `.html` escapes, `.md` does not.
    env.add_template("summary.html", HTML)
        .expect("summary.html template parses");
    env.add_template("summary.md", MD)
        .expect("summary.md template parses");
    env
}

fn render(name: &str, s: &Summary) -> String {
    env()
        .get_template(name)
        .and_then(|t| t.render(minijinja::value::Serde(view(s))))
        .expect("the summary templates render every summary")
}

/// `summary.html`: self-contained (no scripts, no URLs), printable, readable on a phone.
pub fn html(s: &Summary) -> String {
    render("summary.html", s)
}

/// `summary.md`: the same sections as the page, as Markdown tables.
pub fn markdown(s: &Summary) -> String {
    render("summary.md", s)
}

/// Label → count maps as the summary keeps them, for tests.
#[cfg(test)]
fn counts(pairs: &[(&str, u64)]) -> std::collections::BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[cfg(test)]
pub(crate) mod tests;
