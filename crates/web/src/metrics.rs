//! Request metrics in the Prometheus text exposition format, hand-written
//! (no metrics crate): counters by route template, method and status class,
//! a latency histogram per route, requests in flight and the process start
//! time. Route labels come from axum's matched route templates (`unmatched`
//! for everything else), so the label set stays bounded.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Upper bounds (seconds) of the latency histogram buckets.
pub const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The registry.
pub struct Metrics {
    /// Per route template, one [`RouteStats`] per method label.
    routes: RwLock<HashMap<Box<str>, Arc<[RouteStats; METHODS.len()]>>>,
    in_flight: AtomicI64,
    start_time: f64,
}

#[derive(Default)]
struct RouteStats {
    /// Responses by status class 1xx..5xx.
    classes: [AtomicU64; 5],
    /// Cumulative is computed at render time; these are per-bucket counts.
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// An empty registry; the process start time is taken now.
    pub fn new() -> Self {
        let start_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Metrics {
            routes: RwLock::new(HashMap::new()),
            in_flight: AtomicI64::new(0),
            start_time,
        }
    }

    /// Marks a request as started; the guard marks it finished when dropped.
    pub fn start(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.in_flight)
    }

    /// Records one response.
    pub fn observe(
        &self,
        method: &axum::http::Method,
        route: &str,
        status: u16,
        elapsed: Duration,
    ) {
        let entry = self.route(route);
        let stats = &entry[method_index(method)];
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        stats.classes[class].fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            stats.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        stats.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        stats.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    fn route(&self, route: &str) -> Arc<[RouteStats; METHODS.len()]> {
        if let Some(s) = self
            .routes
            .read()
            .ok()
            .and_then(|map| map.get(route).cloned())
        {
            return s;
        }
        match self.routes.write() {
            Ok(mut map) => map.entry(route.into()).or_default().clone(),
            Err(_) => Arc::default(),
        }
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let _ = writeln!(
            out,
            "# HELP process_start_time_seconds Start time of the process since the Unix epoch."
        );
        let _ = writeln!(out, "# TYPE process_start_time_seconds gauge");
        let _ = writeln!(out, "process_start_time_seconds {}", self.start_time);
        let _ = writeln!(
            out,
            "# HELP palazzo_http_requests_in_flight Requests being served."
        );
        let _ = writeln!(out, "# TYPE palazzo_http_requests_in_flight gauge");
        let _ = writeln!(
            out,
            "palazzo_http_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );

        let mut routes: Vec<(String, Arc<[RouteStats; METHODS.len()]>)> = match self.routes.read() {
            Ok(map) => map
                .iter()
                .map(|(r, s)| (r.to_string(), s.clone()))
                .collect(),
            Err(_) => Vec::new(),
        };
        routes.sort_by(|a, b| a.0.cmp(&b.0));
        let rows: Vec<((&'static str, &str), &RouteStats)> = routes
            .iter()
            .flat_map(|(route, stats)| {
                METHODS
                    .iter()
                    .zip(stats.iter())
                    .filter(|(_, s)| s.count.load(Ordering::Relaxed) > 0)
                    .map(move |(m, s)| ((*m, route.as_str()), s))
            })
            .collect();

        let _ = writeln!(
            out,
            "# HELP palazzo_http_requests_total HTTP responses by route template, method and status class."
        );
        let _ = writeln!(out, "# TYPE palazzo_http_requests_total counter");
        for ((method, route), s) in &rows {
            for (i, class) in ["1xx", "2xx", "3xx", "4xx", "5xx"].iter().enumerate() {
                let n = s.classes[i].load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "palazzo_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{class}\"}} {n}",
                        escape(route)
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP palazzo_http_request_duration_seconds Time to produce the response."
        );
        let _ = writeln!(
            out,
            "# TYPE palazzo_http_request_duration_seconds histogram"
        );
        for ((method, route), s) in &rows {
            let route = escape(route);
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += s.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "palazzo_http_request_duration_seconds_bucket{{route=\"{route}\",method=\"{method}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let count = s.count.load(Ordering::Relaxed);
            let sum = s.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "palazzo_http_request_duration_seconds_bucket{{route=\"{route}\",method=\"{method}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "palazzo_http_request_duration_seconds_sum{{route=\"{route}\",method=\"{method}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "palazzo_http_request_duration_seconds_count{{route=\"{route}\",method=\"{method}\"}} {count}"
            );
        }
        out
    }
}

/// Decrements the in-flight gauge when dropped.
pub struct InFlight<'a>(&'a AtomicI64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Method labels; any other method counts as `OTHER` (bounded labels).
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "OTHER",
];

fn method_index(m: &axum::http::Method) -> usize {
    METHODS
        .iter()
        .position(|x| *x == m.as_str())
        .unwrap_or(METHODS.len() - 1)
}

/// Escapes a label value (backslash, quote, newline).
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn renders_counters_and_cumulative_histogram() {
        let m = Metrics::new();
        m.observe(&Method::GET, "/servizi", 200, Duration::from_micros(300));
        m.observe(&Method::GET, "/servizi", 404, Duration::from_millis(20));
        m.observe(
            &Method::from_bytes(b"BREW").unwrap(),
            "unmatched",
            405,
            Duration::from_secs(5),
        );
        let text = m.render();
        assert!(text.contains(
            "palazzo_http_requests_total{route=\"/servizi\",method=\"GET\",status=\"2xx\"} 1"
        ));
        assert!(text.contains(
            "palazzo_http_requests_total{route=\"/servizi\",method=\"GET\",status=\"4xx\"} 1"
        ));
        assert!(text.contains(
            "palazzo_http_requests_total{route=\"unmatched\",method=\"OTHER\",status=\"4xx\"} 1"
        ));
        assert!(text.contains("palazzo_http_request_duration_seconds_bucket{route=\"/servizi\",method=\"GET\",le=\"0.0005\"} 1"));
        assert!(text.contains("palazzo_http_request_duration_seconds_bucket{route=\"/servizi\",method=\"GET\",le=\"0.025\"} 2"));
        assert!(text.contains(
            "palazzo_http_request_duration_seconds_count{route=\"/servizi\",method=\"GET\"} 2"
        ));
        assert!(text.contains("palazzo_http_request_duration_seconds_bucket{route=\"unmatched\",method=\"OTHER\",le=\"+Inf\"} 1"));
        assert!(text.contains("process_start_time_seconds "));
        // Every sample line is "name{labels} value" or "name value".
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(
                line.rsplit(' ').next().unwrap().parse::<f64>().is_ok(),
                "{line}"
            );
        }
    }

    #[test]
    fn in_flight_gauge() {
        let m = Metrics::new();
        {
            let _a = m.start();
            assert!(m.render().contains("palazzo_http_requests_in_flight 1"));
        }
        assert!(m.render().contains("palazzo_http_requests_in_flight 0"));
    }
}
