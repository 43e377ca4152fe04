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

/// Failed logins, counted three ways so that neither guessing one user's password nor
/// spraying many users from one address nor a botnet spraying everyone gets far:
/// per username ([`PER_USER`]), per client address ([`PER_ADDRESS`]) and in total
/// ([`GLOBAL`]), each within [`WINDOW`]. Usernames that do not exist count the same, so the
/// answer never tells whether a user exists. Memory is bounded: a key whose failures have all
/// left the window is forgotten, and since every kept failure also counts towards the global
/// limit, at most `GLOBAL` keys of each kind hold failures at any time.
pub struct LoginLimiter {
    state: Mutex<LimiterState>,
}

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures per username within [`WINDOW`].
pub const PER_USER: usize = 5;
/// Failures per client address within [`WINDOW`].
pub const PER_ADDRESS: usize = 30;
/// Failures in total within [`WINDOW`].
pub const GLOBAL: usize = 500;

#[derive(Default)]
struct LimiterState {
    users: HashMap<String, VecDeque<Instant>>,
    addresses: HashMap<String, VecDeque<Instant>>,
    global: VecDeque<Instant>,
}

/// Which limit refused a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitReached {
    User,
    Address,
    Global,
}

fn expire(list: &mut VecDeque<Instant>, now: Instant) {
    while list
        .front()
        .is_some_and(|at| now.duration_since(*at) >= WINDOW)
    {
        list.pop_front();
    }
}

/// Seconds until a list at `limit` has room again, if it is at its limit.
fn wait_for(list: &VecDeque<Instant>, limit: usize, now: Instant) -> Option<u64> {
    if list.len() < limit {
        return None;
    }
    let oldest = list.get(list.len() - limit)?;
    Some(
        (WINDOW.saturating_sub(now.duration_since(*oldest)))
            .as_secs()
            .max(1),
    )
}

fn record(map: &mut HashMap<String, VecDeque<Instant>>, key: String, limit: usize, now: Instant) {
    if map.len() > GLOBAL && !map.contains_key(&key) {
        map.retain(|_, list| {
            expire(list, now);
            !list.is_empty()
        });
    }
    let list = map.entry(key).or_default();
    list.push_back(now);
    while list.len() > limit {
        list.pop_front();
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            state: Mutex::new(LimiterState::default()),
        }
    }
}

impl LoginLimiter {
    /// `Some((seconds to wait, which limit))` when this username from this address may not
    /// try now. Checked before anything else happens for a login (audit write, hashing).
    pub fn blocked_for(
        &self,
        username: &str,
        address: Option<&str>,
    ) -> Option<(u64, LimitReached)> {
        let mut state = self.state.lock().ok()?;
        let now = Instant::now();
        expire(&mut state.global, now);
        if let Some(wait) = wait_for(&state.global, GLOBAL, now) {
            return Some((wait, LimitReached::Global));
        }
        if let Some(address) = address
            && let Some(list) = state.addresses.get_mut(address)
        {
            expire(list, now);
            if let Some(wait) = wait_for(list, PER_ADDRESS, now) {
                return Some((wait, LimitReached::Address));
            }
        }
        let list = state.users.get_mut(&username.to_lowercase())?;
        expire(list, now);
        wait_for(list, PER_USER, now).map(|wait| (wait, LimitReached::User))
    }

    pub fn record_failure(&self, username: &str, address: Option<&str>) {
        if let Ok(mut state) = self.state.lock() {
            let now = Instant::now();
            let state = &mut *state;
            record(&mut state.users, username.to_lowercase(), PER_USER, now);
            if let Some(address) = address {
                record(&mut state.addresses, address.to_string(), PER_ADDRESS, now);
            }
            expire(&mut state.global, now);
            state.global.push_back(now);
            while state.global.len() > GLOBAL {
                state.global.pop_front();
            }
        }
    }

    /// A successful login forgets that user's failures (not its address's, nor the total).
    pub fn clear(&self, username: &str) {
        if let Ok(mut state) = self.state.lock() {
            state.users.remove(&username.to_lowercase());
        }
    }

    /// How many usernames and addresses are remembered (for the bound's test).
    pub fn remembered(&self) -> (usize, usize) {
        self.state
            .lock()
            .map(|state| (state.users.len(), state.addresses.len()))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_block_the_sixth_attempt() {
        let limiter = LoginLimiter::default();
        for _ in 0..PER_USER - 1 {
            limiter.record_failure("Alice", None);
            assert_eq!(limiter.blocked_for("alice", None), None);
        }
        limiter.record_failure("alice", None);
        let (wait, which) = limiter.blocked_for("ALICE", None).expect("blocked");
        assert!(wait > 0 && wait <= WINDOW.as_secs());
        assert_eq!(which, LimitReached::User);
        assert_eq!(limiter.blocked_for("bob", None), None);
        limiter.clear("alice");
        assert_eq!(limiter.blocked_for("alice", None), None);
    }

    #[test]
    fn one_address_spraying_many_users_is_limited() {
        let limiter = LoginLimiter::default();
        for n in 0..PER_ADDRESS {
            limiter.record_failure(&format!("user{n}"), Some("203.0.113.9"));
        }
        let (_, which) = limiter
            .blocked_for("someone-new", Some("203.0.113.9"))
            .expect("blocked");
        assert_eq!(which, LimitReached::Address);
        assert_eq!(
            limiter.blocked_for("someone-new", Some("198.51.100.1")),
            None
        );
    }

    #[test]
    fn many_addresses_hit_the_global_limit_and_memory_stays_bounded() {
        let limiter = LoginLimiter::default();
        // As the login route does: a failure is recorded only for an attempt that was let in.
        for n in 0..GLOBAL * 3 {
            let user = format!("user{n}");
            let address = format!("10.0.{}.{}", n / 256, n % 256);
            if limiter.blocked_for(&user, Some(&address)).is_none() {
                limiter.record_failure(&user, Some(&address));
            }
        }
        let (_, which) = limiter
            .blocked_for("anyone", Some("192.0.2.1"))
            .expect("blocked");
        assert_eq!(which, LimitReached::Global);
        let (users, addresses) = limiter.remembered();
        assert!(
            users <= GLOBAL && addresses <= GLOBAL,
            "{users} {addresses}"
        );
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
