//! The simulated organisation: queues with their ACW settings, agents and the wrap-up code catalog.
//!
//! Everything here is derived from the seed alone and does not change from day to day; the conversations
//! come from `scenarios/`.

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use super::model::Str;
use super::seed::{rng_for, uuid, TAG_ORG};

/// The platform's fixed "Default Wrap-up Code" id, present in every org.
pub const DEFAULT_WRAPUP_CODE_ID: &str = "7fb334b0-0e9e-11e4-9191-0800200c9a66";
pub const TIMEOUT_CODE: &str = "ININ-WRAP-UP-TIMEOUT";
const QUEUE_NAMES: &[&str] = &[
    "Customer Service",
    "Billing",
    "Technical Support",
    "Sales",
    "Retention",
    "Collections",
    "Claims",
    "VIP Desk",
    "Returns",
    "Onboarding",
];

const FIRST_NAMES: &[&str] = &[
    "Ana", "Bruno", "Carla", "Diego", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira",
    "Luis", "Maya", "Nils", "Olga", "Pedro", "Quinn", "Rosa", "Sami", "Tara",
];

const LAST_NAMES: &[&str] = &[
    "Almeida", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Horvat", "Ivanova",
    "Jensen", "Kowalski", "Lopes", "Moreau", "Novak",
];

const CODE_NAMES: &[&str] = &[
    "Question answered",
    "Sale completed",
    "Payment arranged",
    "Complaint logged",
    "Refund issued",
    "Escalated to tier 2",
    "Callback scheduled",
    "Wrong number",
    "Account updated",
    "Order status",
    "Cancellation saved",
    "Cancellation processed",
    "Technical issue resolved",
    "Technical issue open",
    "Address change",
    "Password reset",
    "Product information",
    "Delivery problem",
    "Invoice copy sent",
    "Contract renewed",
    "Survey declined",
    "Duplicate contact",
    "Transferred",
    "Spam",
    "Fraud report",
    "Warranty claim",
    "Appointment booked",
    "Feedback received",
    "Upsell accepted",
];

#[derive(Debug, Clone)]
pub struct Queue {
    pub id: Uuid,
    pub name: Str,
    /// `acwSettings.wrapupPrompt` as the queue listing spells it.
    pub acw_prompt: &'static str,
    /// `acwSettings.timeoutMs`, for the timed prompts.
    pub acw_timeout_ms: Option<i64>,
}

/// ACW settings of the queues by index (cycled): every prompt appears in an org of five queues or more.
const QUEUE_ACW: &[(&str, Option<i64>)] = &[
    ("MANDATORY", None),
    ("OPTIONAL", None),
    ("MANDATORY_TIMEOUT", Some(60_000)),
    ("AGENT_REQUESTED", Some(120_000)),
    ("MANDATORY_FORCED_TIMEOUT", Some(30_000)),
    ("MANDATORY", None),
];

/// Prompts under which a code is required.
pub(super) const MANDATORY_PROMPTS: &[&str] =
    &["MANDATORY", "MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT"];
/// Prompts under which a leg may go without a code (or without ACW).
pub(super) const OPTIONAL_PROMPTS: &[&str] = &["OPTIONAL", "AGENT_REQUESTED"];
/// Prompts whose ACW ends on a timer.
pub(super) const TIMED_PROMPTS: &[&str] = &["MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT"];

/// The participant's `wrapupPrompt` spelling of a queue prompt.
pub(super) fn participant_prompt(queue_prompt: &str) -> &'static str {
    match queue_prompt {
        "OPTIONAL" => "optional",
        "MANDATORY_TIMEOUT" => "timeout",
        "MANDATORY_FORCED_TIMEOUT" => "forcedTimeout",
        "AGENT_REQUESTED" => "agentRequested",
        _ => "mandatory",
    }
}

#[derive(Debug, Clone)]
pub struct Agent {
    pub id: Uuid,
    pub name: Str,
    pub email: String,
}

#[derive(Debug, Clone)]
pub struct WrapupCode {
    pub id: Uuid,
    pub name: Str,
    pub date_created: DateTime<Utc>,
    pub(crate) id_str: Str,
}

