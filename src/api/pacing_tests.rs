use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::*;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[test]
fn no_header_no_pacing() {
    let mut p = Pacer::new();
    let t0 = Instant::now();
    assert_eq!(p.reserve(t0), t0);
    assert_eq!(p.free_at(t0), None);
}

#[test]
fn free_quota_is_spread_over_what_is_left_of_the_window() {
    let mut p = Pacer::new();
    let t0 = Instant::now() + secs(100.0);
    // A 60-second window seen before; then our one request in this window, sent at t0 and answered
    // at once: count 61 of 300 with 30 s left, so 60 are others' over the first 30 s (2/s), who will
    // spend 60 more.
    p.observe(300, 1, secs(60.0), t0 - secs(90.0), t0 - secs(90.0));
    p.sent(t0);
    p.observe(300, 61, secs(30.0), t0, t0);
    let (free, left) = p.free_at(t0).unwrap();
    // The end can be from t0 + 28.75 (reset rounded up, less the tolerance) to t0 + 30.25: time left
    // counts to the latest, the others' spending to the middle, at 60 over the 30.5 s since the
    // window's likeliest start.
    assert!((left - 30.25).abs() < 1e-6, "{left}");
    let others = 60.0 / 30.5 * 29.5;
    assert!(
        (free - (300.0 - 61.0 - MARGIN - others)).abs() < 1e-6,
        "{free}"
    );
    // The slot after this one is left / free later.
    let first = p.reserve(t0);
    assert_eq!(first, t0);
    p.sent(first);
    let second = p.reserve(t0);
    let gap = (second - first).as_secs_f64();
    let want = left / free;
    assert!((gap - want).abs() < 1e-3, "{gap} vs {want}");
}

#[test]
fn a_full_window_waits_for_the_reset() {
    let mut p = Pacer::new();
    let t0 = Instant::now();
    p.sent(t0);
    p.observe(300, 298, secs(12.0), t0, t0);
    let at = p.reserve(t0);
    assert!(at >= t0 + secs(12.0), "{:?}", at - t0);
    assert!(at <= t0 + secs(12.3), "{:?}", at - t0);
}

#[test]
fn requests_in_flight_count_against_the_window() {
    let mut p = Pacer::new();
    let t0 = Instant::now();
    p.sent(t0);
    p.observe(100, 50, secs(30.0), t0, t0);
    let before = p.free_at(t0 + secs(1.0)).unwrap().0;
    // Five more sent after the answer, not yet in any count; two more slots handed out.
    for i in 1..=5 {
        p.sent(t0 + secs(0.1 * f64::from(i)));
    }
    p.reserve(t0 + secs(1.0));
    p.reserve(t0 + secs(1.0));
    let after = p.free_at(t0 + secs(1.0)).unwrap().0;
    assert!((before - after - 7.0).abs() < 1e-6, "{before} {after}");
}

#[test]
fn a_late_answer_from_the_last_window_is_ignored() {
    let mut p = Pacer::new();
    let t0 = Instant::now();
    p.sent(t0);
    p.observe(300, 1, secs(60.0), t0, t0);
    let fresh = p.free_at(t0).unwrap().0;
    // An answer with a count from the window before (reset nearly due) arrives late.
    p.observe(300, 290, secs(1.0), t0 - secs(59.0), t0 + secs(0.5));
    let after = p.free_at(t0).unwrap().0;
    assert!((fresh - after).abs() < 1e-6, "{fresh} {after}");
}

/// A fixed-window server (the simulator's model) with another integration spending `others_per_min`
/// evenly, and a run with `workers` requests in flight, each taking `latency`. Returns, per full
/// window, (ours, the most the server counted).
fn model(
    allowed: u64,
    others_per_min: u64,
    ceiling_per_min: f64,
    workers: usize,
    latency: f64,
    windows: u32,
) -> Vec<(u64, u64)> {
    let t0 = Instant::now();
    let len = 60.0;
    let mut p = Pacer::new();
    let ceiling = 60.0 / ceiling_per_min;
    // Answers pending: (arrival, sent, count, reset).
    let mut answers: BinaryHeap<Reverse<(Instant, Instant, u64, u64)>> = BinaryHeap::new();
    let mut out = vec![(0u64, 0u64); windows as usize];
    let mut last = t0 - secs(ceiling);
    let mut now = t0;
    let end = t0 + secs(len * f64::from(windows));
    loop {
        // Take every answer due, and wait for one when all workers are busy.
        while let Some(Reverse((at, sent, count, reset))) = answers.peek().copied() {
            if at > now && answers.len() < workers {
                break;
            }
            answers.pop();
            now = now.max(at);
            p.observe(allowed, count, secs(reset as f64), sent, at);
        }
        let slot = p.reserve(now).max(last + secs(ceiling));
        // Answers that arrive while this request waits for its slot are read meanwhile.
        while let Some(Reverse((at, sent, count, reset))) = answers.peek().copied() {
            if at > slot {
                break;
            }
            answers.pop();
            p.observe(allowed, count, secs(reset as f64), sent, at);
        }
        if slot >= end {
            break;
        }
        p.sent(slot);
        last = slot;
        now = slot;
        let e = (slot - t0).as_secs_f64();
        let w = (e / len) as usize;
        let into = e - w as f64 * len;
        out[w].0 += 1;
        let others = (others_per_min as f64 * into / len).floor() as u64;
        let count = out[w].0 + others;
        out[w].1 = out[w].1.max(count);
        let reset = (len - into).ceil().max(1.0) as u64;
        answers.push(Reverse((slot + secs(latency), slot, count, reset)));
    }
    out
}

#[test]
fn fills_what_another_integration_leaves_without_going_over() {
    for (others, workers, latency) in [(100, 8, 0.8), (120, 4, 0.15), (0, 8, 0.3), (250, 8, 0.8)] {
        let free = 300 - others;
        let windows = model(300, others, 10_000.0, workers, latency, 4);
        eprintln!("{others} others: {windows:?}");
        for (i, (ours, most)) in windows.iter().enumerate() {
            assert!(
                *most <= 300,
                "window {i}: {most} counted of 300 ({others} others)"
            );
            // Not even the others' last requests of the window are refused.
            assert!(
                *ours <= free,
                "window {i}: {ours} > {free} free ({others} others)"
            );
            // From the second window on, ≥ 95 % of a free quota of 150 or more; with less free,
            // the margin weighs more.
            let want = if free >= 150 { 0.95 } else { 0.85 };
            if i > 0 {
                assert!(
                    *ours as f64 >= want * free as f64,
                    "window {i}: {ours} of {free} free ({others} others, {workers} workers, {latency} s)"
                );
            }
        }
    }
}

#[test]
fn the_ceiling_stays_a_ceiling() {
    let windows = model(300, 0, 120.0, 8, 0.2, 3);
    for (ours, _) in windows {
        assert!(ours <= 121, "{ours}");
        assert!(ours >= 118, "{ours}");
    }
}
