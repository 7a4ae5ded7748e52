//! `summary.html` in a real browser: headless Chromium renders the committed demo page at desktop
//! and phone width with every network request refused, and writes the screenshots to
//! `target/summary-screens/` for people to look at.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Chromium from `WRAPUP_TEST_CHROMIUM` or a known path; `None` (a skip) only outside CI.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("WRAPUP_TEST_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            [
                "/usr/bin/chromium",
                "/usr/bin/chromium-browser",
                "/usr/bin/google-chrome",
            ]
            .map(PathBuf::from),
        )
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs headless Chromium (Debian: chromium) or WRAPUP_TEST_CHROMIUM"
        );
        eprintln!("skipped: no Chromium (set WRAPUP_TEST_CHROMIUM)");
    }
    found
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be = |o: usize| u32::from_be_bytes(bytes[o..o + 4].try_into().unwrap());
    (be(16), be(20))
}

/// Runs headless Chromium on `page` with the network refused; returns (stdout, stderr).
fn render(bin: &Path, profile: &Path, page: &Path, extra: &[String]) -> (String, String) {
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-extensions",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            // Nothing leaves the machine, whatever the page or the browser asks for.
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium failed: {out:?}");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn demo_summary_renders_offline_at_desktop_and_phone_width() {
    let Some(bin) = chromium() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = root.join("sample-output/summary.html");
    let shots = root.join("target/summary-screens");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = tempfile::tempdir().unwrap();

    // Requests the page makes carry the file's opaque origin ("null") as initiator in Chromium's
    // net log; the browser's own background traffic does not. A control page proves the check bites.
    let net_log = |page: &Path, name: &str| -> String {
        let log = profile.path().join(name);
        render(
            &bin,
            profile.path(),
            page,
            &[
                "--dump-dom".into(),
                format!("--log-net-log={}", log.display()),
            ],
        );
        std::fs::read_to_string(&log).unwrap()
    };
    let control = profile.path().join("control.html");
    std::fs::write(&control, "<img src=\"http://example.invalid/x.png\">").unwrap();
    assert!(net_log(&control, "control.json").contains("\"initiator\":\"null\""));
    assert!(
        !net_log(&page, "page.json").contains("\"initiator\":\"null\""),
        "summary.html made a network request"
    );

    // The DOM Chromium built: the findings come first, with something to copy.
    let (dom, _) = render(&bin, profile.path(), &page, &["--dump-dom".into()]);
    let fix = dom
        .find("id=\"fix-first\"")
        .expect("a what-to-fix-first section");
    assert!(fix < dom.find("id=\"trend\"").unwrap());
    assert!(fix < dom.find("id=\"by-queue\"").unwrap());
    assert!(dom[fix..].contains("<pre class=\"ids\">"));
    assert!(!dom.contains("<script"));

    for (name, w, h) in [("desktop", 1280u32, 900u32), ("phone", 390, 844)] {
        let png = shots.join(format!("summary-{name}.png"));
        let _ = std::fs::remove_file(&png);
        let (_, log) = render(
            &bin,
            profile.path(),
            &page,
            &[
                format!("--window-size={w},{h}"),
                format!("--screenshot={}", png.display()),
            ],
        );
        let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{name}: {e}\n{log}"));
        assert_eq!(png_size(&bytes), (w, h), "{name}");
        // A blank page compresses to a few kilobytes; a rendered one does not.
        assert!(
            bytes.len() > 20_000,
            "{name} looks blank: {} bytes",
            bytes.len()
        );
    }
}
