//! The simulated organisation and its conversations.
//!
//! Owns everything that is derived from the seed: queues, agents, the wrap-up code catalog, and the
//! conversations of each UTC day. Days are generated on demand from `(seed, day)` alone, so any day can be
//! rebuilt identically at any time; the clock-anchored scenarios are derived from `(seed, anchor)` and slotted
//! into the day they start on. Each scenario also states its ground-truth labels.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Timelike, Utc};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use super::model::{
    ApiLeg, ApiWrapup, LegTruth, LookupOutcome, Meta, SimConversation, SimFlow, SimMetric,
    SimParticipant, SimSegment, SimSession, Str,
};
use crate::record::LegLabel;
use crate::record::Mismatch;

/// The platform's fixed "Default Wrap-up Code" id, present in every org.
pub const DEFAULT_WRAPUP_CODE_ID: &str = "7fb334b0-0e9e-11e4-9191-0800200c9a66";
pub const TIMEOUT_CODE: &str = "ININ-WRAP-UP-TIMEOUT";

/// Dialer dispositions written as literal codes on outbound agent legs.
const DIALER_CODES: &[&str] = &[
    "ININ-OUTBOUND-MACHINE",
    "ININ-OUTBOUND-BUSY",
    "ININ-OUTBOUND-NO-ANSWER",
    "ININ-OUTBOUND-LIVE-VOICE",
    "ININ-OUTBOUND-DISCONNECT",
    "ININ-OUTBOUND-SIT-UNCALLABLE",
    "ININ-OUTBOUND-TRANSFERRED-TO-QUEUE",
    "OUTBOUND-CONTACT-INVALID-SKILL-SKIPPED",
];

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
const MANDATORY_PROMPTS: &[&str] = &["MANDATORY", "MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT"];
/// Prompts under which a leg may go without a code (or without ACW).
const OPTIONAL_PROMPTS: &[&str] = &["OPTIONAL", "AGENT_REQUESTED"];
/// Prompts whose ACW ends on a timer.
const TIMED_PROMPTS: &[&str] = &["MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT"];

/// The participant's `wrapupPrompt` spelling of a queue prompt.
fn participant_prompt(queue_prompt: &str) -> &'static str {
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
    ivr_flow: (Uuid, Str),
    names: HashMap<Uuid, Str>,
}

const TAG_ORG: u64 = 1;
const TAG_DAY: u64 = 2;
const TAG_ANCHOR: u64 = 3;

fn rng_for(seed: u64, tag: u64, n: i64) -> ChaCha8Rng {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&seed.to_le_bytes());
    s[8..16].copy_from_slice(&tag.to_le_bytes());
    s[16..24].copy_from_slice(&n.to_le_bytes());
    ChaCha8Rng::from_seed(s)
}

fn uuid(rng: &mut impl RngCore) -> Uuid {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    uuid::Builder::from_random_bytes(b).into_uuid()
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn day_mask(seed: u64, head: &[u8]) -> u32 {
    let mut h = [0u8; 8];
    h[..6].copy_from_slice(&head[..6]);
    splitmix(seed ^ u64::from_le_bytes(h)) as u32
}

/// Days since 1970-01-01 (UTC).
pub(crate) fn day_number(d: NaiveDate) -> i64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days()
}

pub(crate) fn day_from_number(n: i64) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(Duration::try_days(n)?)
}

/// A conversation id that looks random but hides its start day, so a lookup by id can find its day.
fn conversation_id(rng: &mut impl RngCore, seed: u64, day: i64) -> Uuid {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    let code = (day as u32) ^ day_mask(seed, &b[..6]);
    b[10..14].copy_from_slice(&code.to_be_bytes());
    uuid::Builder::from_random_bytes(b).into_uuid()
}

/// The start day a simulator conversation id encodes (garbage for foreign ids; callers check existence).
pub(crate) fn day_of_id(seed: u64, id: Uuid) -> Option<NaiveDate> {
    let b = id.as_bytes();
    let code = u32::from_be_bytes([b[10], b[11], b[12], b[13]]);
    let n = i64::from(code ^ day_mask(seed, &b[..6]));
    // Only days from 1990 to 2200 are plausible; anything else is not ours.
    if !(7_300..=84_000).contains(&n) {
        return None;
    }
    day_from_number(n)
}

impl Org {
    // Long: being split with org.rs (issue 10).
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
            .map(|i| {
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
                    id: uuid(&mut rng),
                    name: Str::from(name),
                    email,
                }
            })
            .collect();
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
            let id = uuid(&mut rng);
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

/// One UTC day of conversations, sorted by `(conversationStart, conversationId)`.
#[derive(Debug)]
pub(crate) struct Day {
    pub conversations: Vec<SimConversation>,
    pub index: HashMap<Uuid, usize>,
}

/// The regular scenarios and their weights (out of the sum of all weights).
pub const SCENARIO_WEIGHTS: &[(&str, u32)] = &[
    ("coded", 30),
    ("rona_then_coded", 5),
    ("transfer_coded_then_timeout", 4),
    ("transfer_coded_then_no_wrapup_phase", 3),
    ("transfer_coded_then_skipped", 2),
    ("transfer_coded_to_user", 2),
    ("timeout", 3),
    ("system", 6),
    ("ivr_self_service", 7),
    ("queue_abandon", 5),
    ("no_wrapup_phase", 6),
    ("acw_skipped", 4),
    ("rona_only", 3),
    ("recovered", 4),
    ("lookup_skipped", 3),
    ("not_required", 4),
    ("missing", 4),
    ("purged", 2),
    ("other_division", 2),
    ("user_direct", 3),
    ("drift_no_wrapup_phase", 1),
    ("drift_required_on_optional", 1),
    ("drift_timeout_untimed", 1),
];

