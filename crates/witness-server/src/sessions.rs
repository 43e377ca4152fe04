//! Login sessions: random tokens in an HttpOnly, SameSite=Strict cookie, stored hashed, with
//! a sliding expiry; and the limit on failed logins.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const COOKIE_NAME: &str = "witness_session";

/// 32 random bytes, URL-safe base64.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// The session token from the request's cookies.
pub fn token_from_cookies(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_string())
}

/// `Secure` when the request reached us over TLS (directly or through a proxy that says so).
fn is_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// A browser-session cookie (no Max-Age): the server's sliding expiry decides how long it
/// is good for, and the browser forgets it when it closes.
pub fn session_cookie(token: &str, request: &HeaderMap) -> Option<HeaderValue> {
    let secure = if is_tls(request) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict{secure}"
    ))
    .ok()
}

pub fn clearing_cookie(request: &HeaderMap) -> Option<HeaderValue> {
    let secure = if is_tls(request) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"
    ))
    .ok()
}

/// Failed logins per username: after `MAX_FAILURES` within `WINDOW`, further attempts are
/// refused until the oldest failure leaves the window. Usernames that do not exist are
/// counted the same way, so the answer never tells whether a user exists.
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            failures: Mutex::new(HashMap::new()),
        }
    }
}

impl LoginLimiter {
    /// `Some(seconds to wait)` when this username may not try now.
    pub fn blocked_for(&self, username: &str) -> Option<u64> {
        let mut failures = self.failures.lock().ok()?;
        let now = Instant::now();
        let list = failures.get_mut(&username.to_lowercase())?;
        while list
            .front()
            .is_some_and(|at| now.duration_since(*at) >= WINDOW)
        {
            list.pop_front();
        }
        if list.len() < MAX_FAILURES {
            return None;
        }
        let oldest = *list.front()?;
        Some((WINDOW - now.duration_since(oldest)).as_secs().max(1))
    }

    pub fn record_failure(&self, username: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            let list = failures.entry(username.to_lowercase()).or_default();
            list.push_back(Instant::now());
            while list.len() > MAX_FAILURES {
                list.pop_front();
            }
        }
    }

    pub fn clear(&self, username: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&username.to_lowercase());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_block_the_sixth_attempt() {
        let limiter = LoginLimiter::default();
        for _ in 0..MAX_FAILURES - 1 {
            limiter.record_failure("Alice");
            assert_eq!(limiter.blocked_for("alice"), None);
        }
        limiter.record_failure("alice");
        let wait = limiter.blocked_for("ALICE").expect("blocked");
        assert!(wait > 0 && wait <= WINDOW.as_secs());
        assert_eq!(limiter.blocked_for("bob"), None);
        limiter.clear("alice");
        assert_eq!(limiter.blocked_for("alice"), None);
    }

    #[test]
    fn the_session_cookie_is_http_only_and_strict() {
        let cookie = session_cookie("abc", &HeaderMap::new()).expect("cookie");
        let text = cookie.to_str().expect("ascii");
        assert!(text.contains("HttpOnly") && text.contains("SameSite=Strict"));
        assert!(!text.contains("Secure"));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; witness_session=xyz; b=2"),
        );
        assert_eq!(token_from_cookies(&headers).as_deref(), Some("xyz"));
    }
}
