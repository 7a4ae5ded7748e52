//! The simulator's own record types.
//!
//! One generated conversation is held as a single [`SimConversation`] that serialises directly into the
//! analytics detail-record shape (camelCase, millisecond ISO-8601 timestamps). Fields marked `#[serde(skip)]`
//! carry what only the simulator knows: the Conversations API view of each agent leg and the scenario's
//! ground-truth labels. Nothing here is shared with the client side.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::record::LegLabel;

/// A cheaply clonable shared string (ids and names repeat across thousands of records).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Str(Arc<str>);

impl Str {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Str {
        Str(Arc::from(s))
    }
}

impl From<String> for Str {
    fn from(s: String) -> Str {
        Str(Arc::from(s))
    }
}

impl std::fmt::Display for Str {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Str {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Analytics timestamps always carry milliseconds and a `Z` suffix.
pub(crate) fn fmt_ts(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn ser_ts<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&t.format("%Y-%m-%dT%H:%M:%S%.3fZ"))
}

fn ser_opt_ts<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => ser_ts(t, s),
        None => s.serialize_none(),
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// How `GET /api/v2/conversations/{id}` answers for this conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LookupOutcome {
    Normal,
    /// The conversation is gone from the Conversations API: 404.
    Purged,
    /// The conversation belongs to a division the client cannot see: 403.
    OtherDivision,
}

/// Scenario bookkeeping that never reaches the wire.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub scenario: &'static str,
    /// Placed relative to the simulator's anchor time; rendered live (truncated) while `now < end`.
    pub anchored: bool,
    pub lookup: LookupOutcome,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SimConversation {
    pub conversation_id: Uuid,
    #[serde(serialize_with = "ser_ts")]
    pub conversation_start: DateTime<Utc>,
    #[serde(serialize_with = "ser_opt_ts", skip_serializing_if = "Option::is_none")]
    pub conversation_end: Option<DateTime<Utc>>,
    pub division_ids: [Uuid; 1],
    pub originating_direction: &'static str,
    pub participants: Vec<SimParticipant>,
    #[serde(skip)]
    pub meta: Meta,
}

/// The jobs results model of a record: the same fields, each participant with its `attributes`
/// (empty here). Typed, so a results page costs what a query page does to serialise.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobRecord<'a> {
    conversation_id: Uuid,
    #[serde(serialize_with = "ser_ts")]
    conversation_start: DateTime<Utc>,
    #[serde(serialize_with = "ser_opt_ts", skip_serializing_if = "Option::is_none")]
    conversation_end: Option<DateTime<Utc>>,
    division_ids: [Uuid; 1],
    originating_direction: &'static str,
    participants: Vec<JobParticipant<'a>>,
}

#[derive(Serialize)]
pub(crate) struct JobParticipant<'a> {
    #[serde(flatten)]
    participant: &'a SimParticipant,
    attributes: Empty,
}

#[derive(Serialize)]
struct Empty {}