/// Names of the clock-anchored scenarios.
pub const ANCHORED_SCENARIOS: &[&str] = &[
    "in_progress_talking",
    "in_progress_wrapup",
    "in_progress_rona_talking",
    "too_recent_missing",
    "too_recent_recovered",
    "too_recent_not_required",
];

#[derive(Clone)]
enum Wrap {
    /// A wrap-up segment with this code lasting the ACW time.
    Code(Str, Str),
    /// A zero-length wrap-up segment with this code and no `tAcw`.
    CodeZero(Str, Str),
    /// A wrap-up segment without a code, `tAcw > 0`.
    NoCodeSegment,
    /// `tAcw > 0` but no wrap-up segment.
    AcwOnly,
    /// `acwSkipped: true`, with or without a short codeless wrap-up segment.
    Skipped { segment: bool },
    /// Nothing after the talk.
    NoPhase,
}

#[derive(Clone)]
enum Plan {
    Rona,
    Answered { wrap: Wrap },
}

#[derive(Clone)]
struct LegSpec {
    plan: Plan,
    /// A direct (non-ACD) leg: purpose `user`, no queue on its segments.
    direct: bool,
    final_label: LegLabel,
    analytics_label: LegLabel,
    api: ApiLeg,
    /// Queue prompts this leg is consistent with (empty: any); the queue is picked to match.
    accepts: &'static [&'static str],
    /// Set by the drift scenarios, which put the leg on a queue it is not consistent with.
    mismatch: Option<crate::record::Mismatch>,
}

fn api(required: bool, prompt: &'static str, skipped: bool) -> ApiLeg {
    ApiLeg {
        wrapup_required: required,
        wrapup_prompt: prompt,
        wrapup_skipped: skipped,
        wrapup: None,
        queue_id: None,
    }
}

fn ms(n: i64) -> Duration {
    Duration::milliseconds(n)
}

/// Builds conversations for one day (or for the anchor) from one rng stream.
struct Gen<'a> {
    org: &'a Org,
    rng: ChaCha8Rng,
    day: i64,
}

