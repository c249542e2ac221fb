//! `/metrics` in the Prometheus text exposition format (version 0.0.4): requests and latency per
//! route pattern, database pool use, and CPUA decisions overdue.
//!
//! Routes are labelled by their pattern (`/api/v1/collaborations/{id}`), never the raw path, so ids
//! cannot grow the number of series; a path no route matches is `unmatched`. The registry is a small
//! hand-written one behind an `Arc` in [`AppState`](super::AppState): no global state.
//!
//! Access: `/metrics` sits behind the ordinary token check and answers only an administrator (others get
//! 403). Restricting it to loopback instead would open it to everyone behind a reverse proxy on the same
//! host, which is how this service is deployed; a scraper holds an administrator token instead
//! (Prometheus `authorization.credentials_file`).
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use actix_web::{web, HttpResponse};

use super::extract::Authenticated;
use super::{blocking, AppState};
use crate::app::AppError;

/// Upper bounds of the latency histogram's buckets, in seconds.
pub const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations at or below each bound of [`BUCKETS`] (not cumulative; summed when written).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += secs;
    }
}

#[derive(Debug, Default)]
struct Series {
    /// (route, method, status) → requests.
    requests: BTreeMap<(&'static str, &'static str, u16), u64>,
    /// route → latency.
    latency: BTreeMap<&'static str, Histogram>,
}

/// The service's counters (mätvärden).
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<Series>,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Counts one answered request.
    /// The route is a registered pattern (or `unmatched`) and the method one of [`method_label`]'s,
    /// so the series stay few whatever the requests were, and counting one allocates nothing.
    pub fn record(&self, route: &'static str, method: &'static str, status: u16, secs: f64) {
        // A poisoned lock still holds sound counters: each update is one addition.
        let mut s = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *s.requests.entry((route, method, status)).or_insert(0) += 1;
        s.latency.entry(route).or_default().observe(secs);
    }

    /// The request series in the text format.
    fn write_requests(&self, out: &mut String) {
        let s = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        out.push_str("# HELP http_requests_total HTTP requests answered, by route pattern, method and status.\n");
        out.push_str("# TYPE http_requests_total counter\n");
        for ((route, method, status), n) in &s.requests {
            let _ = writeln!(
                out,
                "http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                escape(route),
                escape(method)
            );
        }
        out.push_str(
            "# HELP http_request_duration_seconds Time to answer a request, by route pattern.\n",
        );
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for (route, h) in &s.latency {
            let r = escape(route);
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                h.count
            );
        }
    }
}

/// A label value with `\`, `"` and line breaks escaped, as the text format requires.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// What the gauges read at scrape time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gauges {
    pub pool_idle: u32,
    pub pool_in_use: u32,
    pub pool_max: u32,
    pub overdue_decisions: i64,
}

/// The whole exposition: the request series, then the gauges.
pub fn render(m: &Metrics, g: Gauges) -> String {
    let mut out = String::with_capacity(4096);
    m.write_requests(&mut out);
    out.push_str("# HELP db_pool_connections Database connections in the pool, by state.\n");
    out.push_str("# TYPE db_pool_connections gauge\n");
    let _ = writeln!(out, "db_pool_connections{{state=\"idle\"}} {}", g.pool_idle);
    let _ = writeln!(
        out,
        "db_pool_connections{{state=\"in_use\"}} {}",
        g.pool_in_use
    );
    out.push_str("# HELP db_pool_max_connections The most connections the pool opens.\n");
    out.push_str("# TYPE db_pool_max_connections gauge\n");
    let _ = writeln!(out, "db_pool_max_connections {}", g.pool_max);
    out.push_str("# HELP samverkan_overdue_decisions CPUA reviews whose 30-day decision is due and not made.\n");
    out.push_str("# TYPE samverkan_overdue_decisions gauge\n");
    let _ = writeln!(out, "samverkan_overdue_decisions {}", g.overdue_decisions);
    out
}

/// The method as the metrics name it: the standard ones by name, any other as `OTHER` (a client
/// cannot add series by inventing methods).
pub fn method_label(m: &actix_web::http::Method) -> &'static str {
    match m.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "CONNECT" => "CONNECT",
        _ => "OTHER",
    }
}

/// `GET /metrics`: the Prometheus exposition, for an administrator.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4",
               content_type = "text/plain", body = String),
              (status = 403, description = "Only an administrator reads the metrics")))]
pub async fn metrics(
    who: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    crate::app::metrics::may_read(&who.0)?;
    let st = state.clone();
    let overdue = blocking(move || {
        let today = st.svc.clock.today();
        st.svc
            .read(|c| crate::app::metrics::overdue_decisions(c, today))
    })
    .await?;
    let pool = state.svc.db.pool.state();
    let g = Gauges {
        pool_idle: pool.idle_connections,
        pool_in_use: pool.connections.saturating_sub(pool.idle_connections),
        pool_max: state.svc.db.pool.max_size(),
        overdue_decisions: overdue,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(render(&state.metrics, g)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g() -> Gauges {
        Gauges {
            pool_idle: 3,
            pool_in_use: 1,
            pool_max: 8,
            overdue_decisions: 2,
        }
    }

    #[test]
    fn requests_are_counted_by_route_method_and_status() {
        let m = Metrics::new();
        m.record("/api/v1/collaborations/{id}", "GET", 200, 0.002);
        m.record("/api/v1/collaborations/{id}", "GET", 200, 0.2);
        m.record("/api/v1/collaborations/{id}", "GET", 404, 0.003);
        let text = render(&m, g());
        assert!(text.contains(
            "http_requests_total{route=\"/api/v1/collaborations/{id}\",method=\"GET\",status=\"200\"} 2\n"
        ), "{text}");
        assert!(text.contains(
            "http_requests_total{route=\"/api/v1/collaborations/{id}\",method=\"GET\",status=\"404\"} 1\n"
        ), "{text}");
    }

    #[test]
    fn the_histogram_is_cumulative_and_ends_with_inf_sum_and_count() {
        let m = Metrics::new();
        m.record("/r", "GET", 200, 0.002);
        m.record("/r", "GET", 200, 0.2);
        m.record("/r", "GET", 200, 30.0);
        let text = render(&m, g());
        assert!(
            text.contains("http_request_duration_seconds_bucket{route=\"/r\",le=\"0.001\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("http_request_duration_seconds_bucket{route=\"/r\",le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("http_request_duration_seconds_bucket{route=\"/r\",le=\"0.25\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("http_request_duration_seconds_bucket{route=\"/r\",le=\"10\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("http_request_duration_seconds_bucket{route=\"/r\",le=\"+Inf\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("http_request_duration_seconds_count{route=\"/r\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("http_request_duration_seconds_sum{route=\"/r\"} 30.202"),
            "{text}"
        );
    }

    #[test]
    fn gauges_report_the_pool_and_overdue_decisions() {
        let text = render(&Metrics::new(), g());
        assert!(text.contains("db_pool_connections{state=\"idle\"} 3\n"));
        assert!(text.contains("db_pool_connections{state=\"in_use\"} 1\n"));
        assert!(text.contains("db_pool_max_connections 8\n"));
        assert!(text.contains("samverkan_overdue_decisions 2\n"));
        // Every sample line belongs to a declared metric family.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap_or("");
            let family = name
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            assert!(text.contains(&format!("# TYPE {family} ")), "{line}");
        }
    }

    #[test]
    fn an_unknown_method_is_counted_as_other() {
        use actix_web::http::Method;
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        let invented = Method::from_bytes(b"PROPFIND").unwrap();
        assert_eq!(method_label(&invented), "OTHER");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
