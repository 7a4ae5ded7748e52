//! Small inline-SVG charts for `summary.html`: horizontal bars and a line chart of rates per day.
//! The SVG is built here and inserted unescaped, so every text from data goes through [`escape`].

use std::fmt::Write;

/// Width in pixels of the longest bar; other bars scale linearly from it.
pub const BAR_MAX: f64 = 560.0;
const ROW_H: usize = 22;
/// Labels longer than this are shortened in charts (tables always show them in full).
const CHART_LABEL_CHARS: usize = 38;

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

fn shorten(s: &str) -> String {
    if s.chars().count() <= CHART_LABEL_CHARS {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(CHART_LABEL_CHARS - 1).collect();
        t.push('…');
        t
    }
}

/// One row of a bar chart: a label and stacked segments (value, CSS class, segment name).
#[derive(Debug, Clone)]
pub struct BarRow {
    pub label: String,
    pub segments: Vec<(u64, &'static str, &'static str)>,
}

impl BarRow {
    pub fn single(label: &str, value: u64, class: &'static str) -> BarRow {
        BarRow {
            label: label.to_string(),
            segments: vec![(value, class, "")],
        }
    }

    fn total(&self) -> u64 {
        self.segments.iter().map(|s| s.0).sum()
    }
}

/// A horizontal bar chart; the longest row is [`BAR_MAX`] pixels wide. `unit` follows each total.
pub fn bar_chart(title: &str, rows: &[BarRow], unit: &str) -> String {
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
    let width = label_w + BAR_MAX + 90.0;
    let height = rows.len() * ROW_H + 6;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    for (i, row) in rows.iter().enumerate() {
        let y = (i * ROW_H + 3) as f64;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            label_w - 8.0,
            y + 14.0,
            escape(&shorten(&row.label))
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
            r#"<text class="value" x="{:.2}" y="{}">{}{}</text>"#,
            x + 6.0,
            y + 14.0,
            row.total(),
            escape(unit)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One series of a line chart: values per x position (None leaves a gap), CSS class, legend name.
pub struct Series<'a> {
    pub name: &'a str,
    pub class: &'static str,
    pub values: Vec<Option<f64>>,
}

const LINE_W: f64 = 640.0;
const LINE_H: f64 = 200.0;
const PAD_L: f64 = 48.0;
const PAD_B: f64 = 42.0;
const PAD_T: f64 = 12.0;

/// Where value `v` (a share, 0..=max) of point `i` of `n` is drawn.
pub fn line_point(i: usize, n: usize, v: f64, max: f64) -> (f64, f64) {
    let plot_w = LINE_W - PAD_L - 16.0;
    let plot_h = LINE_H - PAD_T - PAD_B;
    let x = if n <= 1 {
        PAD_L + plot_w / 2.0
    } else {
        PAD_L + plot_w * i as f64 / (n - 1) as f64
    };
    let y = PAD_T + plot_h * (1.0 - v / max);
    (x, y)
}

/// A line chart of shares (0..1) per day, y axis in percent, one dot per value.
// Long: SVG geometry computed in one place so axes, ticks and lines agree.
pub fn line_chart(title: &str, x_labels: &[String], series: &[Series]) -> String {
    let n = x_labels.len();
    if n == 0 {
        return String::new();
    }
    let top = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0f64, |a, b| a.max(*b));
    // Round the axis up to a whole 10 %, at least 10 %.
    let max = ((top * 10.0).ceil() / 10.0).clamp(0.1, 1.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart line" viewBox="0 0 {LINE_W} {LINE_H}" width="{LINE_W}" height="{LINE_H}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    // Five steps of a whole-10 % axis are whole percents.
    for k in 0..=5 {
        let v = max * k as f64 / 5.0;
        let (_, y) = line_point(0, n, v, max);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{PAD_L}" x2="{}" y1="{y:.2}" y2="{y:.2}"/><text class="axis" x="{}" y="{:.2}" text-anchor="end">{:.0} %</text>"#,
            LINE_W - 16.0,
            PAD_L - 6.0,
            y + 4.0,
            v * 100.0
        );
    }
    // Label at most ~8 days so the axis stays readable on long windows.
    let every = n.div_ceil(8).max(1);
    for (i, label) in x_labels.iter().enumerate() {
        if i % every != 0 && i != n - 1 {
            continue;
        }
        let (x, _) = line_point(i, n, 0.0, max);
        let _ = write!(
            svg,
            r#"<text class="axis" x="{x:.2}" y="{}" text-anchor="middle">{}</text>"#,
            LINE_H - PAD_B + 16.0,
            escape(label.get(5..).unwrap_or(label))
        );
    }
    for s in series {
        let pts: Vec<(usize, f64)> = s
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i, v)))
            .collect();
        let path: Vec<String> = pts
            .iter()
            .map(|(i, v)| {
                let (x, y) = line_point(*i, n, *v, max);
                format!("{x:.2},{y:.2}")
            })
            .collect();
        if path.len() > 1 {
            let _ = write!(
                svg,
                r#"<polyline class="series {}" points="{}"/>"#,
                s.class,
                path.join(" ")
            );
        }
        for (i, v) in &pts {
            let (x, y) = line_point(*i, n, *v, max);
            let _ = write!(
                svg,
                r#"<circle class="series {}" cx="{x:.2}" cy="{y:.2}" r="3.5" data-value="{v}"><title>{} {}: {:.1} %</title></circle>"#,
                s.class,
                escape(s.name),
                escape(&x_labels[*i]),
                v * 100.0
            );
        }
    }
    let mut lx = PAD_L;
    for s in series {
        let _ = write!(
            svg,
            r#"<rect class="series {}" x="{lx}" y="{}" width="12" height="4"/><text class="axis" x="{}" y="{}">{}</text>"#,
            s.class,
            LINE_H - 12.0,
            lx + 16.0,
            LINE_H - 7.0,
            escape(s.name)
        );
        lx += 24.0 + 7.0 * s.name.chars().count() as f64;
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `width` and `data-value` of every bar, in order.
    pub fn bars(svg: &str) -> Vec<(f64, u64)> {
        let attr = |s: &str, name: &str| -> String {
            let start = s.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            s[start..].split('"').next().unwrap().to_string()
        };
        svg.split("<rect class=\"bar")
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
    fn bar_widths_are_proportional_to_counts() {
        let rows = [
            BarRow::single("a", 40, "coded"),
            BarRow::single("b", 10, "gap"),
            BarRow::single("c", 0, "gap"),
            BarRow::single("d", 20, "design"),
        ];
        let got = bars(&bar_chart("t", &rows, ""));
        // A zero count draws no bar.
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], (BAR_MAX, 40));
        for (w, v) in got {
            assert!((w - v as f64 / 40.0 * BAR_MAX).abs() < 0.01, "{w} for {v}");
        }
        assert_eq!(bar_chart("t", &[], ""), "");
    }

    #[test]
    fn line_points_follow_the_values() {
        let days: Vec<String> = ["2026-11-18", "2026-11-19", "2026-11-20"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let svg = line_chart(
            "rates <&>",
            &days,
            &[Series {
                name: "gap rate",
                class: "gap",
                values: vec![Some(0.1), None, Some(0.3)],
            }],
        );
        assert!(svg.contains("rates &lt;&amp;&gt;"));
        // Two dots (the missing day leaves a gap), one line through them; axis up to 30 %.
        assert_eq!(svg.matches("<circle").count(), 2);
        let (x0, y0) = line_point(0, 3, 0.1, 0.3);
        let (x2, y2) = line_point(2, 3, 0.3, 0.3);
        assert!(svg.contains(&format!(r#"points="{x0:.2},{y0:.2} {x2:.2},{y2:.2}""#)));
        assert!(y2 < y0, "higher rates are drawn higher");
        assert!(svg.contains(">30 %<") && svg.contains(">6 %<"));
        assert!(svg.contains(">11-19<"));
        assert_eq!(line_chart("t", &[], &[]), "");
    }
}