impl Gen<'_> {
    fn pick<'b, T>(&mut self, xs: &'b [T]) -> &'b T {
        &xs[self.rng.random_range(0..xs.len())]
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.random_range(lo..hi)
    }

    fn code(&mut self) -> (Str, Str) {
        let c = &self.org.codes[self.rng.random_range(0..self.org.codes.len())];
        (c.id_str.clone(), c.name.clone())
    }

    fn agents(&mut self, n: usize) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::with_capacity(n);
        while out.len() < n {
            let a = self.rng.random_range(0..self.org.agents.len());
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }

    fn phone(&mut self) -> Str {
        Str::from(format!(
            "+1555{:07}",
            self.rng.random_range(0..10_000_000u32)
        ))
    }

    fn participant(&mut self, purpose: &'static str, name: Option<Str>) -> SimParticipant {
        SimParticipant {
            participant_id: uuid(&mut self.rng),
            participant_name: name,
            purpose,
            user_id: None,
            sessions: Vec::new(),
            api: None,
            truth: None,
        }
    }

    fn session(&mut self, media: &'static str, direction: &'static str) -> SimSession {
        SimSession {
            session_id: uuid(&mut self.rng),
            media_type: media,
            direction,
            acw_skipped: false,
            peer_id: None,
            flow: None,
            metrics: Vec::new(),
            segments: Vec::new(),
        }
    }

    fn conversation(
        &mut self,
        scenario: &'static str,
        direction: &'static str,
        participants: Vec<SimParticipant>,
    ) -> SimConversation {
        let start = participants
            .iter()
            .flat_map(|p| p.sessions.iter().flat_map(|s| s.segments.iter()))
            .map(|g| g.segment_start)
            .min()
            .expect("a conversation has segments");
        let end = participants
            .iter()
            .flat_map(|p| p.sessions.iter().flat_map(|s| s.segments.iter()))
            .filter_map(|g| g.segment_end)
            .max();
        SimConversation {
            conversation_id: conversation_id(&mut self.rng, self.org.seed, self.day),
            conversation_start: start,
            conversation_end: end,
            division_ids: [self.org.home_division],
            originating_direction: direction,
            participants,
            meta: Meta {
                scenario,
                anchored: false,
                lookup: LookupOutcome::Normal,
            },
        }
    }

    fn media(&mut self) -> &'static str {
        match self.rng.random_range(0..100) {
            0..55 => "voice",
            55..63 => "chat",
            63..80 => "message",
            80..90 => "email",
            _ => "callback",
        }
    }

    fn talk_ms(&mut self, media: &'static str) -> i64 {
        match media {
            "voice" | "callback" => self.range(20_000, 900_000),
            "email" => self.range(60_000, 600_000),
            _ => self.range(90_000, 1_500_000),
        }
    }

    /// An ACD-routed inbound conversation: customer, optional IVR, queue, then the given agent legs in order.
    /// With no answered leg the customer abandons in queue.
    fn routed(
        &mut self,
        scenario: &'static str,
        t0: DateTime<Utc>,
        legs: Vec<LegSpec>,
    ) -> SimConversation {
        let wanted: Vec<&str> = MANDATORY_PROMPTS
            .iter()
            .chain(OPTIONAL_PROMPTS)
            .copied()
            .filter(|p| {
                legs.iter()
                    .all(|l| l.accepts.is_empty() || l.accepts.contains(p))
            })
            .collect();
        let queue = self.queue_with(&wanted);
        self.routed_in(scenario, t0, legs, queue)
    }

    /// A queue whose prompt is one of `prompts` (any queue when the org has none such).
    fn queue_with(&mut self, prompts: &[&str]) -> Queue {
        let org = self.org;
        let fitting: Vec<&Queue> = org
            .queues
            .iter()
            .filter(|q| prompts.contains(&q.acw_prompt))
            .collect();
        if fitting.is_empty() {
            self.pick(&org.queues).clone()
        } else {
            (*self.pick(&fitting)).clone()
        }
    }

    /// [`Self::routed`] on a given queue.
    // Long: being split with org.rs (issue 10).
    fn routed_in(
        &mut self,
        scenario: &'static str,
        t0: DateTime<Utc>,
        legs: Vec<LegSpec>,
        queue: Queue,
    ) -> SimConversation {
        let media = self.media();
        let ivr = media == "voice" && self.rng.random_bool(0.8);
        let agent_ix = self.agents(legs.len());
        let cust_name = if media == "voice" || media == "message" {
            Some(self.phone())
        } else {
            None
        };
        let mut customer = self.participant("customer", cust_name);
        let mut cs = self.session(media, "inbound");
        let sys_end = t0 + ms(self.range(150, 400));
        cs.segments.push(seg(t0, Some(sys_end), "system"));
        cs.metrics.push(metric(sys_end, "nConnected", 1));
        let mut parts = Vec::new();

        let mut q0 = sys_end;
        if ivr {
            let mut p = self.participant("ivr", Some(self.org.ivr_flow.1.clone()));
            let mut s = self.session(media, "inbound");
            s.peer_id = Some(cs.session_id);
            let ivr_start = t0 + ms(40);
            let ivr_end = ivr_start + ms(self.range(15_000, 120_000));
            s.segments.push(seg(t0, Some(ivr_start), "system"));
            let mut g = seg(ivr_start, Some(ivr_end), "ivr");
            g.disconnect_type = Some("transfer");
            s.segments.push(g);
            let d = (ivr_end - ivr_start).num_milliseconds();
            s.metrics.push(metric(sys_end, "nFlow", 1));
            s.metrics.push(metric(ivr_end, "tIvr", d));
            s.metrics.push(metric(ivr_end, "tFlow", d));
            s.metrics.push(metric(ivr_end, "tFlowExit", d));
            s.flow = Some(SimFlow {
                flow_id: self.org.ivr_flow.0,
                flow_name: self.org.ivr_flow.1.clone(),
                flow_type: "INBOUNDCALL",
                flow_version: "12.0",
                entry_type: "dnis",
                exit_reason: Some("TRANSFER"),
                transfer_type: Some("ACD"),
                transfer_target_address: Some(queue.id),
            });
            p.sessions.push(s);
            parts.push(p);
            q0 = ivr_end + ms(16);
        }

        let mut acd = self.participant("acd", Some(queue.name.clone()));
        let mut asess = self.session(media, "inbound");
        asess.peer_id = Some(cs.session_id);
        let offered = q0 + ms(14);
        let mut delay = seg(q0, Some(offered), "delay");
        delay.queue_id = Some(queue.id);
        asess.segments.push(delay);
        asess.metrics.push(metric(offered, "nOffered", 1));

        let mut cursor = offered + ms(self.range(2_000, 90_000));
        let mut answered_at: Option<DateTime<Utc>> = None;
        let mut talk_end_last: Option<DateTime<Utc>> = None;
        let n_answered = legs
            .iter()
            .filter(|l| matches!(l.plan, Plan::Answered { .. }))
            .count();
        let mut answered_seen = 0;
        let agent_dir = if media == "callback" {
            "outbound"
        } else {
            "inbound"
        };
        for (leg, ix) in legs.into_iter().zip(agent_ix) {
            let agent = self.org.agents[ix].clone();
            // A direct leg (a transfer to a user) has purpose `user` and no queue anywhere.
            let leg_queue = (!leg.direct).then_some(queue.id);
            let mut p = self.participant(if leg.direct { "user" } else { "agent" }, None);
            p.user_id = Some(agent.id);
            let mut s = self.session(media, agent_dir);
            s.peer_id = Some(cs.session_id);
            let mut api = leg.api.clone();
            api.queue_id = leg_queue;
            // The participant shows the prompt of the queue that governed it; drift legs keep their
            // own, and a direct leg had no queue.
            if leg.mismatch.is_none() && !leg.direct {
                api.wrapup_prompt = participant_prompt(queue.acw_prompt);
            }
            let mut code_at = None;
            match leg.plan {
                Plan::Rona => {
                    let alert_end = cursor + ms(self.range(8_000, 30_000));
                    let mut g = seg(cursor, Some(alert_end), "alert");
                    g.queue_id = leg_queue;
                    g.disconnect_type = Some("client");
                    s.segments.push(g);
                    let d = (alert_end - cursor).num_milliseconds();
                    s.metrics.push(metric(alert_end, "nError", 1));
                    s.metrics.push(metric(alert_end, "tAlert", d));
                    s.metrics.push(metric(alert_end, "tNotResponding", d));
                    cursor = alert_end + ms(self.range(250, 2_500));
                }
                Plan::Answered { wrap } => {
                    answered_seen += 1;
                    let alert_start = cursor;
                    let answer = alert_start + ms(self.range(1_000, 8_000));
                    let mut g = seg(alert_start, Some(answer), "alert");
                    g.queue_id = leg_queue;
                    s.segments.push(g);
                    s.metrics.push(metric(
                        answer,
                        "tAlert",
                        (answer - alert_start).num_milliseconds(),
                    ));
                    let waited = match answered_at {
                        None => {
                            answered_at = Some(answer);
                            (answer - offered).num_milliseconds()
                        }
                        Some(_) => (answer - alert_start).num_milliseconds(),
                    };
                    s.metrics.push(metric(answer, "tAnswered", waited));
                    let talk = self.talk_ms(media);
                    let hold = if media == "voice" && self.rng.random_bool(0.15) {
                        Some(self.range(10_000, 120_000))
                    } else {
                        None
                    };
                    let last_disc = if answered_seen < n_answered {
                        "transfer"
                    } else if self.rng.random_bool(0.6) {
                        "peer"
                    } else {
                        "client"
                    };
                    let talk_end = match hold {
                        None => {
                            let e = answer + ms(talk);
                            let mut g = seg(answer, Some(e), "interact");
                            g.queue_id = leg_queue;
                            g.disconnect_type = Some(last_disc);
                            s.segments.push(g);
                            e
                        }
                        Some(h) => {
                            let first = talk / 2;
                            let h0 = answer + ms(first);
                            let h1 = h0 + ms(h);
                            let e = h1 + ms(talk - first);
                            let mut a = seg(answer, Some(h0), "interact");
                            a.queue_id = leg_queue;
                            let mut b = seg(h0, Some(h1), "hold");
                            b.queue_id = leg_queue;
                            let mut c = seg(h1, Some(e), "interact");
                            c.queue_id = leg_queue;
                            c.disconnect_type = Some(last_disc);
                            s.segments.extend([a, b, c]);
                            s.metrics.push(metric(h1, "tHeld", h));
                            s.metrics.push(metric(h1, "tHeldComplete", h));
                            e
                        }
                    };
                    s.metrics.push(metric(talk_end, "tTalk", talk));
                    s.metrics.push(metric(talk_end, "tTalkComplete", talk));
                    let acw = self.wrap(&mut s, &wrap, talk_end, leg_queue, &mut api, &mut code_at);
                    let handle_at = talk_end + ms(acw);
                    s.metrics
                        .push(metric(handle_at, "tHandle", talk + hold.unwrap_or(0) + acw));
                    talk_end_last = Some(talk_end);
                    cursor = talk_end + ms(self.range(150, 1_500));
                }
            }
            p.sessions.push(s);
            p.api = Some(api);
            p.truth = Some(LegTruth {
                final_label: leg.final_label,
                analytics_label: leg.analytics_label,
                code_at,
                mismatch: leg.mismatch,
            });
            parts.push(p);
        }

        let cust_end = match talk_end_last {
            Some(e) => e,
            None => cursor + ms(self.range(3_000, 60_000)),
        };
        let mut ai = seg(offered, Some(answered_at.unwrap_or(cust_end)), "interact");
        ai.queue_id = Some(queue.id);
        match answered_at {
            Some(a) => {
                ai.disconnect_type = Some("transfer");
                asess
                    .metrics
                    .push(metric(a, "tAcd", (a - offered).num_milliseconds()));
            }
            None => {
                ai.disconnect_type = Some("peer");
                asess.metrics.push(metric(
                    cust_end,
                    "tAbandon",
                    (cust_end - offered).num_milliseconds(),
                ));
            }
        }
        asess.segments.push(ai);
        acd.sessions.push(asess);

        let mut ci = seg(sys_end, Some(cust_end), "interact");
        ci.queue_id = Some(queue.id);
        ci.disconnect_type = Some(if talk_end_last.is_some() && self.rng.random_bool(0.5) {
            "peer"
        } else {
            "endpoint"
        });
        cs.segments.push(ci);
        cs.metrics.push(metric(
            cust_end,
            "tConnected",
            (cust_end - sys_end).num_milliseconds(),
        ));
        customer.sessions.push(cs);

        let mut all = Vec::with_capacity(parts.len() + 2);
        all.push(customer);
        // IVR first (if any), then the queue, then agents: the order analytics lists them in.
        let mut parts = parts.into_iter().peekable();
        if ivr {
            all.extend(parts.next());
        }
        all.push(acd);
        all.extend(parts);
        self.conversation(scenario, "inbound", all)
    }

    /// Writes the after-call-work part of an agent session; returns the `tAcw` in ms.
    fn wrap(
        &mut self,
        s: &mut SimSession,
        wrap: &Wrap,
        talk_end: DateTime<Utc>,
        queue: Option<Uuid>,
        api: &mut ApiLeg,
        code_at: &mut Option<DateTime<Utc>>,
    ) -> i64 {
        let wseg = |start: DateTime<Utc>, end: DateTime<Utc>, code: Option<Str>| {
            let mut g = seg(start, Some(end), "wrapup");
            g.queue_id = queue;
            g.disconnect_type = Some("client");
            if code.is_some() {
                g.wrap_up_note = Some("");
            }
            g.wrap_up_code = code;
            g
        };
        match wrap {
            Wrap::Code(code, name) => {
                let acw = self.range(3_000, 120_000);
                let end = talk_end + ms(acw);
                s.segments.push(wseg(talk_end, end, Some(code.clone())));
                s.metrics.push(metric(end, "tAcw", acw));
                *code_at = Some(end);
                api.wrapup = Some(ApiWrapup {
                    code: code.clone(),
                    name: name.clone(),
                    notes: "",
                    duration_seconds: acw / 1000,
                    end_time: end,
                });
                acw
            }
            Wrap::CodeZero(code, name) => {
                s.segments
                    .push(wseg(talk_end, talk_end, Some(code.clone())));
                *code_at = Some(talk_end);
                api.wrapup = Some(ApiWrapup {
                    code: code.clone(),
                    name: name.clone(),
                    notes: "",
                    duration_seconds: 0,
                    end_time: talk_end,
                });
                0
            }
            Wrap::NoCodeSegment => {
                let acw = self.range(5_000, 180_000);
                let end = talk_end + ms(acw);
                s.segments.push(wseg(talk_end, end, None));
                s.metrics.push(metric(end, "tAcw", acw));
                self.fill_recovered(api, acw, end);
                acw
            }
            Wrap::AcwOnly => {
                let acw = self.range(5_000, 180_000);
                let end = talk_end + ms(acw);
                s.metrics.push(metric(end, "tAcw", acw));
                self.fill_recovered(api, acw, end);
                acw
            }
            Wrap::Skipped { segment } => {
                s.acw_skipped = true;
                if *segment {
                    let acw = self.range(500, 4_000);
                    let end = talk_end + ms(acw);
                    s.segments.push(wseg(talk_end, end, None));
                    s.metrics.push(metric(end, "tAcw", acw));
                    acw
                } else {
                    0
                }
            }
            Wrap::NoPhase => 0,
        }
    }

    /// A recovered leg's code lives only in the Conversations API; the placeholder set by the scenario is
    /// completed here with the real ACW timing.
    fn fill_recovered(&mut self, api: &mut ApiLeg, acw: i64, end: DateTime<Utc>) {
        if let Some(w) = &mut api.wrapup {
            w.duration_seconds = acw / 1000;
            w.end_time = end;
        }
    }

    fn coded_leg(&mut self) -> LegSpec {
        let (code, name) = self.code();
        let prompt = *self.pick(&["mandatory", "mandatory", "optional", "timeout"]);
        LegSpec {
            direct: false,
            plan: Plan::Answered {
                wrap: Wrap::Code(code, name),
            },
            final_label: LegLabel::Coded,
            analytics_label: LegLabel::Coded,
            api: api(prompt != "optional", prompt, false),
            accepts: &[],
            mismatch: None,
        }
    }

    fn timeout_leg(&self) -> LegSpec {
        let t: Str = Str::from(TIMEOUT_CODE);
        LegSpec {
            direct: false,
            plan: Plan::Answered {
                wrap: Wrap::Code(t.clone(), t),
            },
            final_label: LegLabel::Timeout,
            analytics_label: LegLabel::Timeout,
            api: api(true, "timeout", false),
            accepts: TIMED_PROMPTS,
            mismatch: None,
        }
    }

    fn rona_leg(&self) -> LegSpec {
        LegSpec {
            direct: false,
            plan: Plan::Rona,
            final_label: LegLabel::NotConnected,
            analytics_label: LegLabel::NotConnected,
            api: api(false, "mandatory", false),
            accepts: &[],
            mismatch: None,
        }
    }

    /// A leg whose agent skipped ACW (`acwSkipped: true`).
    fn skipped_leg(&mut self) -> LegSpec {
        let segment = self.rng.random_bool(0.5);
        LegSpec {
            direct: false,
            plan: Plan::Answered {
                wrap: Wrap::Skipped { segment },
            },
            final_label: LegLabel::Skipped,
            analytics_label: LegLabel::Skipped,
            api: api(false, "agentRequested", true),
            accepts: OPTIONAL_PROMPTS,
            mismatch: None,
        }
    }

    /// A leg with ACW but no code in analytics; `final_label` is what the lookup will show.
    fn lookup_leg(&mut self, final_label: LegLabel, api_leg: ApiLeg) -> LegSpec {
        let wrap = if self.rng.random_bool(0.6) {
            Wrap::NoCodeSegment
        } else {
            Wrap::AcwOnly
        };
        LegSpec {
            direct: false,
            plan: Plan::Answered { wrap },
            final_label,
            analytics_label: LegLabel::NeedsLookup,
            api: api_leg,
            accepts: match final_label {
                LegLabel::Missing | LegLabel::Recovered => MANDATORY_PROMPTS,
                LegLabel::NotRequired => OPTIONAL_PROMPTS,
                _ => &[],
            },
            mismatch: None,
        }
    }

    /// A connected leg with no wrap-up phase at all.
    fn no_phase_leg(&self) -> LegSpec {
        LegSpec {
            direct: false,
            plan: Plan::Answered {
                wrap: Wrap::NoPhase,
            },
            final_label: LegLabel::NoWrapupPhase,
            analytics_label: LegLabel::NoWrapupPhase,
            api: api(false, "optional", false),
            accepts: OPTIONAL_PROMPTS,
            mismatch: None,
        }
    }

    fn with_optional_rona(&mut self, leg: LegSpec) -> Vec<LegSpec> {
        if self.rng.random_bool(0.1) {
            vec![self.rona_leg(), leg]
        } else {
            vec![leg]
        }
    }

    /// Builds one conversation of the named scenario starting at `t0`.
    // Long: being split with org.rs (issue 10).
    fn scenario(&mut self, name: &'static str, t0: DateTime<Utc>) -> SimConversation {
        match name {
            "coded" => {
                let l = self.coded_leg();
                self.routed(name, t0, vec![l])
            }
            "rona_then_coded" => {
                let l = self.coded_leg();
                self.routed(name, t0, vec![self.rona_leg(), l])
            }
            "transfer_coded_then_timeout" => {
                let a = self.coded_leg();
                self.routed(name, t0, vec![a, self.timeout_leg()])
            }
            "transfer_coded_then_no_wrapup_phase" => {
                let a = self.coded_leg();
                self.routed(name, t0, vec![a, self.no_phase_leg()])
            }
            "transfer_coded_then_skipped" => {
                let a = self.coded_leg();
                let b = self.skipped_leg();
                self.routed(name, t0, vec![a, b])
            }
            "transfer_coded_to_user" => {
                let a = self.coded_leg();
                // A transfer to a user directly: no queue, so it does not choose the queue either.
                let b = LegSpec {
                    direct: true,
                    accepts: &[],
                    ..self.no_phase_leg()
                };
                self.routed(name, t0, vec![a, b])
            }
            "timeout" => self.routed(name, t0, vec![self.timeout_leg()]),
            "system" => self.dialer(name, t0),
            "ivr_self_service" => self.ivr_only(name, t0),
            "queue_abandon" => self.routed(name, t0, vec![]),
            "no_wrapup_phase" => {
                let l = self.no_phase_leg();
                let legs = self.with_optional_rona(l);
                self.routed(name, t0, legs)
            }
            "acw_skipped" => {
                let l = self.skipped_leg();
                self.routed(name, t0, vec![l])
            }
            "rona_only" => self.routed(name, t0, vec![self.rona_leg()]),
            "recovered" => {
                let (code, cname) = self.code();
                let mut a = api(true, "mandatory", false);
                a.wrapup = Some(ApiWrapup {
                    code,
                    name: cname,
                    notes: "",
                    duration_seconds: 0,
                    end_time: t0,
                });
                let l = self.lookup_leg(LegLabel::Recovered, a);
                let legs = self.with_optional_rona(l);
                self.routed(name, t0, legs)
            }
            "lookup_skipped" => {
                let l = self.lookup_leg(LegLabel::Skipped, api(true, "optional", true));
                self.routed(name, t0, vec![l])
            }
            "not_required" => {
                let l = self.lookup_leg(LegLabel::NotRequired, api(false, "optional", false));
                let legs = self.with_optional_rona(l);
                self.routed(name, t0, legs)
            }
            "missing" => {
                let l = self.lookup_leg(LegLabel::Missing, api(true, "mandatory", false));
                let legs = self.with_optional_rona(l);
                self.routed(name, t0, legs)
            }
            "purged" | "other_division" => {
                let l = self.lookup_leg(LegLabel::LookupFailed, api(true, "mandatory", false));
                let mut c = self.routed(name, t0, vec![l]);
                if name == "purged" {
                    c.meta.lookup = LookupOutcome::Purged;
                } else {
                    c.meta.lookup = LookupOutcome::OtherDivision;
                    c.division_ids = [self.org.other_division];
                }
                c
            }
            "user_direct" => self.user_direct(name, t0),
            // Drift: the leg's outcome disagrees with its queue's configured prompt.
            "drift_no_wrapup_phase" => {
                let mut l = self.no_phase_leg();
                l.mismatch = Some(Mismatch::NotAskedOnMandatoryQueue);
                let q = self.queue_with(MANDATORY_PROMPTS);
                self.routed_in(name, t0, vec![l], q)
            }
            "drift_required_on_optional" => {
                let mut l = self.lookup_leg(LegLabel::Missing, api(true, "mandatory", false));
                l.mismatch = Some(Mismatch::RequiredOnOptionalQueue);
                let q = self.queue_with(&["OPTIONAL"]);
                self.routed_in(name, t0, vec![l], q)
            }
            "drift_timeout_untimed" => {
                let mut l = self.timeout_leg();
                l.mismatch = Some(Mismatch::TimeoutWithoutTimedPrompt);
                let q = self.queue_with(&["MANDATORY", "OPTIONAL"]);
                self.routed_in(name, t0, vec![l], q)
            }
            other => panic!("unknown scenario {other}"),
        }
    }

    /// An IVR-only call: the caller finished (or gave up) in the menu.
    fn ivr_only(&mut self, name: &'static str, t0: DateTime<Utc>) -> SimConversation {
        let mut customer = {
            let ph = self.phone();
            self.participant("customer", Some(ph))
        };
        let mut cs = self.session("voice", "inbound");
        let sys_end = t0 + ms(self.range(150, 400));
        let end = t0 + ms(self.range(20_000, 300_000));
        cs.segments.push(seg(t0, Some(sys_end), "system"));
        let mut ci = seg(sys_end, Some(end), "interact");
        ci.disconnect_type = Some("endpoint");
        cs.segments.push(ci);
        cs.metrics.push(metric(sys_end, "nConnected", 1));
        cs.metrics.push(metric(
            end,
            "tConnected",
            (end - sys_end).num_milliseconds(),
        ));
        let mut ivr = self.participant("ivr", Some(self.org.ivr_flow.1.clone()));
        let mut s = self.session("voice", "inbound");
        s.peer_id = Some(cs.session_id);
        let ivr_start = t0 + ms(40);
        s.segments.push(seg(t0, Some(ivr_start), "system"));
        let mut g = seg(ivr_start, Some(end), "ivr");
        g.disconnect_type = Some("peer");
        s.segments.push(g);
        let d = (end - ivr_start).num_milliseconds();
        s.metrics.push(metric(sys_end, "nFlow", 1));
        s.metrics.push(metric(end, "tIvr", d));
        s.metrics.push(metric(end, "tFlow", d));
        s.metrics.push(metric(end, "tFlowDisconnect", d));
        s.flow = Some(SimFlow {
            flow_id: self.org.ivr_flow.0,
            flow_name: self.org.ivr_flow.1.clone(),
            flow_type: "INBOUNDCALL",
            flow_version: "12.0",
            entry_type: "dnis",
            exit_reason: Some("DISCONNECT"),
            transfer_type: None,
            transfer_target_address: None,
        });
        customer.sessions.push(cs);
        ivr.sessions.push(s);
        self.conversation(name, "inbound", vec![customer, ivr])
    }

    /// An outbound dialer call whose agent leg carries a system disposition.
    // Long: being split with org.rs (issue 10).
    fn dialer(&mut self, name: &'static str, t0: DateTime<Utc>) -> SimConversation {
        let org = self.org;
        let queue = self.pick(&org.queues).clone();
        let org = self.org;
        let agent = self.pick(&org.agents).clone();
        let mut p = self.participant("agent", None);
        p.user_id = Some(agent.id);
        let mut code_at = None;
        let mut a = api(true, "mandatory", false);
        a.queue_id = Some(queue.id);
        if self.rng.random_bool(0.3) {
            // Preview skipped: the agent saw the preview and skipped it; no customer leg was ever created.
            let code: Str = Str::from("ININ-OUTBOUND-PREVIEW-SKIPPED");
            let mut s = self.session("callback", "outbound");
            let end = t0 + ms(self.range(3_000, 25_000));
            let mut g = seg(t0, Some(end), "alert");
            g.queue_id = Some(queue.id);
            s.segments.push(g);
            s.metrics
                .push(metric(end, "tAlert", (end - t0).num_milliseconds()));
            self.wrap(
                &mut s,
                &Wrap::CodeZero(code.clone(), code),
                end,
                Some(queue.id),
                &mut a,
                &mut code_at,
            );
            p.sessions.push(s);
            p.api = Some(a);
            p.truth = Some(LegTruth {
                final_label: LegLabel::System,
                analytics_label: LegLabel::System,
                code_at,
                mismatch: None,
            });
            return self.conversation(name, "outbound", vec![p]);
        }
        let code: Str = Str::from(*self.pick(DIALER_CODES));
        let customer = {
            let ph = self.phone();
            self.participant("customer", Some(ph))
        };
        let mut cs = self.session("voice", "outbound");
        let ring_end = t0 + ms(self.range(4_000, 25_000));
        let talk = self.range(2_000, 240_000);
        let talk_end = ring_end + ms(talk);
        cs.segments.push(seg(t0, Some(ring_end), "dialing"));
        let mut ci = seg(ring_end, Some(talk_end), "interact");
        ci.disconnect_type = Some("peer");
        cs.segments.push(ci);
        cs.metrics.push(metric(ring_end, "nConnected", 1));
        cs.metrics.push(metric(talk_end, "tConnected", talk));
        let mut s = self.session("voice", "outbound");
        s.peer_id = Some(cs.session_id);
        let mut g = seg(ring_end, Some(talk_end), "interact");
        g.queue_id = Some(queue.id);
        g.disconnect_type = Some("client");
        s.segments.push(g);
        s.metrics.push(metric(talk_end, "tTalk", talk));
        s.metrics.push(metric(talk_end, "tTalkComplete", talk));
        let wrap = if self.rng.random_bool(0.4) {
            Wrap::CodeZero(code.clone(), code)
        } else {
            Wrap::Code(code.clone(), code)
        };
        let acw = self.wrap(
            &mut s,
            &wrap,
            talk_end,
            Some(queue.id),
            &mut a,
            &mut code_at,
        );
        s.metrics
            .push(metric(talk_end + ms(acw), "tHandle", talk + acw));
        p.sessions.push(s);
        p.api = Some(a);
        p.truth = Some(LegTruth {
            final_label: LegLabel::System,
            analytics_label: LegLabel::System,
            code_at,
            mismatch: None,
        });
        self.conversation(name, "outbound", vec![customer_with(customer, cs), p])
    }

    /// A direct (non-ACD) outbound call placed by a user: purpose `user`, no queue.
    fn user_direct(&mut self, name: &'static str, t0: DateTime<Utc>) -> SimConversation {
        let org = self.org;
        let agent = self.pick(&org.agents).clone();
        let mut p = self.participant("user", None);
        p.user_id = Some(agent.id);
        let mut s = self.session("voice", "outbound");
        let dial_end = t0 + ms(self.range(3_000, 20_000));
        let talk = self.range(10_000, 600_000);
        let talk_end = dial_end + ms(talk);
        s.segments.push(seg(t0, Some(dial_end), "dialing"));
        let mut g = seg(dial_end, Some(talk_end), "interact");
        g.disconnect_type = Some("client");
        s.segments.push(g);
        s.metrics.push(metric(talk_end, "tTalk", talk));
        s.metrics.push(metric(talk_end, "tTalkComplete", talk));
        let (wrap, label, mut a) = if self.rng.random_bool(0.5) {
            let (c, n) = self.code();
            (
                Wrap::Code(c, n),
                LegLabel::Coded,
                api(false, "optional", false),
            )
        } else {
            (
                Wrap::NoPhase,
                LegLabel::NoWrapupPhase,
                api(false, "optional", false),
            )
        };
        let mut code_at = None;
        let acw = self.wrap(&mut s, &wrap, talk_end, None, &mut a, &mut code_at);
        s.metrics
            .push(metric(talk_end + ms(acw), "tHandle", talk + acw));
        p.sessions.push(s);
        p.api = Some(a);
        p.truth = Some(LegTruth {
            final_label: label,
            analytics_label: label,
            code_at,
            mismatch: None,
        });
        let mut ext = {
            let ph = self.phone();
            self.participant("external", Some(ph))
        };
        let mut es = self.session("voice", "outbound");
        es.peer_id = Some(p.sessions[0].session_id);
        let mut eg = seg(dial_end, Some(talk_end), "interact");
        eg.disconnect_type = Some("peer");
        es.segments.push(eg);
        ext.sessions.push(es);
        self.conversation(name, "outbound", vec![p, ext])
    }

    /// A start time on this UTC day, clustered in the org's local business hours.
    fn start_time(&mut self, day_start: DateTime<Utc>, tz: chrono_tz::Tz) -> DateTime<Utc> {
        loop {
            let t = day_start + ms(self.range(0, 86_400_000));
            let h = t.with_timezone(&tz).hour();
            if (7..22).contains(&h) || self.rng.random_bool(0.08) {
                return t;
            }
        }
    }

    fn weighted_scenario(&mut self) -> &'static str {
        let total: u32 = SCENARIO_WEIGHTS.iter().map(|(_, w)| w).sum();
        let mut x = self.rng.random_range(0..total);
        for (name, w) in SCENARIO_WEIGHTS {
            if x < *w {
                return name;
            }
            x -= w;
        }
        SCENARIO_WEIGHTS[0].0
    }
}

