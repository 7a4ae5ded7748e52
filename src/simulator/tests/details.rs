//! The analytics details endpoints: `details/query` paging, caps, interval rules and filters, and the
//! multi-get.

use super::*;

#[tokio::test]
async fn pages_concatenate_to_the_whole_result_without_duplicates() {
    let e = env().await;
    let now = e.sim.now();
    let iv = interval(now - Duration::days(2), now);
    let mut ids = Vec::new();
    let mut total = None;
    for page in 1.. {
        let (status, v) = e
            .query(json!({"interval": iv, "paging": {"pageSize": 37, "pageNumber": page}}))
            .await;
        assert_eq!(status, 200, "{v}");
        let hits = v["totalHits"].as_u64().unwrap();
        assert_eq!(*total.get_or_insert(hits), hits);
        match v.get("conversations") {
            None => {
                assert_eq!(
                    v.as_object().unwrap().len(),
                    1,
                    "past the end only totalHits: {v}"
                );
                break;
            }
            Some(cs) => {
                let cs = cs.as_array().unwrap();
                assert!(!cs.is_empty() && cs.len() <= 37);
                ids.extend(cs.iter().map(|c| {
                    (
                        c["conversationStart"].as_str().unwrap().to_string(),
                        c["conversationId"].as_str().unwrap().to_string(),
                    )
                }));
            }
        }
    }
    assert_eq!(ids.len() as u64, total.unwrap());
    let unique: HashSet<_> = ids.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(unique.len(), ids.len(), "no duplicates");
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, ids, "ordered by conversationStart then id");
    // Roughly three days of data touched, all but the not-yet-ended ones.
    assert!(ids.len() > 350, "{}", ids.len());
}

#[tokio::test]
async fn page_size_and_result_cap_are_enforced() {
    let e = env().await;
    let now = e.sim.now();
    let iv = interval(now - Duration::hours(6), now);
    let (status, v) = e
        .query(json!({"interval": iv, "paging": {"pageSize": 101, "pageNumber": 1}}))
        .await;
    assert_eq!(status, 400);
    assert_error_body(&v, 400, "bad.request");
    let (status, v) = e
        .query(json!({"interval": iv, "paging": {"pageSize": 100, "pageNumber": 1001}}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(v["message"], "Pagination may not exceed 100000 results.");
    let (status, _) = e
        .query(json!({"interval": iv, "paging": {"pageSize": 100, "pageNumber": 1000}}))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn interval_rules_follow_the_documented_limits() {
    let e = env().await;
    let now = e.sim.now();
    let filter = json!([{"type": "and", "predicates": [{"dimension": "conversationEnd", "operator": "exists"}]}]);
    let (status, v) = e.query(json!({"paging": {"pageSize": 10}})).await;
    assert_eq!(status, 400, "missing interval: {v}");
    let (status, _) = e.query(json!({"interval": "yesterday/today"})).await;
    assert_eq!(status, 400);
    let (status, _) = e
        .query(json!({"interval": interval(now - Duration::days(8), now)}))
        .await;
    assert_eq!(status, 400, "8 days without filters");
    let (status, _) = e
        .query(json!({"interval": interval(now - Duration::days(7), now)}))
        .await;
    assert_eq!(status, 200, "7 days without filters");
    let (status, _) =
        e.query(json!({"interval": interval(now - Duration::days(8), now), "conversationFilters": filter})).await;
    assert_eq!(status, 200, "8 days with a filter");
    let (status, _) =
        e.query(json!({"interval": interval(now - Duration::days(32), now), "conversationFilters": filter})).await;
    assert_eq!(status, 400, "32 days with a filter");
}

#[tokio::test]
async fn conversations_from_earlier_the_same_day_overlapping_the_interval_are_included() {
    let e = env().await;
    let now = e.sim.now();
    let day = (now - Duration::days(1))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let truth = e.sim.ground_truth(day, day + Duration::days(1), 15, now);
    // A conversation that runs across some instant of its own start day: query from that instant on.
    let c = truth
        .iter()
        .find(|t| {
            let end = t.conversation_end.unwrap();
            t.conversation_start > day + Duration::hours(12)
                && end - t.conversation_start > Duration::minutes(4)
                && end.date_naive() == t.conversation_start.date_naive()
        })
        .expect("a long conversation");
    let from = c.conversation_start + Duration::minutes(2);
    let day_end = (from.date_naive() + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let body = |pn: u32| json!({"interval": interval(from, day_end), "paging": {"pageSize": 100, "pageNumber": pn}});
    let mut found = Vec::new();
    for pn in 1.. {
        let (status, v) = e.query(body(pn)).await;
        assert_eq!(status, 200);
        let Some(cs) = v.get("conversations") else {
            break;
        };
        found.extend(
            cs.as_array()
                .unwrap()
                .iter()
                .map(|c| c["conversationId"].as_str().unwrap().to_string()),
        );
    }
    assert!(
        found.contains(&c.conversation_id),
        "started before the interval on the same UTC day"
    );
    // Conversations of the same day that ended before the interval began do not overlap it.
    let ended_before = truth
        .iter()
        .find(|t| {
            t.conversation_end.unwrap() < from
                && t.conversation_start.date_naive() == from.date_naive()
        })
        .expect("an earlier conversation");
    assert!(!found.contains(&ended_before.conversation_id));
}

#[tokio::test]
async fn segment_filters_select_matching_conversations() {
    let e = env().await;
    let now = e.sim.now();
    let (_, v) = e
        .query(json!({
            "interval": interval(now - Duration::days(1), now),
            "paging": {"pageSize": 100},
            "segmentFilters": [{"type": "and", "predicates": [
                {"dimension": "mediaType", "value": "email"}, {"dimension": "purpose", "value": "agent"}]}]
        }))
        .await;
    let cs = v["conversations"].as_array().expect("email conversations");
    assert!(!cs.is_empty());
    for c in cs {
        assert!(c["participants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["purpose"] == "agent" && p["sessions"][0]["mediaType"] == "email"));
    }
    let (status, _) = e
        .query(json!({"interval": interval(now - Duration::days(1), now),
            "segmentFilters": [{"predicates": [{"dimension": "mediaType", "value": "email"}]}]}))
        .await;
    assert_eq!(status, 400, "filter type is required");
}

#[tokio::test]
async fn multi_get_returns_the_known_records() {
    let e = env().await;
    let now = e.sim.now();
    let truth = e.sim.ground_truth(now - Duration::days(1), now, 15, now);
    let ids = format!(
        "{},{},00000000-0000-4000-8000-000000000000",
        truth[0].conversation_id, truth[1].conversation_id
    );
    let (status, v) = e
        .get(&format!("/api/v2/analytics/conversations/details?id={ids}"))
        .await;
    assert_eq!(status, 200);
    let cs = v["conversations"].as_array().unwrap();
    assert_eq!(cs.len(), 2);
    assert_eq!(cs[0]["conversationId"], truth[0].conversation_id.as_str());
}
