//! Rate limits on the routes attackers hammer: sign-up, login and code sending. Attempts are
//! counted per client IP, and per account *and* client, so that an attacker elsewhere can
//! never use up the owner's allowance (GCRA, through the `RateLimiter` port: governor in
//! process by default). Failed logins have their own throttle ([`LoginThrottle`]) that
//! blocks the guessing client and only slows down — never refuses — everyone else.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use jangteo_services::ports::{RateLimiter, RetryAfter};

use crate::{ApiError, AppState};

/// Requests allowed per minute for each limited action, and the login-failure throttle
/// (the `rate_limits` configuration section).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RateLimitSettings {
    pub signup_per_ip: u32,
    pub login_per_ip: u32,
    /// Wrong passwords for one account from one client, per 15 minutes, before that client
    /// is refused (429) for that account.
    pub login_failures_per_client: u32,
    /// Wrong passwords for one account from all clients together, per 15 minutes, after
    /// which every further wrong answer for it is delayed by a second. Right passwords are
    /// never delayed or refused by this.
    pub login_slow_after: u32,
    pub code_per_ip: u32,
    /// Verification attempts and code mails per account and client.
    pub code_per_account: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            signup_per_ip: 10,
            login_per_ip: 30,
            login_failures_per_client: 5,
            login_slow_after: 20,
            code_per_ip: 20,
            code_per_account: 10,
        }
    }
}

pub struct RateLimits {
    signup_ip: Arc<dyn RateLimiter>,
    login_ip: Arc<dyn RateLimiter>,
    code_ip: Arc<dyn RateLimiter>,
    code_account: Arc<dyn RateLimiter>,
    pub login: LoginThrottle,
}

#[derive(Debug, Clone, Copy)]
pub enum Action {
    Signup,
    Login,
    Code,
}

/// Accounts are counted by their normalised e-mail.
fn account_key(account: &str) -> String {
    account.trim().to_lowercase()
}

impl RateLimits {
    /// Limits counted in this process (governor).
    pub fn new(s: &RateLimitSettings) -> Self {
        Self::with_limiters(s, |_, per_minute| {
            Arc::new(LocalRateLimiter::per_minute(per_minute))
        })
    }

    /// Limits whose buckets `limiter(name, per_minute)` provides, one per limited action.
    /// The name ("signup_ip", "code_account", …) is for adapters that share one key space,
    /// e.g. as the prefix of Redis keys.
    pub fn with_limiters(
        s: &RateLimitSettings,
        limiter: impl Fn(&'static str, u32) -> Arc<dyn RateLimiter>,
    ) -> Self {
        Self {
            signup_ip: limiter("signup_ip", s.signup_per_ip),
            login_ip: limiter("login_ip", s.login_per_ip),
            code_ip: limiter("code_ip", s.code_per_ip),
            code_account: limiter("code_account", s.code_per_account),
            login: LoginThrottle::new(
                s.login_failures_per_client,
                s.login_slow_after,
                Duration::from_secs(15 * 60),
            ),
        }
    }

    /// Counts one attempt of `action` by `ip` (and, for codes, by `ip` for `account`).
    pub async fn check(
        &self,
        action: Action,
        ip: IpAddr,
        account: Option<&str>,
    ) -> Result<(), ApiError> {
        let by_ip = match action {
            Action::Signup => &self.signup_ip,
            Action::Login => &self.login_ip,
            Action::Code => &self.code_ip,
        };
        by_ip
            .check(&ip.to_string())
            .await
            .map_err(|r| limited(r.0))?;
        if let (Action::Code, Some(account)) = (action, account) {
            // The address first: it has no space, so no e-mail can make two pairs collide.
            self.code_account
                .check(&format!("{ip} {}", account_key(account)))
                .await
                .map_err(|r| limited(r.0))?;
        }
        Ok(())
    }

    /// Drops idle keys so memory stays bounded; called periodically.
    pub fn shrink(&self) {
        self.signup_ip.shrink();
        self.login_ip.shrink();
        self.code_ip.shrink();
        self.code_account.shrink();
        self.login.shrink(Instant::now());
    }
}

/// The in-process adapter of the `RateLimiter` port: governor's keyed GCRA, one timestamp
/// per key in a sharded map, so checks of different keys rarely contend. It sits here rather
/// than in services' ports because this crate owns the governor dependency.
pub struct LocalRateLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl LocalRateLimiter {
    /// `n` attempts per minute, in a burst or spread out; a quota of 0 is taken as 1.
    pub fn per_minute(n: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            limiter: governor::RateLimiter::keyed(quota),
        }
    }
}

