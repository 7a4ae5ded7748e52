//! The enrichment endpoints: the Conversations API per scenario and the wrap-up code listing.

use super::*;

#[tokio::test]
async fn lookups_answer_per_scenario() {
    let e = env().await;
    let now = e.sim.now();
    let truth = e.sim.ground_truth(now - Duration::days(2), now, 15, now);
    let by = |s: &str| {
        truth
            .iter()
            .find(|t| t.scenario == s && t.needs_lookup)
            .unwrap_or_else(|| panic!("{s}"))
    };
    let (status, v) = e
        .get(&format!(
            "/api/v2/conversations/{}",
            by("purged").conversation_id
        ))
        .await;
    assert_eq!(status, 404);
    assert_error_body(&v, 404, "not.found");
    let (status, v) = e
        .get(&format!(
            "/api/v2/conversations/{}",
            by("other_division").conversation_id
        ))
        .await;
    assert_eq!(status, 403);
    assert_error_body(&v, 403, "not.authorized");

    let rec = by("recovered");
    let (status, v) = e
        .get(&format!("/api/v2/conversations/{}", rec.conversation_id))
        .await;
    assert_eq!(status, 200);
    let leg = rec
        .legs
        .iter()
        .find(|l| l.label == crate::record::LegLabel::Recovered)
        .unwrap();
    let p = v["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == leg.participant_id.as_str())
        .unwrap();
    assert!(p["wrapup"]["code"].is_string());
    assert_eq!(p["wrapupRequired"], true);
    let codes: HashSet<String> = e
        .sim
        .code_catalog()
        .iter()
        .map(|c| c.id.to_string())
        .collect();
    assert!(codes.contains(p["wrapup"]["code"].as_str().unwrap()));

    let missing = by("missing");
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
    let p = v["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == leg.participant_id.as_str())
        .unwrap();
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
    let ap = d["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["participantId"] == leg.participant_id.as_str())
        .unwrap();
    let s = &ap["sessions"][0];
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

    let (status, _) = e
        .get("/api/v2/conversations/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(status, 404);
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
