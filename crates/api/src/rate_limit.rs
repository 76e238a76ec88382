//! Rate limits on the routes attackers hammer: sign-up, login and code sending, counted per
//! client IP and per account (GCRA via governor, in process).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::{ApiError, AppState};

/// Requests allowed per minute for each limited action.
#[derive(Debug, Clone)]
pub struct RateLimitSettings {
    pub signup_per_ip: u32,
    pub login_per_ip: u32,
    pub login_per_account: u32,
    pub code_per_ip: u32,
    pub code_per_account: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            signup_per_ip: 10,
            login_per_ip: 30,
            login_per_account: 10,
            code_per_ip: 20,
            code_per_account: 10,
        }
    }
}

pub struct RateLimits {
    signup_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_account: DefaultKeyedRateLimiter<String>,
    code_ip: DefaultKeyedRateLimiter<IpAddr>,
    code_account: DefaultKeyedRateLimiter<String>,
}

#[derive(Debug, Clone, Copy)]
pub enum Action {
    Signup,
    Login,
    Code,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl RateLimits {
    pub fn new(s: &RateLimitSettings) -> Self {
        Self {
            signup_ip: RateLimiter::keyed(per_minute(s.signup_per_ip)),
            login_ip: RateLimiter::keyed(per_minute(s.login_per_ip)),
            login_account: RateLimiter::keyed(per_minute(s.login_per_account)),
            code_ip: RateLimiter::keyed(per_minute(s.code_per_ip)),
            code_account: RateLimiter::keyed(per_minute(s.code_per_account)),
        }
    }

    /// Counts one attempt of `action` by `ip` (and `account`, lowercased, if known).
    pub fn check(&self, action: Action, ip: IpAddr, account: Option<&str>) -> Result<(), ApiError> {
        let (by_ip, by_account) = match action {
            Action::Signup => (&self.signup_ip, None),
            Action::Login => (&self.login_ip, Some(&self.login_account)),
            Action::Code => (&self.code_ip, Some(&self.code_account)),
        };
        by_ip
            .check_key(&ip)
            .map_err(|nu| limited(nu.wait_time_from(DefaultClock::default().now())))?;
        if let (Some(limiter), Some(account)) = (by_account, account) {
            let key = account.trim().to_lowercase();
            limiter
                .check_key(&key)
                .map_err(|nu| limited(nu.wait_time_from(DefaultClock::default().now())))?;
        }
        Ok(())
    }

    /// Drops idle keys so memory stays bounded; called periodically.
    pub fn shrink(&self) {
        self.signup_ip.retain_recent();
        self.login_ip.retain_recent();
        self.login_account.retain_recent();
        self.code_ip.retain_recent();
        self.code_account.retain_recent();
    }
}

fn limited(wait: Duration) -> ApiError {
    ApiError::too_many(
        "rate_limited",
        "too many attempts; slow down and retry later",
        wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
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
