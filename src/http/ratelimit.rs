//! A per-client request limit (begränsning per klient) for endpoints an attacker could hammer:
//! token issuing. One fixed one-minute window per IP address, kept in memory per instance.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked clients, windows that have ended are dropped.
const SWEEP_ABOVE: usize = 10_000;

/// Allows `per_minute` requests per client in each one-minute window.
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn per_minute(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request from `client`; when the client is over its limit, the whole seconds
    /// until its window ends (at least 1), for `Retry-After`.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        self.check_at(client, Instant::now())
    }

    fn check_at(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if w.len() > SWEEP_ABOVE {
            w.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = w.entry(client).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_minute {
            let left = WINDOW.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs().max(1) + u64::from(left.subsec_nanos() > 0));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_limit_waits_for_its_window_others_do_not() {
        let l = RateLimiter::per_minute(3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check_at(a, t0).is_ok());
        }
        let retry = l.check_at(a, t0 + Duration::from_secs(20)).unwrap_err();
        assert!((40..=41).contains(&retry), "{retry}");
        assert!(
            l.check_at(b, t0).is_ok(),
            "another client has its own window"
        );
        assert!(l.check_at(a, t0 + WINDOW).is_ok(), "a new window");
    }
}