#[async_trait::async_trait]
impl RateLimiter for LocalRateLimiter {
    async fn check(&self, key: &str) -> Result<(), RetryAfter> {
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|nu| RetryAfter(nu.wait_time_from(DefaultClock::default().now())))
    }

    fn shrink(&self) {
        self.limiter.retain_recent();
    }
}

/// Failures counted since `since`; the count restarts once the window has passed.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

impl Failures {
    fn current(&self, now: Instant, window: Duration) -> u32 {
        if now.duration_since(self.since) < window {
            self.count
        } else {
            0
        }
    }
}

/// Wrong-password throttle. Per account and client: after `per_client` failures within the
/// window that client is refused for that account until the window ends (a right password
/// from it clears the count). Per account over all clients: past `slow_after` failures,
/// wrong answers are delayed, which slows a distributed guesser without ever refusing the
/// owner, whose right password is answered at once.
pub struct LoginThrottle {
    per_client: u32,
    slow_after: u32,
    window: Duration,
    pairs: Mutex<HashMap<(String, IpAddr), Failures>>,
    accounts: Mutex<HashMap<String, Failures>>,
}

/// Entries kept per map; past it, new keys are not tracked until expired ones are dropped
/// (the per-IP limit still applies), so a flood of made-up accounts cannot exhaust memory.
const MAX_TRACKED: usize = 100_000;
/// How long a wrong answer waits while its account is under attack.
pub const SLOW_DOWN: Duration = Duration::from_secs(1);

impl LoginThrottle {
    pub fn new(per_client: u32, slow_after: u32, window: Duration) -> Self {
        Self {
            per_client: per_client.max(1),
            slow_after: slow_after.max(1),
            window,
            pairs: Mutex::default(),
            accounts: Mutex::default(),
        }
    }

    /// Refuses a client that has guessed wrong too often for this account.
    pub fn check(&self, account: &str, ip: IpAddr) -> Result<(), ApiError> {
        self.check_at(account, ip, Instant::now())
    }

    fn check_at(&self, account: &str, ip: IpAddr, now: Instant) -> Result<(), ApiError> {
        let pairs = self.pairs.lock().unwrap_or_else(|p| p.into_inner());
        match pairs.get(&(account_key(account), ip)) {
            Some(f) if f.current(now, self.window) >= self.per_client => {
                let wait = self.window.saturating_sub(now.duration_since(f.since));
                Err(limited(wait))
            }
            _ => Ok(()),
        }
    }

    /// Records a wrong password; returns how long to wait before answering.
    pub fn failed(&self, account: &str, ip: IpAddr) -> Duration {
        self.failed_at(account, ip, Instant::now())
    }

    fn failed_at(&self, account: &str, ip: IpAddr, now: Instant) -> Duration {
        let account = account_key(account);
        bump(&self.pairs, (account.clone(), ip), now, self.window);
        let total = bump(&self.accounts, account, now, self.window);
        if total > self.slow_after {
            SLOW_DOWN
        } else {
            Duration::ZERO
        }
    }

    /// A right password clears that client's failures for the account.
    pub fn succeeded(&self, account: &str, ip: IpAddr) {
        self.pairs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(account_key(account), ip));
    }

    fn shrink(&self, now: Instant) {
        let window = self.window;
        self.pairs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, f| f.current(now, window) > 0);
        self.accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, f| f.current(now, window) > 0);
    }
}

/// Adds one failure under `key`; returns the count within the window.
fn bump<K: std::hash::Hash + Eq>(
    map: &Mutex<HashMap<K, Failures>>,
    key: K,
    now: Instant,
    window: Duration,
) -> u32 {
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= MAX_TRACKED && !map.contains_key(&key) {
        map.retain(|_, f| f.current(now, window) > 0);
        if map.len() >= MAX_TRACKED {
            return 0;
        }
    }
    let entry = map.entry(key).or_insert(Failures {
        count: 0,
        since: now,
    });
    if entry.current(now, window) == 0 {
        *entry = Failures {
            count: 0,
            since: now,
        };
    }
    entry.count += 1;
    entry.count
}

