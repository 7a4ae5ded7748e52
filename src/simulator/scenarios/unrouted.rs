//! Conversations that never meet an ACD queue's agent routing: IVR self-service, outbound dialer calls with
//! a system disposition, and direct calls placed by a user.

use chrono::{DateTime, Utc};
use rand::Rng;
use uuid::Uuid;

use super::builder::{customer_with, metric, ms, seg};
use super::generator::Gen;
use super::legs::{api, Wrap};
use crate::record::LegLabel;
use crate::simulator::model::{
    ApiLeg, LegTruth, SimConversation, SimFlow, SimParticipant, SimSession, Str,
};

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
impl Gen<'_> {
    /// The conversation of an unrouted scenario; `None` when `name` belongs to another family.
    pub(super) fn unrouted_scenario(
        &mut self,
        name: &'static str,
        t0: DateTime<Utc>,
    ) -> Option<SimConversation> {
        let c = match name {
            "system" => self.dialer(name, t0),
            "ivr_self_service" => self.ivr_only(name, t0),
            "user_direct" => self.user_direct(name, t0),
            _ => return None,
        };
        Some(c)
    }

    /// An IVR-only call: the caller finished (or gave up) in the menu.
    pub(super) fn ivr_only(&mut self, name: &'static str, t0: DateTime<Utc>) -> SimConversation {
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
    pub(super) fn dialer(&mut self, name: &'static str, t0: DateTime<Utc>) -> SimConversation {
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
            return self.preview_skipped(name, t0, queue.id, p, a);
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
        let p = system_leg(p, s, a, code_at);
        self.conversation(name, "outbound", vec![customer_with(customer, cs), p])
    }

    /// A dialer preview the agent saw and skipped: no customer leg was ever created.
    fn preview_skipped(
        &mut self,
        name: &'static str,
        t0: DateTime<Utc>,
        queue: Uuid,
        p: SimParticipant,
        mut a: ApiLeg,
    ) -> SimConversation {
        let mut code_at = None;
        let code: Str = Str::from("ININ-OUTBOUND-PREVIEW-SKIPPED");
        let mut s = self.session("callback", "outbound");
        let end = t0 + ms(self.range(3_000, 25_000));
        let mut g = seg(t0, Some(end), "alert");
        g.queue_id = Some(queue);
        s.segments.push(g);
        s.metrics
            .push(metric(end, "tAlert", (end - t0).num_milliseconds()));
        self.wrap(
            &mut s,
            &Wrap::CodeZero(code.clone(), code),
            end,
            Some(queue),
            &mut a,
            &mut code_at,
        );
        let p = system_leg(p, s, a, code_at);
        self.conversation(name, "outbound", vec![p])
    }

    /// A direct (non-ACD) outbound call placed by a user: purpose `user`, no queue.
    pub(super) fn user_direct(&mut self, name: &'static str, t0: DateTime<Utc>) -> SimConversation {
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
}

/// A dialer's agent leg, complete: its session, its Conversations API view, and `system` as its truth.
fn system_leg(
    mut p: SimParticipant,
    s: SimSession,
    a: ApiLeg,
    code_at: Option<DateTime<Utc>>,
) -> SimParticipant {
    p.sessions.push(s);
    p.api = Some(a);
    p.truth = Some(LegTruth {
        final_label: LegLabel::System,
        analytics_label: LegLabel::System,
        code_at,
        mismatch: None,
    });
    p
}