fn customer_with(mut p: SimParticipant, s: SimSession) -> SimParticipant {
    p.sessions.push(s);
    p
}

fn seg(start: DateTime<Utc>, end: Option<DateTime<Utc>>, kind: &'static str) -> SimSegment {
    SimSegment {
        conference: false,
        segment_start: start,
        segment_end: end,
        segment_type: kind,
        queue_id: None,
        disconnect_type: None,
        wrap_up_code: None,
        wrap_up_note: None,
    }
}

fn metric(at: DateTime<Utc>, name: &'static str, value: i64) -> SimMetric {
    SimMetric {
        emit_date: at,
        name,
        value,
    }
}

fn day_start(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
}

/// Generates the regular conversations of `day` plus the anchored ones that start on it.
pub(crate) fn generate_day(
    org: &Org,
    per_day: u32,
    tz: chrono_tz::Tz,
    day: NaiveDate,
    anchored: &[SimConversation],
) -> Day {
    let n = day_number(day);
    let mut g = Gen {
        org,
        rng: rng_for(org.seed, TAG_DAY, n),
        day: n,
    };
    let start = day_start(day);
    let mut conversations = Vec::with_capacity(per_day as usize + anchored.len());
    for _ in 0..per_day {
        let t0 = g.start_time(start, tz);
        let name = g.weighted_scenario();
        conversations.push(g.scenario(name, t0));
    }
    conversations.extend(
        anchored
            .iter()
            .filter(|c| c.conversation_start.date_naive() == day)
            .cloned(),
    );
    conversations.sort_by(|a, b| {
        a.conversation_start
            .cmp(&b.conversation_start)
            .then(a.conversation_id.cmp(&b.conversation_id))
    });
    let index = conversations
        .iter()
        .enumerate()
        .map(|(i, c)| (c.conversation_id, i))
        .collect();
    Day {
        conversations,
        index,
    }
}

