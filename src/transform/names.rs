//! Id → name catalogs (wrap-up codes, queues, users) and the rule that turns an id into the name
//! written next to it.

use std::collections::HashMap;

use serde::Serialize;

use crate::transform::classify;

/// The fixed id Genesys gives every org's default code (it may be missing from the catalog listing).
pub const DEFAULT_CODE_ID: &str = "7fb334b0-0e9e-11e4-9191-0800200c9a66";

/// Id → name maps used to resolve names, saved with the run.
///
/// The name rule of every `*_name` column: null only when the id is null; the catalog's name when
/// the id resolves; otherwise `(unresolved) <id>`, so a gap in a catalog is visible in the files
/// and never looks like a missing value. System wrap-up literals (`ININ-*`, `OUTBOUND-*`) are
/// their own name.
#[derive(Debug, Default, Clone)]
pub struct Catalogs {
    pub codes: HashMap<String, String>,
    pub queues: HashMap<String, String>,
    pub users: HashMap<String, String>,
    /// Queue id → its after-call-work settings, as the queue listing returned them.
    pub queue_acw: HashMap<String, crate::api::wire::AcwSettings>,
}

/// The name of an id no catalog knows.
pub fn unresolved(id: &str) -> String {
    format!("(unresolved) {id}")
}

impl Catalogs {
    /// The catalog name of a code, or the literal of a system code; `None` when unknown.
    pub fn known_code(&self, code: &str) -> Option<String> {
        if classify::is_system_code(code) {
            return Some(code.to_string());
        }
        if let Some(n) = self.codes.get(code) {
            return Some(n.clone());
        }
        // The default code may be missing from the listing, but its name is fixed.
        (code == DEFAULT_CODE_ID).then(|| "Default Wrap-up Code".to_string())
    }

    /// The display name of a code by the name rule.
    pub fn code_name(&self, code: &str) -> String {
        self.known_code(code).unwrap_or_else(|| unresolved(code))
    }

    /// The display name of a queue by the name rule.
    pub fn queue_name(&self, id: &str) -> String {
        self.queues
            .get(id)
            .cloned()
            .unwrap_or_else(|| unresolved(id))
    }

    /// The configured wrap-up prompt and ACW timeout of a queue, when the listing gave them.
    pub fn queue_acw(&self, id: Option<&str>) -> (Option<String>, Option<i64>) {
        match id.and_then(|q| self.queue_acw.get(q)) {
            Some(a) => (a.wrapup_prompt.clone(), a.timeout_ms),
            None => (None, None),
        }
    }

    /// The display name of a user by the name rule.
    pub fn user_name(&self, id: &str) -> String {
        self.users
            .get(id)
            .cloned()
            .unwrap_or_else(|| unresolved(id))
    }
}

/// `*_name` cells written as `(unresolved) <id>`, per catalog, over both tables.
#[derive(Debug, Default, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Unresolved {
    pub codes: u64,
    pub queues: u64,
    pub users: u64,
}

impl Unresolved {
    pub fn add(&mut self, o: &Unresolved) {
        self.codes += o.codes;
        self.queues += o.queues;
        self.users += o.users;
    }
}

/// True when `name` is the fallback name of `id`.
pub fn is_unresolved(id: Option<&str>, name: Option<&str>) -> bool {
    matches!((id, name), (Some(id), Some(name)) if name == unresolved(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogs() -> Catalogs {
        let map = |k: &str, v: &str| [(k.to_string(), v.to_string())].into_iter().collect();
        Catalogs {
            codes: map("code-1", "Sales"),
            queues: map("q-1", "Billing"),
            users: map("u-1", "Ada Lovelace"),
            queue_acw: HashMap::new(),
        }
    }

    #[test]
    fn known_ids_get_the_catalog_name() {
        let c = catalogs();
        assert_eq!(c.code_name("code-1"), "Sales");
        assert_eq!(c.queue_name("q-1"), "Billing");
        assert_eq!(c.user_name("u-1"), "Ada Lovelace");
    }

    #[test]
    fn unknown_ids_are_marked_never_empty() {
        let c = catalogs();
        assert_eq!(c.code_name("code-9"), "(unresolved) code-9");
        assert_eq!(c.queue_name("q-9"), "(unresolved) q-9");
        assert_eq!(c.user_name("u-9"), "(unresolved) u-9");
        assert_eq!(Catalogs::default().user_name("u-1"), "(unresolved) u-1");
        assert!(c.known_code("code-9").is_none());
        assert!(is_unresolved(Some("q-9"), Some(&c.queue_name("q-9"))));
        assert!(!is_unresolved(Some("q-1"), Some(&c.queue_name("q-1"))));
        assert!(!is_unresolved(None, None));
    }

    #[test]
    fn system_literals_and_the_default_code_name_themselves() {
        let c = Catalogs::default();
        for code in ["ININ-WRAP-UP-TIMEOUT", "OUTBOUND-ANSWERING-MACHINE"] {
            assert_eq!(c.code_name(code), code);
            assert!(!is_unresolved(Some(code), Some(&c.code_name(code))));
        }
        assert_eq!(c.code_name(DEFAULT_CODE_ID), "Default Wrap-up Code");
    }
}