/// Everything about the org that does not change from day to day.
#[derive(Debug)]
pub struct Org {
    pub seed: u64,
    pub home_division: Uuid,
    pub other_division: Uuid,
    pub queues: Vec<Queue>,
    pub agents: Vec<Agent>,
    /// Sorted by name, as `GET /api/v2/routing/wrapupcodes` lists them by default.
    pub codes: Vec<WrapupCode>,
    pub(super) ivr_flow: (Uuid, Str),
    names: HashMap<Uuid, Str>,
}

impl Org {
    pub fn generate(seed: u64, queues: u32, agents: u32, codes: u32) -> Org {
        let mut rng = rng_for(seed, TAG_ORG, 0);
        let home_division = uuid(&mut rng);
        let other_division = uuid(&mut rng);
        let queues: Vec<Queue> = (0..queues.max(1) as usize)
            .map(|i| Queue {
                id: uuid(&mut rng),
                name: match QUEUE_NAMES.get(i) {
                    Some(n) => Str::from(*n),
                    None => Str::from(format!("Queue {}", i + 1)),
                },
                acw_prompt: QUEUE_ACW[i % QUEUE_ACW.len()].0,
                acw_timeout_ms: QUEUE_ACW[i % QUEUE_ACW.len()].1,
            })
            .collect();
        let agents: Vec<Agent> = (0..agents.max(2) as usize)
            .map(|i| agent(i, uuid(&mut rng)))
            .collect();
        let mut code_list = code_catalog(&mut rng, codes);
        code_list.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        let ivr_flow = (uuid(&mut rng), Str::from("Main Inbound IVR"));
        let mut names = HashMap::new();
        for q in &queues {
            names.insert(q.id, q.name.clone());
        }
        for a in &agents {
            names.insert(a.id, a.name.clone());
        }
        Org {
            seed,
            home_division,
            other_division,
            queues,
            agents,
            codes: code_list,
            ivr_flow,
            names,
        }
    }

    /// Display name of a queue or user id.
    pub fn name_of(&self, id: Uuid) -> Option<Str> {
        self.names.get(&id).cloned()
    }
}

/// The `i`-th agent: names cycle through the lists, with a number once every pair has been used.
fn agent(i: usize, id: Uuid) -> Agent {
    let first = FIRST_NAMES[i % FIRST_NAMES.len()];
    let last = LAST_NAMES[(i / FIRST_NAMES.len() + i * 7) % LAST_NAMES.len()];
    let n = i / (FIRST_NAMES.len() * LAST_NAMES.len());
    let name = if n == 0 {
        format!("{first} {last}")
    } else {
        format!("{first} {last} {}", n + 1)
    };
    let email = format!(
        "{}.{}{}@example.com",
        first.to_lowercase(),
        last.to_lowercase(),
        if n == 0 {
            String::new()
        } else {
            (n + 1).to_string()
        }
    );
    Agent {
        id,
        name: Str::from(name),
        email,
    }
}

/// `codes` wrap-up codes: the platform's Default Wrap-up Code, then named outcomes (unsorted).
fn code_catalog(rng: &mut ChaCha8Rng, codes: u32) -> Vec<WrapupCode> {
    let created = Utc
        .with_ymd_and_hms(2021, 3, 15, 9, 0, 0)
        .single()
        .expect("date");
    let mut code_list = vec![WrapupCode {
        id: DEFAULT_WRAPUP_CODE_ID.parse().expect("uuid"),
        name: Str::from("Default Wrap-up Code"),
        date_created: Utc
            .with_ymd_and_hms(2014, 7, 16, 0, 0, 0)
            .single()
            .expect("date"),
        id_str: Str::from(DEFAULT_WRAPUP_CODE_ID),
    }];
    for i in 0..codes.saturating_sub(1) as usize {
        let id = uuid(rng);
        let name = match CODE_NAMES.get(i) {
            Some(n) => n.to_string(),
            None => format!("Outcome {:03}", i + 1),
        };
        code_list.push(WrapupCode {
            id,
            name: Str::from(name),
            date_created: created + Duration::hours(rng.random_range(0..20_000)),
            id_str: Str::from(id.to_string()),
        });
    }
    code_list
}