impl<'a> From<&'a SimConversation> for JobRecord<'a> {
    fn from(c: &'a SimConversation) -> Self {
        // Exhaustive, so a field added to the record cannot be left out of the jobs model.
        let SimConversation {
            conversation_id,
            conversation_start,
            conversation_end,
            division_ids,
            originating_direction,
            participants,
            meta: _,
        } = c;
        JobRecord {
            conversation_id: *conversation_id,
            conversation_start: *conversation_start,
            conversation_end: *conversation_end,
            division_ids: *division_ids,
            originating_direction,
            participants: participants
                .iter()
                .map(|participant| JobParticipant {
                    participant,
                    attributes: Empty {},
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SimParticipant {
    pub participant_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_name: Option<Str>,
    pub purpose: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    pub sessions: Vec<SimSession>,
    /// Conversations API evidence for agent/user legs.
    #[serde(skip)]
    pub api: Option<ApiLeg>,
    /// Scenario ground truth for agent/user legs.
    #[serde(skip)]
    pub truth: Option<LegTruth>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SimSession {
    pub session_id: Uuid,
    pub media_type: &'static str,
    pub direction: &'static str,
    #[serde(skip_serializing_if = "is_false")]
    pub acw_skipped: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<SimFlow>,
    pub metrics: Vec<SimMetric>,
    pub segments: Vec<SimSegment>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SimFlow {
    pub flow_id: Uuid,
    pub flow_name: Str,
    pub flow_type: &'static str,
    pub flow_version: &'static str,
    pub entry_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_target_address: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SimMetric {
    #[serde(serialize_with = "ser_ts")]
    pub emit_date: DateTime<Utc>,
    pub name: &'static str,
    pub value: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SimSegment {
    pub conference: bool,
    #[serde(serialize_with = "ser_ts")]
    pub segment_start: DateTime<Utc>,
    #[serde(serialize_with = "ser_opt_ts", skip_serializing_if = "Option::is_none")]
    pub segment_end: Option<DateTime<Utc>>,
    pub segment_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disconnect_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wrap_up_code: Option<Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wrap_up_note: Option<&'static str>,
}

/// What the Conversations API knows about one agent leg.
#[derive(Debug, Clone)]
pub(crate) struct ApiLeg {
    pub wrapup_required: bool,
    pub wrapup_prompt: &'static str,
    pub wrapup_skipped: bool,
    pub wrapup: Option<ApiWrapup>,
    pub queue_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub(crate) struct ApiWrapup {
    pub code: Str,
    pub name: Str,
    pub notes: &'static str,
    pub duration_seconds: i64,
    pub end_time: DateTime<Utc>,
}

/// The scenario's labels for one agent leg.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LegTruth {
    /// Label after enrichment (never `NeedsLookup`).
    pub final_label: LegLabel,
    /// Label from analytics alone (`NeedsLookup` where a lookup is needed).
    pub analytics_label: LegLabel,
    /// When the leg's code became visible in analytics (end of its coded wrap-up segment).
    pub code_at: Option<DateTime<Utc>>,
    /// The expected-vs-actual flag the scenario built in (queue drift scenarios only).
    pub mismatch: Option<crate::record::Mismatch>,
}

impl SimConversation {
    /// Last moment anything happened: the planned end, used for visibility.
    pub fn end(&self) -> DateTime<Utc> {
        self.conversation_end.unwrap_or(self.conversation_start)
    }

    /// True when the record exists at `now` (started, and for regular conversations, finished).
    pub fn visible(&self, now: DateTime<Utc>) -> bool {
        self.conversation_start <= now && (self.meta.anchored || self.end() <= now)
    }

    /// True while an anchored conversation is still running at `now`.
    pub fn live(&self, now: DateTime<Utc>) -> bool {
        self.meta.anchored && now < self.end()
    }

    /// The record as analytics shows it at `now`: anchored conversations still running are cut at `now`.
    pub fn view(&self, now: DateTime<Utc>) -> Cow<'_, SimConversation> {
        if !self.live(now) {
            return Cow::Borrowed(self);
        }
        let mut c = self.clone();
        c.conversation_end = None;
        for p in &mut c.participants {
            for s in &mut p.sessions {
                s.segments.retain(|seg| seg.segment_start <= now);
                for seg in &mut s.segments {
                    if seg.segment_end.is_some_and(|e| e > now) {
                        seg.segment_end = None;
                        // A code is only written when the wrap-up finishes.
                        seg.wrap_up_code = None;
                        seg.wrap_up_note = None;
                        seg.disconnect_type = None;
                    }
                }
                s.metrics.retain(|m| m.emit_date <= now);
                if s.acw_skipped && !s.segments.iter().any(|g| g.segment_type == "wrapup") {
                    s.acw_skipped = false;
                }
            }
            p.sessions.retain(|s| !s.segments.is_empty());
        }
        c.participants.retain(|p| !p.sessions.is_empty());
        Cow::Owned(c)
    }

    /// Shifts every timestamp by `d` (used to place anchored scenarios around the anchor time).
    pub fn shift(&mut self, d: chrono::Duration) {
        self.conversation_start += d;
        if let Some(e) = &mut self.conversation_end {
            *e += d;
        }
        for p in &mut self.participants {
            for s in &mut p.sessions {
                for m in &mut s.metrics {
                    m.emit_date += d;
                }
                for seg in &mut s.segments {
                    seg.segment_start += d;
                    if let Some(e) = &mut seg.segment_end {
                        *e += d;
                    }
                }
            }
            if let Some(api) = &mut p.api {
                if let Some(w) = &mut api.wrapup {
                    w.end_time += d;
                }
            }
            if let Some(t) = &mut p.truth {
                if let Some(c) = &mut t.code_at {
                    *c += d;
                }
            }
        }
    }

    pub fn is_agent_leg(p: &SimParticipant) -> bool {
        p.purpose == "agent" || p.purpose == "user"
    }

    /// The Conversations API `Conversation` as seen at `now`.
    pub fn conversation_api_json(
        &self,
        now: DateTime<Utc>,
        org_names: &dyn Fn(Uuid) -> Option<Str>,
    ) -> Value {
        let live = self.live(now);
        let participants: Vec<Value> = self
            .participants
            .iter()
            .filter(|p| first_start(p).is_some_and(|s| s <= now))
            .map(|p| self.participant_api_json(p, now, live, org_names))
            .collect();
        let mut o = serde_json::Map::new();
        o.insert("id".into(), json!(self.conversation_id));
        o.insert("startTime".into(), json!(fmt_ts(&self.conversation_start)));
        if !live {
            if let Some(e) = self.conversation_end {
                o.insert("endTime".into(), json!(fmt_ts(&e)));
            }
        }
        o.insert("participants".into(), Value::Array(participants));
        o.insert("recordingState".into(), json!("NONE"));
        o.insert(
            "divisions".into(),
            json!([{ "division": { "id": self.division_ids[0], "selfUri": format!("/api/v2/authorization/divisions/{}", self.division_ids[0]) }, "entities": [] }]),
        );
        o.insert(
            "selfUri".into(),
            json!(format!("/api/v2/conversations/{}", self.conversation_id)),
        );
        Value::Object(o)
    }

    /// One participant of [`Self::conversation_api_json`].
    fn participant_api_json(
        &self,
        p: &SimParticipant,
        now: DateTime<Utc>,
        live: bool,
        org_names: &dyn Fn(Uuid) -> Option<Str>,
    ) -> Value {
        let start = first_start(p).unwrap_or(self.conversation_start);
        let end = last_end(p).filter(|e| !live || *e <= now);
        let mut o = serde_json::Map::new();
        o.insert("id".into(), json!(p.participant_id));
        o.insert("purpose".into(), json!(p.purpose));
        o.insert("startTime".into(), json!(fmt_ts(&start)));
        if let Some(e) = end {
            o.insert("endTime".into(), json!(fmt_ts(&e)));
        }
        if let Some(u) = p.user_id {
            o.insert("userId".into(), json!(u));
            if let Some(n) = org_names(u) {
                o.insert("name".into(), json!(n));
            }
        } else if let Some(n) = &p.participant_name {
            o.insert("name".into(), json!(n));
        }
        let queue = p.api.as_ref().and_then(|a| a.queue_id).or_else(|| {
            p.sessions
                .iter()
                .flat_map(|s| s.segments.iter())
                .find_map(|g| g.queue_id)
        });
        if let Some(q) = queue {
            o.insert("queueId".into(), json!(q));
            if let Some(n) = org_names(q) {
                o.insert("queueName".into(), json!(n));
            }
        }
        match &p.api {
            Some(api) => {
                o.insert("wrapupRequired".into(), json!(api.wrapup_required));
                o.insert("wrapupPrompt".into(), json!(api.wrapup_prompt));
                o.insert("wrapupSkipped".into(), json!(api.wrapup_skipped));
                if let Some(w) = api.wrapup.as_ref().filter(|w| w.end_time <= now) {
                    o.insert(
                        "wrapup".into(),
                        json!({
                            "code": w.code,
                            "name": w.name,
                            "notes": w.notes,
                            "tags": [],
                            "durationSeconds": w.duration_seconds,
                            "endTime": fmt_ts(&w.end_time),
                        }),
                    );
                }
            }
            None => {
                o.insert("wrapupRequired".into(), json!(false));
            }
        }
        Value::Object(o)
    }
}

fn first_start(p: &SimParticipant) -> Option<DateTime<Utc>> {
    p.sessions
        .iter()
        .flat_map(|s| s.segments.iter())
        .map(|g| g.segment_start)
        .min()
}

fn last_end(p: &SimParticipant) -> Option<DateTime<Utc>> {
    p.sessions
        .iter()
        .flat_map(|s| s.segments.iter())
        .filter_map(|g| g.segment_end)
        .max()
}
