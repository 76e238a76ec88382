//! Sign-up, e-mail verification, login and the profile.

use chrono::Duration;
use futures::future::join_all;
use jangteo_store::accounts as store;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn full_account_flow() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/v1/auth/signup",
            json!({"email": "Kim.CS@Example.com", "password": PASSWORD, "display_name": "김철수"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["email"], "kim.cs@example.com", "e-mail is normalised");
    assert_eq!(body["email_verified"], false);
    assert_eq!(body["role"], "USER");

    // Not verified yet: login is refused with a clear reason.
    assert_problem(
        app.login("kim.cs@example.com", PASSWORD).await,
        StatusCode::FORBIDDEN,
        "email_not_verified",
    )
    .await;

    let code = app.latest_code("kim.cs@example.com").await;
    let res = app.verify("KIM.cs@example.com", &code).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["email_verified"], true);

    let s = app.session("kim.cs@example.com", PASSWORD).await;
    let me: Value = app.get_json("/api/v1/me", Some(&s.access)).await;
    assert_eq!(me["email"], "kim.cs@example.com");
    assert_eq!(me["display_name"], "김철수");
    assert_eq!(me["email_verified"], true);

    let res = app
        .request(
            reqwest::Method::PATCH,
            "/api/v1/me",
            Some(&s.access),
            Some(json!({"phone": "010-1234-5678", "display_name": "철수"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["phone"], "010-1234-5678");
    assert_eq!(me["display_name"], "철수");
    // null clears, absent leaves alone
    let me: Value = app
        .request(
            reqwest::Method::PATCH,
            "/api/v1/me",
            Some(&s.access),
            Some(json!({"phone": null})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["phone"], Value::Null);
    assert_eq!(me["display_name"], "철수");

    // Wrong password
    assert_problem(
        app.login("kim.cs@example.com", "wrong horse battery").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    // Unknown account looks the same as a wrong password
    assert_problem(
        app.login("nobody@example.com", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn wrong_code_then_right_code() {
    let app = spawn_app().await;
    app.signup("lee@example.com").await;
    let code = app.latest_code("lee@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_problem(
        app.verify("lee@example.com", wrong).await,
        StatusCode::UNAUTHORIZED,
        "code_mismatch",
    )
    .await;
    let p = assert_problem(
        app.verify("lee@example.com", "12ab").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "invalid_format");
    assert_eq!(
        app.verify("lee@example.com", &code).await.status(),
        StatusCode::OK
    );
    // Verifying again is harmless.
    assert_eq!(
        app.verify("lee@example.com", &code).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn expired_code_is_refused_and_a_new_one_works() {
    let app = spawn_app().await;
    app.signup("park@example.com").await;
    let code = app.latest_code("park@example.com").await;
    app.clock.advance(Duration::minutes(16));
    assert_problem(
        app.verify("park@example.com", &code).await,
        StatusCode::UNAUTHORIZED,
        "code_expired",
    )
    .await;
    let user = store::find_user_by_email(app.services.db(), "park@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(user.email_verified_at.is_none(), "nothing changed");

    let res = app
        .post(
            "/api/v1/auth/verify/resend",
            json!({"email": "park@example.com"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let fresh = app.latest_code("park@example.com").await;
    assert_eq!(
        app.verify("park@example.com", &fresh).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn too_many_wrong_codes_lock_the_code() {
    let app = spawn_app().await;
    app.signup("choi@example.com").await;
    let code = app.latest_code("choi@example.com").await;
    let wrong = if code == "999999" { "888888" } else { "999999" };
    for _ in 0..4 {
        assert_eq!(
            app.verify("choi@example.com", wrong).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let res = app.verify("choi@example.com", wrong).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "code_attempts_exceeded").await;
    // Even the right code is refused now.
    assert_problem(
        app.verify("choi@example.com", &code).await,
        StatusCode::TOO_MANY_REQUESTS,
        "code_attempts_exceeded",
    )
    .await;
    let user = store::find_user_by_email(app.services.db(), "choi@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(user.email_verified_at.is_none());

    // Resending too soon sends nothing, and says so no differently than for an address
    // without an account; after the cool-down a new code works.
    for email in ["choi@example.com", "nobody@example.com"] {
        assert_eq!(
            app.post("/api/v1/auth/verify/resend", json!({ "email": email }))
                .await
                .status(),
            StatusCode::ACCEPTED
        );
    }
    assert_eq!(
        app.latest_code("choi@example.com").await,
        code,
        "no new code yet"
    );
    app.clock.advance(Duration::seconds(61));
    assert_eq!(
        app.post(
            "/api/v1/auth/verify/resend",
            json!({"email": "choi@example.com"})
        )
        .await
        .status(),
        StatusCode::ACCEPTED
    );
    let fresh = app.latest_code("choi@example.com").await;
    assert_eq!(
        app.verify("choi@example.com", &fresh).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn parallel_wrong_guesses_cannot_exceed_the_attempt_limit() {
    let app = spawn_app().await;
    app.signup("guess@example.com").await;
    let code = app.latest_code("guess@example.com").await;
    let guesses: Vec<String> = (0..40u32)
        .map(|i| format!("{:06}", (i * 7919) % 1_000_000))
        .filter(|g| *g != code)
        .collect();
    let results = join_all(guesses.iter().map(|g| app.verify("guess@example.com", g))).await;
    let mismatches = results
        .iter()
        .filter(|r| r.status() == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        mismatches <= 5,
        "{mismatches} guesses were evaluated; the limit is 5"
    );
    let row = store::find_email_code(
        app.services.db(),
        store::find_user_by_email(app.services.db(), "guess@example.com")
            .await
            .unwrap()
            .unwrap()
            .id,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(row.attempts, 5);
}

#[tokio::test]
async fn duplicate_email_is_a_conflict() {
    let app = spawn_app().await;
    assert_eq!(
        app.signup("dup@example.com").await.status(),
        StatusCode::CREATED
    );
    assert_problem(
        app.signup("dup@example.com").await,
        StatusCode::CONFLICT,
        "email_taken",
    )
    .await;
    assert_problem(
        app.signup("  DUP@Example.COM ").await,
        StatusCode::CONFLICT,
        "email_taken",
    )
    .await;
    assert_eq!(
        store::count_users_with_email(app.services.db(), "dup@example.com")
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn missing_and_weak_fields_are_listed() {
    let app = spawn_app().await;
    let p = assert_problem(
        app.post("/api/v1/auth/signup", json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), ["email", "password"]);
    let p = assert_problem(
        app.post(
            "/api/v1/auth/signup",
            json!({"email": "not-an-email", "password": "short", "display_name": ""}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), ["email", "password", "display_name"]);
    let p = assert_problem(
        app.post(
            "/api/v1/auth/signup",
            json!({"email": "weak@example.com", "password": "password1234"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "too_weak");
    assert_eq!(
        store::count_users_with_email(app.services.db(), "weak@example.com")
            .await
            .unwrap(),
        0,
        "nothing written"
    );
    let p = assert_problem(
        app.post(
            "/api/v1/auth/signup",
            json!({"email": 42, "password": PASSWORD}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), ["email"]);
}

#[tokio::test]
async fn profile_changes_are_validated() {
    let app = spawn_app().await;
    let s = app.user("val@example.com").await;
    let res = app
        .request(
            reqwest::Method::PATCH,
            "/api/v1/me",
            Some(&s.access),
            Some(json!({"phone": "call me maybe", "display_name": "x".repeat(51)})),
        )
        .await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(fields(&p), ["display_name", "phone"]);
    let res = app
        .request(
            reqwest::Method::PATCH,
            "/api/v1/me",
            Some(&s.access),
            Some(json!({"role": "ADMIN"})),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let me: Value = app.get_json("/api/v1/me", Some(&s.access)).await;
    assert_eq!(me["role"], "USER");
    assert_eq!(me["phone"], Value::Null);
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let app = spawn_app_with(|c| {
        c.rate_limits.signup_per_ip = 3;
        c.rate_limits.login_failures_per_client = 2;
    })
    .await;
    for i in 0..3 {
        assert_eq!(
            app.signup(&format!("rl{i}@example.com")).await.status(),
            StatusCode::CREATED
        );
    }
    let res = app.signup("rl3@example.com").await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(
        store::count_users_with_email(app.services.db(), "rl3@example.com")
            .await
            .unwrap(),
        0
    );

    for _ in 0..2 {
        assert_eq!(
            app.login("victim@example.com", "guess guess guess")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_problem(
        app.login("VICTIM@example.com", "guess guess guess").await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    // Another account from the same address is not affected by that account's limit.
    assert_eq!(
        app.login("other@example.com", "guess guess guess")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Ten wrong passwords from an attacker used to lock the owner out as well (429 for the
/// right password). Now the attacker's client is refused and the owner logs in.
#[tokio::test]
async fn an_attacker_cannot_lock_the_owner_out() {
    let app = spawn_app_with(|c| {
        c.trust_forwarded_for = true;
        c.rate_limits.login_failures_per_client = 5;
        c.rate_limits.login_slow_after = 8;
    })
    .await;
    app.user("owner@example.com").await;
    let login_from = |ip: &'static str, password: &'static str| {
        app.http
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", ip)
            .json(&json!({"email": "owner@example.com", "password": password}))
            .send()
    };
    for _ in 0..5 {
        let res = login_from("203.0.113.9", "wrong wrong wrong")
            .await
            .unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    // The attacker is refused from now on, even with the right password.
    for password in ["wrong wrong wrong", PASSWORD] {
        let res = login_from("203.0.113.9", password).await.unwrap();
        assert!(res.headers().contains_key("retry-after"));
        assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    }
    // The owner, elsewhere, is not.
    let res = login_from("192.0.2.1", PASSWORD).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // A distributed guesser (one wrong password from each of many addresses) is slowed
    // down past the account's threshold (unit-tested in the api crate), never refused; the
    // owner still gets in.
    const ADDRESSES: [&str; 6] = [
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.3",
        "198.51.100.4",
        "198.51.100.5",
        "198.51.100.6",
    ];
    for ip in ADDRESSES {
        let res = login_from(ip, "wrong wrong wrong").await.unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let res = login_from("192.0.2.1", PASSWORD).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn invisible_characters_and_look_alike_addresses_are_refused() {
    let app = spawn_app().await;
    for (email, name, field) in [
        ("kim@example.com", "admin\u{200B}", "display_name"), // zero-width space
        ("kim@example.com", "shop\u{202E}gpj", "display_name"), // right-to-left override
        ("\u{0430}dmin@example.com", "김철수", "email"),      // Cyrillic а
        ("kim@ex\u{0430}mple.com", "김철수", "email"),        // Cyrillic а in the domain
        ("김철수@example.com", "김철수", "email"),            // non-ASCII local part
    ] {
        let res = app
            .post(
                "/api/v1/auth/signup",
                json!({"email": email, "password": PASSWORD, "display_name": name}),
            )
            .await;
        let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(fields(&p), [field], "{email} {name:?}");
    }
    let users: Value = app
        .get_auth("/api/v1/admin/users", &app.admin().await.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        users["items"].as_array().unwrap().len(),
        1,
        "only the admin exists"
    );

    // Names are stored composed: decomposed jamo (ᄀ + ᅵ + ᆷ) become 김.
    let s = app.user("jamo@example.com").await;
    let me: Value = app
        .patch_auth(
            "/api/v1/me",
            &s.access,
            json!({"display_name": "\u{1100}\u{1175}\u{11B7}"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["display_name"], "김");
    let res = app
        .patch_auth(
            "/api/v1/me",
            &s.access,
            json!({"display_name": "\u{FEFF}kim"}),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // Shop names follow the same rule.
    let res = app
        .post_auth(
            "/api/v1/sellers/applications",
            &s.access,
            json!({"shop_name": "책방\u{200D}", "business_number": "220-81-62517"}),
        )
        .await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(fields(&p), ["shop_name"]);
}

/// Verification attempts are limited per account *and* client: an attacker guessing codes
/// for someone's address cannot use up the owner's attempts from another address.
#[tokio::test]
async fn code_limits_count_per_account_and_client() {
    let app = spawn_app_with(|c| {
        c.trust_forwarded_for = true;
        c.rate_limits.code_per_account = 2;
    })
    .await;
    app.signup("coded@example.com").await;
    let code = app.latest_code("coded@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let verify_from = |ip: &'static str, code: String| {
        app.http
            .post(app.url("/api/v1/auth/verify"))
            .header("x-forwarded-for", ip)
            .json(&json!({"email": "coded@example.com", "code": code}))
            .send()
    };
    for _ in 0..2 {
        let res = verify_from("203.0.113.9", wrong.to_owned()).await.unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED, "code_mismatch").await;
    }
    let res = verify_from("203.0.113.9", wrong.to_owned()).await.unwrap();
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let res = verify_from("192.0.2.1", code).await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the owner verifies from elsewhere"
    );
}