/// The clock-anchored conversations around `anchor`: three still running, three that just ended.
pub(crate) fn generate_anchored(org: &Org, anchor: DateTime<Utc>) -> Vec<SimConversation> {
    let mut g = Gen {
        org,
        rng: rng_for(org.seed, TAG_ANCHOR, anchor.timestamp_millis()),
        day: 0,
    };
    let mut out = Vec::new();
    for name in ANCHORED_SCENARIOS {
        let mut c = match *name {
            "in_progress_talking" | "in_progress_wrapup" => g.scenario("coded", anchor),
            "in_progress_rona_talking" => g.scenario("rona_then_coded", anchor),
            "too_recent_missing" => g.scenario("missing", anchor),
            "too_recent_recovered" => g.scenario("recovered", anchor),
            _ => g.scenario("not_required", anchor),
        };
        c.meta.scenario = name;
        c.meta.anchored = true;
        let shift_target = if name.starts_with("too_recent") {
            // Ended 3–10 minutes before the anchor.
            c.end() + ms(g.range(180_000, 600_000))
        } else {
            let agent = c
                .participants
                .iter()
                .rev()
                .find(|p| SimConversation::is_agent_leg(p))
                .expect("agent");
            let segs = &agent.sessions[0].segments;
            let kind = if *name == "in_progress_wrapup" {
                "wrapup"
            } else {
                "interact"
            };
            let s = segs
                .iter()
                .find(|s| s.segment_type == kind)
                .expect("segment");
            let e = segs
                .iter()
                .rev()
                .find(|s| s.segment_type == kind)
                .and_then(|s| s.segment_end)
                .expect("end");
            let frac = g.rng.random_range(0.3..0.7);
            s.segment_start + ms(((e - s.segment_start).num_milliseconds() as f64 * frac) as i64)
        };
        c.shift(anchor - shift_target);
        g.day = day_number(c.conversation_start.date_naive());
        c.conversation_id = conversation_id(&mut g.rng, org.seed, g.day);
        out.push(c);
    }
    out
}
