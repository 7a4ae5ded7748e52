//! What a server says goes through here before it reaches a log line, an error or a report cell:
//! credentials are masked and the text is cut to one short line.
//!
//! Masked: the values the run knows are secret (client secret, access tokens), anything after
//! `Bearer` or `Basic`, the values of credential-like keys (`access_token`, `client_secret`,
//! `authorization`, `password`, …) and JWT-shaped strings.

use std::sync::OnceLock;

use regex::Regex;

/// Longest server text kept, in characters.
pub const MAX_CHARS: usize = 300;

const MASK: &str = "[redacted]";

fn patterns() -> &'static [(Regex, &'static str)] {
    static P: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    P.get_or_init(|| {
        [
            (r"(?i)\b(bearer|basic)(\s+|%20|\+)[^\s,;&]+", "${1}${2}[redacted]"),
            (
                r#"(?i)((?:access|refresh|id)_?token|client_?secret|secret|password|authorization|api_?key)(["']?\s*[:=]\s*["']?)((?:bearer|basic)\s+)?[^"'\s,;&}]+"#,
                "${1}${2}${3}[redacted]",
            ),
            (
                r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
                "[redacted]",
            ),
        ]
        .into_iter()
        .map(|(re, with)| (Regex::new(re).expect("valid pattern"), with))
        .collect()
    })
}

/// `text` with every secret masked, control characters flattened and at most [`MAX_CHARS`] kept.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut s = text.to_string();
    for secret in secrets.iter().filter(|x| x.len() >= 4) {
        s = s.replace(secret, MASK);
    }
    for (re, with) in patterns() {
        s = re.replace_all(&s, *with).into_owned();
    }
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    match flat.char_indices().nth(MAX_CHARS) {
        Some((i, _)) => format!("{}… [cut]", &flat[..i]),
        None => flat.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_masked() {
        let cases = [
            ("echo: Authorization: Bearer abc.DEF-123_x", "abc.DEF"),
            ("Authorization: Basic Zm9vOmJhcg==", "Zm9vOmJhcg"),
            (
                "Basic c2ltLWNsaWVudDpzaW0tc2VjcmV0 was sent",
                "c2ltLWNsaWVudDpzaW0",
            ),
            (r#"{"access_token":"tok123456","x":1}"#, "tok123456"),
            ("client_secret=hunter22&grant_type=x", "hunter22"),
            ("authorization=Token%20zzz999", "zzz999"),
            (
                "jwt eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl here",
                "eyJzdWIiOiIx",
            ),
            ("the secret is my-secret-value", "my-secret-value"),
        ];
        for (text, leaked) in cases {
            let r = redact(text, &["my-secret-value"]);
            assert!(!r.contains(leaked), "{text} -> {r}");
            assert!(r.contains(MASK), "{text} -> {r}");
        }
        assert_eq!(
            redact("Authorization: Bearer abc", &[]),
            "Authorization: Bearer [redacted]"
        );
    }

    #[test]
    fn long_text_is_cut_to_one_line() {
        let r = redact(&format!("a\nb\r{}", "x".repeat(10_000)), &[]);
        assert!(r.chars().count() <= MAX_CHARS + 10, "{}", r.len());
        assert!(r.starts_with("a b ") && r.ends_with("[cut]"), "{r}");
        assert!(!r.contains('\n'));
    }

    #[test]
    fn plain_messages_pass() {
        let m = "You are missing the following permission(s): analytics:conversationDetail:view";
        assert_eq!(redact(m, &["sim-secret"]), m);
    }
}
