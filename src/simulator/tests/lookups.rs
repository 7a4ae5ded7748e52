//! The enrichment endpoints: the Conversations API per scenario and the wrap-up code listing.

use super::*;

/// The ground truth of the last two days, for picking a conversation of a scenario.
async fn env_and_truth() -> (Env, Vec<TruthConversation>) {
    let e = env().await;
    let now = e.sim.now();
    let truth = e.sim.ground_truth(now - Duration::days(2), now, 15, now);
    (e, truth)
}

/// The first conversation of scenario `s` that a default run looks up.
fn looked_up<'a>(truth: &'a [TruthConversation], s: &str) -> &'a TruthConversation {
    truth
        .iter()
        .find(|t| t.scenario == s && t.needs_lookup)
        .unwrap_or_else(|| panic!("{s}"))
}

/// The participant with this id in a JSON body whose participants carry it under `key`.
fn participant<'a>(v: &'a Value, key: &str, id: &str) -> &'a Value {
    v["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[key] == id)
        .unwrap()
}

#[tokio::test]
async fn failed_lookups_answer_404_and_403() {
    let (e, truth) = env_and_truth().await;
    let (status, v) = e
        .get(&format!(
            "/api/v2/conversations/{}",
            looked_up(&truth, "purged").conversation_id
        ))
        .await;
    assert_eq!(status, 404);
    assert_error_body(&v, 404, "not.found");
    let (status, v) = e
        .get(&format!(
            "/api/v2/conversations/{}",
            looked_up(&truth, "other_division").conversation_id
        ))
        .await;
    assert_eq!(status, 403);
    assert_error_body(&v, 403, "not.authorized");

    let (status, _) = e
        .get("/api/v2/conversations/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_recovered_leg_shows_a_catalog_code_in_the_conversations_api() {
    let (e, truth) = env_and_truth().await;
    let rec = looked_up(&truth, "recovered");
    let (status, v) = e
        .get(&format!("/api/v2/conversations/{}", rec.conversation_id))
        .await;
    assert_eq!(status, 200);
    let leg = rec
        .legs
        .iter()
        .find(|l| l.label == crate::record::LegLabel::Recovered)
        .unwrap();
    let p = participant(&v, "id", &leg.participant_id);
    assert!(p["wrapup"]["code"].is_string());
    assert_eq!(p["wrapupRequired"], true);
    let codes: HashSet<String> = e
        .sim
        .code_catalog()
        .iter()
        .map(|c| c.id.to_string())
        .collect();
    assert!(codes.contains(p["wrapup"]["code"].as_str().unwrap()));
}

#[tokio::test]
async fn a_missing_leg_is_required_without_a_code_in_both_apis() {
    let (e, truth) = env_and_truth().await;
    let missing = looked_up(&truth, "missing");
    let (_, v) = e
        .get(&format!(
            "/api/v2/conversations/{}",
            missing.conversation_id
        ))
        .await;
    let leg = missing
        .legs
        .iter()
        .find(|l| l.label == crate::record::LegLabel::Missing)
        .unwrap();
    let p = participant(&v, "id", &leg.participant_id);
    assert_eq!(p["wrapupRequired"], true);
    // The prompt of its queue: any of the mandatory ones.
    assert!(
        ["mandatory", "timeout", "forcedTimeout"].contains(&p["wrapupPrompt"].as_str().unwrap()),
        "{}",
        p["wrapupPrompt"]
    );
    assert!(p.get("wrapup").is_none());

    // The analytics record of the same conversation has the leg, without a code.
    let (status, d) = e
        .get(&format!(
            "/api/v2/analytics/conversations/{}/details",
            missing.conversation_id
        ))
        .await;
    assert_eq!(status, 200);
    let s = &participant(&d, "participantId", &leg.participant_id)["sessions"][0];
    assert!(s["segments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g.get("wrapUpCode").is_none()));
    let acw: i64 = s["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["name"] == "tAcw")
        .map(|m| m["value"].as_i64().unwrap())
        .sum();
    assert!(acw > 0);
}

#[tokio::test]
async fn wrapup_code_listing_pages() {
    let e = env().await;
    let mut all = Vec::new();
    for page in 1.. {
        let (status, v) = e
            .get(&format!(
                "/api/v2/routing/wrapupcodes?pageSize=7&pageNumber={page}"
            ))
            .await;
        assert_eq!(status, 200);
        assert_eq!(v["total"], 30);
        assert_eq!(v["pageCount"], 5);
        all.extend(v["entities"].as_array().unwrap().iter().cloned());
        if page == 5 {
            assert!(v.get("nextUri").is_none());
            assert!(v["previousUri"].is_string());
            break;
        }
        assert_eq!(
            v["nextUri"],
            format!(
                "/api/v2/routing/wrapupcodes?pageSize=7&pageNumber={}",
                page + 1
            )
        );
    }
    assert_eq!(all.len(), 30);
    assert!(all
        .iter()
        .any(|c| c["id"] == DEFAULT_WRAPUP_CODE_ID && c["name"] == "Default Wrap-up Code"));
    let (status, _) = e.get("/api/v2/routing/wrapupcodes?pageSize=501").await;
    assert_eq!(status, 400);
    let (_, v) = e.get("/api/v2/users?pageSize=100").await;
    assert_eq!(v["entities"].as_array().unwrap().len(), 40);
    assert_eq!(v["entities"][0]["state"], "active");
}
