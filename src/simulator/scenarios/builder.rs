//! The pieces of an analytics detail record (participants, sessions, segments, metrics) and the conversation
//! around them, with the ids drawn from the day's random stream.

use chrono::{DateTime, Duration, Utc};

use super::generator::Gen;
use crate::simulator::model::{
    LookupOutcome, Meta, SimConversation, SimMetric, SimParticipant, SimSegment, SimSession, Str,
};
use crate::simulator::seed::{conversation_id, uuid};

pub(super) fn ms(n: i64) -> Duration {
    Duration::milliseconds(n)
}

impl Gen<'_> {
    pub(super) fn participant(
        &mut self,
        purpose: &'static str,
        name: Option<Str>,
    ) -> SimParticipant {
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

    pub(super) fn session(&mut self, media: &'static str, direction: &'static str) -> SimSession {
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

    pub(super) fn conversation(
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
}

pub(super) fn customer_with(mut p: SimParticipant, s: SimSession) -> SimParticipant {
    p.sessions.push(s);
    p
}

pub(super) fn seg(
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    kind: &'static str,
) -> SimSegment {
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

pub(super) fn metric(at: DateTime<Utc>, name: &'static str, value: i64) -> SimMetric {
    SimMetric {
        emit_date: at,
        name,
        value,
    }
}
