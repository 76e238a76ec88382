//! Access-token verification and refresh-token rotation.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use futures::future::join_all;
use jangteo_store::accounts as store;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

fn forge(header: &Value, claims: &Value, sig: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        sig
    )
}

fn claims_of(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn bad_access_tokens_are_refused() {
    let app = spawn_app().await;
    let s = app.user("jwt@example.com").await;
    assert_eq!(
        app.get_auth("/api/v1/me", &s.access).await.status(),
        StatusCode::OK
    );

    let res = app
        .request(reqwest::Method::GET, "/api/v1/me", None, None)
        .await;
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_problem(res, StatusCode::UNAUTHORIZED, "missing_token").await;

    // Tampered payload: promote ourselves to ADMIN, keep the signature.
    let mut claims = claims_of(&s.access);
    claims["role"] = json!("ADMIN");
    let parts: Vec<&str> = s.access.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    assert_problem(
        app.get_auth("/api/v1/admin/users", &tampered).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;

    // alg: none with no signature.
    let none = forge(&json!({"alg": "none", "typ": "JWT"}), &claims, "");
    assert_problem(
        app.get_auth("/api/v1/me", &none).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;

    // Signed with another key.
    let other = jsonwebtoken_like_sign(
        &claims_of(&s.access),
        b"a different secret that is long enough",
    );
    assert_problem(
        app.get_auth("/api/v1/me", &other).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;

    // Garbage and wrong scheme.
    assert_problem(
        app.get_auth("/api/v1/me", "not.a.jwt").await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    let res = app
        .http
        .get(app.url("/api/v1/me"))
        .header("authorization", format!("Basic {}", s.access))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_token").await;

    // The scheme is case-insensitive (RFC 9110), so every spelling of Bearer works.
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let res = app
            .http
            .get(app.url("/api/v1/me"))
            .header("authorization", format!("{scheme} {}", s.access))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{scheme}");
    }

    // A genuine token that expired by the wall clock (issued two hours ago) is called
    // expired, not invalid, so the client knows to refresh.
    let principal = jangteo_services::tokens::Principal {
        user_id: s.user_id.into(),
        role: jangteo_core::Role::User,
    };
    let stale = app
        .services
        .keys()
        .issue_access(principal, app.clock_now() - Duration::hours(2))
        .unwrap();
    assert_problem(
        app.get_auth("/api/v1/me", &stale).await,
        StatusCode::UNAUTHORIZED,
        "token_expired",
    )
    .await;

    // Expired: 15 minutes later the same token is refused.
    app.clock.advance(Duration::minutes(16));
    assert_problem(
        app.get_auth("/api/v1/me", &s.access).await,
        StatusCode::UNAUTHORIZED,
        "token_expired",
    )
    .await;
}

/// HS256 by hand (HMAC-SHA256 over header.payload) so the test does not trust the code
/// under test to produce the forgery.
fn jsonwebtoken_like_sign(claims: &Value, key: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "JWT"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{header}.{payload}").as_bytes());
    format!(
        "{header}.{payload}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let s = app.user("rot@example.com").await;
    let res = app
        .post("/api/v1/auth/refresh", json!({"refresh_token": s.refresh}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let second: Value = res.json().await.unwrap();
    let refresh2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, s.refresh);
    assert_eq!(
        app.get_auth("/api/v1/me", second["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );

    // The first token is presented again: someone copied it. The family dies.
    assert_problem(
        app.post("/api/v1/auth/refresh", json!({"refresh_token": s.refresh}))
            .await,
        StatusCode::UNAUTHORIZED,
        "refresh_token_reused",
    )
    .await;
    assert_problem(
        app.post("/api/v1/auth/refresh", json!({"refresh_token": refresh2}))
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    let row = store::find_refresh_token(
        app.services.db(),
        &jangteo_services::tokens::hash_refresh_token(&refresh2),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(row.revoked_at.is_some());
    assert_eq!(
        store::live_tokens_in_family(app.services.db(), row.family_id, app.clock_now())
            .await
            .unwrap(),
        0
    );

    // Tokens are stored hashed, never in the clear.
    assert!(
        store::find_refresh_token(app.services.db(), &refresh2)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_yield_one_new_pair() {
    let app = spawn_app().await;
    let s = app.user("race@example.com").await;
    let body = json!({"refresh_token": s.refresh});
    let results = join_all((0..10).map(|_| app.post("/api/v1/auth/refresh", body.clone()))).await;
    let ok = results
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    assert!(ok <= 1, "{ok} refreshes succeeded with one token");
    // Whatever happened, no token of that family may remain usable after a detected reuse.
    let row = store::find_refresh_token(
        app.services.db(),
        &jangteo_services::tokens::hash_refresh_token(&s.refresh),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        store::live_tokens_in_family(app.services.db(), row.family_id, app.clock_now())
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn logout_revokes_the_session() {
    let app = spawn_app().await;
    let s = app.user("bye@example.com").await;
    let other = app.session("bye@example.com", PASSWORD).await;
    let res = app
        .post("/api/v1/auth/logout", json!({"refresh_token": s.refresh}))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.post("/api/v1/auth/refresh", json!({"refresh_token": s.refresh}))
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    // Another device's session is untouched.
    assert_eq!(
        app.post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": other.refresh})
        )
        .await
        .status(),
        StatusCode::OK
    );
    // Logging out twice is fine.
    assert_eq!(
        app.post("/api/v1/auth/logout", json!({"refresh_token": s.refresh}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn expired_refresh_token_is_refused() {
    let app = spawn_app().await;
    let s = app.user("old@example.com").await;
    app.clock.advance(Duration::days(31));
    assert_problem(
        app.post("/api/v1/auth/refresh", json!({"refresh_token": s.refresh}))
            .await,
        StatusCode::UNAUTHORIZED,
        "refresh_token_expired",
    )
    .await;
}
