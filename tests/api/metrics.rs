//! `/metrics`: Prometheus text, requests counted by route pattern (never the raw path), the pool, and
//! the CPUA decisions overdue; only an administrator reads it.
use reqwest::StatusCode;

use crate::helpers::{problem, TestApp};

async fn scrape(app: &TestApp) -> String {
    let admin = app.token("admin").await;
    let r = app.get("/metrics", &admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    r.text().await.unwrap()
}

/// The value of the sample whose name and labels are exactly `series`, or 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn requests_are_counted_by_route_pattern_not_by_raw_path() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    let route = "/api/v1/collaborations/{id}";
    let not_found =
        format!("http_requests_total{{route=\"{route}\",method=\"GET\",status=\"404\"}}");
    let before = scrape(&app).await;
    let ids = [
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
    ];
    for id in ids {
        let r = app
            .get(&format!("/api/v1/collaborations/{id}"), &company)
            .await;
        problem(r, StatusCode::NOT_FOUND).await;
    }
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.view(&id, &company).await;
    app.get("/no/such/route", &company).await;

    let after = scrape(&app).await;
    assert_eq!(
        sample(&after, &not_found) - sample(&before, &not_found),
        3.0,
        "{after}"
    );
    assert_eq!(
        sample(
            &after,
            &format!("http_requests_total{{route=\"{route}\",method=\"GET\",status=\"200\"}}")
        ),
        1.0,
        "{after}"
    );
    assert!(
        sample(
            &after,
            "http_requests_total{route=\"/api/v1/collaborations\",method=\"POST\",status=\"201\"}"
        ) >= 1.0
    );
    assert_eq!(
        sample(
            &after,
            "http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"
        ),
        1.0,
        "{after}"
    );
    // No raw id becomes a label.
    for id in ids {
        assert!(!after.contains(&id.to_string()), "{after}");
    }
    assert!(!after.contains(&id));
    // The latency histogram holds every request of the route.
    let count = format!("http_request_duration_seconds_count{{route=\"{route}\"}}");
    assert_eq!(sample(&after, &count), 4.0, "{after}");
    let inf = format!("http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}}");
    assert_eq!(sample(&after, &inf), 4.0, "{after}");
    // The pool: within its maximum, and the scrape itself holds no connection when it is written.
    let max = sample(&after, "db_pool_max_connections");
    let idle = sample(&after, "db_pool_connections{state=\"idle\"}");
    let in_use = sample(&after, "db_pool_connections{state=\"in_use\"}");
    assert!(max >= 1.0 && idle + in_use <= max && idle >= 1.0, "{after}");
}

#[tokio::test]
async fn overdue_decisions_are_counted_once_the_thirty_days_have_passed() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    assert_eq!(
        sample(&scrape(&app).await, "samverkan_overdue_decisions"),
        0.0
    );
    app.clock.advance(chrono::Duration::days(30));
    assert_eq!(
        sample(&scrape(&app).await, "samverkan_overdue_decisions"),
        0.0
    );
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(
        sample(&scrape(&app).await, "samverkan_overdue_decisions"),
        1.0
    );
}

#[tokio::test]
async fn only_an_administrator_reads_the_metrics() {
    let app = TestApp::spawn().await;
    let company = app.token("company").await;
    problem(app.get("/metrics", &company).await, StatusCode::FORBIDDEN).await;
    let r = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED).await;
}