fn limited(wait: Duration) -> ApiError {
    ApiError::too_many(
        "rate_limited",
        "too many attempts; slow down and retry later",
        RetryAfter(wait).secs(),
    )
}

/// The client address: the socket peer, or the first `X-Forwarded-For` hop when the server
/// is configured to sit behind a trusted proxy.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.http.trust_forwarded_for {
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse().ok());
            if let Some(ip) = forwarded {
                return Ok(ClientIp(ip));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientIp(peer.unwrap_or(IpAddr::from([127, 0, 0, 1]))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTACKER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9));
    const OWNER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

    #[test]
    fn the_guessing_client_is_refused_and_the_owner_is_not() {
        let t = LoginThrottle::new(5, 20, Duration::from_secs(900));
        let now = Instant::now();
        for _ in 0..5 {
            assert!(t.check_at("kim@example.com", ATTACKER, now).is_ok());
            t.failed_at("kim@example.com", ATTACKER, now);
        }
        let refused = t.check_at("KIM@example.com", ATTACKER, now).unwrap_err();
        assert_eq!(refused.retry_after_secs, Some(900));
        assert!(t.check_at("kim@example.com", OWNER, now).is_ok());
        assert!(t.check_at("lee@example.com", ATTACKER, now).is_ok());
        // The window passes: the attacker may try again.
        let later = now + Duration::from_secs(901);
        assert!(t.check_at("kim@example.com", ATTACKER, later).is_ok());
    }

    #[test]
    fn many_clients_slow_wrong_answers_down_only() {
        let t = LoginThrottle::new(5, 20, Duration::from_secs(900));
        let now = Instant::now();
        let mut delays = Vec::new();
        for i in 0..30u8 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, i));
            delays.push(t.failed_at("kim@example.com", ip, now));
        }
        assert!(delays[..20].iter().all(Duration::is_zero));
        assert!(delays[20..].iter().all(|d| *d == SLOW_DOWN));
        // Nobody is refused, the owner included.
        assert!(t.check_at("kim@example.com", OWNER, now).is_ok());
    }

    #[tokio::test]
    async fn a_local_limiter_counts_keys_apart_and_says_when_to_retry() {
        let l = LocalRateLimiter::per_minute(2);
        assert!(l.check("a").await.is_ok());
        assert!(l.check("a").await.is_ok());
        let wait = l.check("a").await.unwrap_err();
        // One attempt comes back every 30 s.
        assert!(wait.0 > Duration::from_secs(29) && wait.0 <= Duration::from_secs(30));
        assert_eq!(wait.secs(), 30);
        assert!(l.check("b").await.is_ok(), "another key has its own bucket");
        l.shrink();
    }

    #[tokio::test]
    async fn code_limits_count_per_account_and_client() {
        let s = RateLimitSettings {
            code_per_ip: 100,
            code_per_account: 1,
            ..RateLimitSettings::default()
        };
        let limits = RateLimits::new(&s);
        assert!(
            limits
                .check(Action::Code, ATTACKER, Some("kim@example.com"))
                .await
                .is_ok()
        );
        let refused = limits
            .check(Action::Code, ATTACKER, Some(" KIM@example.com"))
            .await
            .unwrap_err();
        assert_eq!(refused.retry_after_secs, Some(60));
        assert!(
            limits
                .check(Action::Code, OWNER, Some("kim@example.com"))
                .await
                .is_ok()
        );
        assert!(
            limits
                .check(Action::Code, ATTACKER, Some("lee@example.com"))
                .await
                .is_ok()
        );
        assert!(limits.check(Action::Code, ATTACKER, None).await.is_ok());
    }

    #[test]
    fn a_right_password_clears_the_clients_failures() {
        let t = LoginThrottle::new(2, 20, Duration::from_secs(900));
        let now = Instant::now();
        t.failed_at("kim@example.com", OWNER, now);
        t.succeeded("kim@example.com", OWNER);
        t.failed_at("kim@example.com", OWNER, now);
        assert!(t.check_at("kim@example.com", OWNER, now).is_ok());
    }
}
