//! Shoppers for checkout stories: one through the API (signup, address book), or hundreds
//! at once written straight to the database with a minted access token — a race of 500
//! buyers should measure the checkout, not 500 password hashes.

use jangteo_core::Role;
use jangteo_core::ids::UserId;
use jangteo_services::tokens::Principal;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use super::app::TestApp;
use super::fixtures::Session;

/// A signed-in buyer with an address in their book.
#[derive(Debug, Clone)]
pub struct Buyer {
    pub user_id: uuid::Uuid,
    pub access: String,
    pub address_id: String,
}

pub fn address_body(line1: &str) -> Value {
    json!({"label": "집", "recipient": "김철수", "phone": "010-1234-5678", "postal_code": "06236", "line1": line1})
}

impl TestApp {
    /// Signs up a user through the API and gives them an address.
    pub async fn buyer(&self, email: &str) -> Buyer {
        let s = self.user(email).await;
        self.with_address(&s).await
    }

    /// An address for an existing session.
    pub async fn with_address(&self, s: &Session) -> Buyer {
        let res = self
            .post_auth(
                "/api/v1/me/addresses",
                &s.access,
                address_body("테헤란로 427"),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "address");
        let body: Value = res.json().await.expect("json");
        Buyer {
            user_id: s.user_id,
            access: s.access.clone(),
            address_id: body["id"].as_str().expect("id").to_owned(),
        }
    }

    /// `n` verified buyers with an address each, inserted in bulk.
    pub async fn buyers(&self, prefix: &str, n: usize) -> Vec<Buyer> {
        jangteo::seed::shoppers(&self.services, prefix, n)
            .await
            .expect("shoppers")
            .into_iter()
            .map(|s| Buyer {
                user_id: s.user_id.uuid(),
                access: s.access_token,
                address_id: s.address_id.to_string(),
            })
            .collect()
    }

    pub fn token_for(&self, user_id: UserId, role: Role) -> String {
        self.services
            .keys()
            .issue_access(Principal { user_id, role }, self.clock_now())
            .expect("token")
    }

    /// `POST /api/v1/orders` buying `items` (variant id, quantity) now.
    pub async fn buy_now(&self, buyer: &Buyer, items: &[(&str, i64)]) -> Response {
        let items: Vec<Value> = items
            .iter()
            .map(|(v, q)| json!({"variant_id": v, "quantity": q}))
            .collect();
        self.post_auth(
            "/api/v1/orders",
            &buyer.access,
            json!({"address_id": buyer.address_id, "items": items}),
        )
        .await
    }
}
