//! The shape of an ACD-routed inbound conversation: customer, optional IVR, the queue, then the agent legs of
//! a scenario in order, each with its after-call work.

use chrono::{DateTime, Utc};
use rand::Rng;
use uuid::Uuid;

use super::builder::{metric, ms, seg};
use super::generator::Gen;
use super::legs::{LegSpec, Plan, Wrap};
use crate::simulator::model::{
    ApiLeg, ApiWrapup, LegTruth, SimConversation, SimFlow, SimParticipant, SimSession, Str,
};
use crate::simulator::org::{participant_prompt, Queue, MANDATORY_PROMPTS, OPTIONAL_PROMPTS};

impl Gen<'_> {
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
    pub(super) fn routed(
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
    pub(super) fn queue_with(&mut self, prompts: &[&str]) -> Queue {
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
    pub(super) fn routed_in(
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
            let (p, ivr_end) = self.ivr_to_queue(media, t0, sys_end, cs.session_id, queue.id);
            parts.push(p);
            q0 = ivr_end + ms(16);
        }

        let (mut acd, mut asess, offered) = self.queue_offer(media, &queue, cs.session_id, q0);

        let mut r = Routing {
            media,
            customer_session: cs.session_id,
            offered,
            cursor: offered + ms(self.range(2_000, 90_000)),
            answered_at: None,
            talk_end_last: None,
            n_answered: legs
                .iter()
                .filter(|l| matches!(l.plan, Plan::Answered { .. }))
                .count(),
            answered_seen: 0,
        };
        for (leg, ix) in legs.into_iter().zip(agent_ix) {
            let p = self.agent_leg(&mut r, leg, ix, &queue);
            parts.push(p);
        }

        let cust_end = match r.talk_end_last {
            Some(e) => e,
            None => r.cursor + ms(self.range(3_000, 60_000)),
        };
        close_queue(&mut asess, &r, queue.id, cust_end);
        acd.sessions.push(asess);

        self.close_customer(
            &mut cs,
            queue.id,
            sys_end,
            cust_end,
            r.talk_end_last.is_some(),
        );
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

    /// The queue's participant, offered the conversation from `q0`; also returns its session (still open)
    /// and when it offered.
    fn queue_offer(
        &mut self,
        media: &'static str,
        queue: &Queue,
        peer: Uuid,
        q0: DateTime<Utc>,
    ) -> (SimParticipant, SimSession, DateTime<Utc>) {
        let acd = self.participant("acd", Some(queue.name.clone()));
        let mut asess = self.session(media, "inbound");
        asess.peer_id = Some(peer);
        let offered = q0 + ms(14);
        let mut delay = seg(q0, Some(offered), "delay");
        delay.queue_id = Some(queue.id);
        asess.segments.push(delay);
        asess.metrics.push(metric(offered, "nOffered", 1));
        (acd, asess, offered)
    }

    /// Ends the customer's session at `cust_end`: after a talk either side may hang up.
    fn close_customer(
        &mut self,
        cs: &mut SimSession,
        queue: Uuid,
        sys_end: DateTime<Utc>,
        cust_end: DateTime<Utc>,
        talked: bool,
    ) {
        let mut ci = seg(sys_end, Some(cust_end), "interact");
        ci.queue_id = Some(queue);
        ci.disconnect_type = Some(if talked && self.rng.random_bool(0.5) {
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
    }

    /// The IVR participant of a routed voice call, transferring to `queue`; also returns when it ended.
    fn ivr_to_queue(
        &mut self,
        media: &'static str,
        t0: DateTime<Utc>,
        sys_end: DateTime<Utc>,
        peer: Uuid,
        queue: Uuid,
    ) -> (SimParticipant, DateTime<Utc>) {
        let mut p = self.participant("ivr", Some(self.org.ivr_flow.1.clone()));
        let mut s = self.session(media, "inbound");
        s.peer_id = Some(peer);
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
            transfer_target_address: Some(queue),
        });
        p.sessions.push(s);
        (p, ivr_end)
    }

    /// One agent leg of a routed conversation, offered at `r.cursor` by agent `ix`; advances `r`.
    fn agent_leg(
        &mut self,
        r: &mut Routing,
        leg: LegSpec,
        ix: usize,
        queue: &Queue,
    ) -> SimParticipant {
        let agent = self.org.agents[ix].clone();
        // A direct leg (a transfer to a user) has purpose `user` and no queue anywhere.
        let leg_queue = (!leg.direct).then_some(queue.id);
        let mut p = self.participant(if leg.direct { "user" } else { "agent" }, None);
        p.user_id = Some(agent.id);
        let agent_dir = if r.media == "callback" {
            "outbound"
        } else {
            "inbound"
        };
        let mut s = self.session(r.media, agent_dir);
        s.peer_id = Some(r.customer_session);
        let mut api = leg.api.clone();
        api.queue_id = leg_queue;
        // The participant shows the prompt of the queue that governed it; drift legs keep their
        // own, and a direct leg had no queue.
        if leg.mismatch.is_none() && !leg.direct {
            api.wrapup_prompt = participant_prompt(queue.acw_prompt);
        }
        let mut code_at = None;
        match leg.plan {
            Plan::Rona => self.rona(&mut s, r, leg_queue),
            Plan::Answered { wrap } => {
                self.answered(&mut s, r, leg_queue, &wrap, &mut api, &mut code_at)
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
        p
    }

    /// A leg that rang and was not answered (RONA).
    fn rona(&mut self, s: &mut SimSession, r: &mut Routing, leg_queue: Option<Uuid>) {
        let alert_end = r.cursor + ms(self.range(8_000, 30_000));
        let mut g = seg(r.cursor, Some(alert_end), "alert");
        g.queue_id = leg_queue;
        g.disconnect_type = Some("client");
        s.segments.push(g);
        let d = (alert_end - r.cursor).num_milliseconds();
        s.metrics.push(metric(alert_end, "nError", 1));
        s.metrics.push(metric(alert_end, "tAlert", d));
        s.metrics.push(metric(alert_end, "tNotResponding", d));
        r.cursor = alert_end + ms(self.range(250, 2_500));
    }

    /// An answered leg: alert, talk (perhaps with a hold), then its after-call work.
    fn answered(
        &mut self,
        s: &mut SimSession,
        r: &mut Routing,
        leg_queue: Option<Uuid>,
        wrap: &Wrap,
        api: &mut ApiLeg,
        code_at: &mut Option<DateTime<Utc>>,
    ) {
        r.answered_seen += 1;
        let alert_start = r.cursor;
        let answer = alert_start + ms(self.range(1_000, 8_000));
        let mut g = seg(alert_start, Some(answer), "alert");
        g.queue_id = leg_queue;
        s.segments.push(g);
        s.metrics.push(metric(
            answer,
            "tAlert",
            (answer - alert_start).num_milliseconds(),
        ));
        let waited = match r.answered_at {
            None => {
                r.answered_at = Some(answer);
                (answer - r.offered).num_milliseconds()
            }
            Some(_) => (answer - alert_start).num_milliseconds(),
        };
        s.metrics.push(metric(answer, "tAnswered", waited));
        let talk = self.talk_ms(r.media);
        let hold = if r.media == "voice" && self.rng.random_bool(0.15) {
            Some(self.range(10_000, 120_000))
        } else {
            None
        };
        let last_disc = if r.answered_seen < r.n_answered {
            "transfer"
        } else if self.rng.random_bool(0.6) {
            "peer"
        } else {
            "client"
        };
        let talk_end = talk_segments(s, answer, talk, hold, leg_queue, last_disc);
        s.metrics.push(metric(talk_end, "tTalk", talk));
        s.metrics.push(metric(talk_end, "tTalkComplete", talk));
        let acw = self.wrap(s, wrap, talk_end, leg_queue, api, code_at);
        let handle_at = talk_end + ms(acw);
        s.metrics
            .push(metric(handle_at, "tHandle", talk + hold.unwrap_or(0) + acw));
        r.talk_end_last = Some(talk_end);
        r.cursor = talk_end + ms(self.range(150, 1_500));
    }

    /// Writes the after-call-work part of an agent session; returns the `tAcw` in ms.
    pub(super) fn wrap(
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
}

/// Where a routed conversation stands while its agent legs are built one after another.
struct Routing {
    media: &'static str,
    /// The customer's session, the peer of every agent session.
    customer_session: Uuid,
    /// When the queue offered the conversation.
    offered: DateTime<Utc>,
    /// When the next leg starts ringing.
    cursor: DateTime<Utc>,
    /// When the first leg was answered.
    answered_at: Option<DateTime<Utc>>,
    /// When the last answered leg stopped talking.
    talk_end_last: Option<DateTime<Utc>>,
    n_answered: usize,
    answered_seen: usize,
}

/// The talk segments of an answered leg from `answer`, split around a hold if there is one; returns
/// when the talk ended.
fn talk_segments(
    s: &mut SimSession,
    answer: DateTime<Utc>,
    talk: i64,
    hold: Option<i64>,
    leg_queue: Option<Uuid>,
    last_disc: &'static str,
) -> DateTime<Utc> {
    match hold {
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
    }
}

/// Ends the queue's session: its interact segment runs from the offer until an agent answered or the
/// customer gave up at `cust_end`, with the matching `tAcd` or `tAbandon`.
fn close_queue(asess: &mut SimSession, r: &Routing, queue: Uuid, cust_end: DateTime<Utc>) {
    let offered = r.offered;
    let mut ai = seg(offered, Some(r.answered_at.unwrap_or(cust_end)), "interact");
    ai.queue_id = Some(queue);
    match r.answered_at {
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
}
