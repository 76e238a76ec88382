//! The accounts, categories and products most stories start from, made over HTTP the way a
//! client makes them; `ProductSpec` is the one way tests write a product body.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::app::TestApp;

pub const PASSWORD: &str = "correct horse battery";

pub struct Session {
    pub user_id: Uuid,
    pub access: String,
    pub refresh: String,
}

/// A product body for `POST /api/v1/products`: a name and a price, then only what the test
/// cares about. Bodies that are wrong on purpose stay raw `json!`.
#[derive(Debug, Clone)]
pub struct ProductSpec(Value);

impl ProductSpec {
    /// No status: the server makes it a draft.
    pub fn new(name: &str, price: i64) -> Self {
        Self(json!({"name": name, "price": price, "variants": []}))
    }

    /// Public at once.
    pub fn on_sale(name: &str, price: i64) -> Self {
        Self::new(name, price).status("ON_SALE")
    }

    pub fn status(self, status: &str) -> Self {
        self.set("status", status)
    }

    pub fn description(self, text: &str) -> Self {
        self.set("description", text)
    }

    pub fn brand(self, brand: &str) -> Self {
        self.set("brand", brand)
    }

    pub fn publisher(self, publisher: &str) -> Self {
        self.set("publisher", publisher)
    }

    /// In this one category.
    pub fn category(self, id: &str) -> Self {
        self.set("category_ids", json!([id]))
    }

    /// A variant named "기본" (the usual single variant).
    pub fn variant(self, sku: &str, stock: i64) -> Self {
        self.variant_named(sku, "기본", stock)
    }

    pub fn variant_named(self, sku: &str, name: &str, stock: i64) -> Self {
        self.variant_json(json!({"sku": sku, "name": name, "stock": stock}))
    }

    /// A variant given as JSON (options, a price delta, a missing stock).
    pub fn variant_json(mut self, variant: Value) -> Self {
        self.0["variants"]
            .as_array_mut()
            .expect("variants is an array")
            .push(variant);
        self
    }

    fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0[key] = value.into();
        self
    }

    pub fn json(self) -> Value {
        self.0
    }
}

impl From<ProductSpec> for Value {
    fn from(spec: ProductSpec) -> Self {
        spec.0
    }
}

/// The id of the `n`th variant in a product body.
pub fn variant_id(product: &Value, n: usize) -> Uuid {
    product["variants"][n]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no variant {n} in {product}"))
}

impl TestApp {
    pub async fn signup(&self, email: &str) -> reqwest::Response {
        self.post(
            "/api/v1/auth/signup",
            json!({ "email": email, "password": PASSWORD }),
        )
        .await
    }

    pub async fn verify(&self, email: &str, code: &str) -> reqwest::Response {
        self.post(
            "/api/v1/auth/verify",
            json!({ "email": email, "code": code }),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post(
            "/api/v1/auth/login",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Signs up, verifies and logs in a new USER.
    pub async fn user(&self, email: &str) -> Session {
        let res = self.signup(email).await;
        assert_eq!(res.status(), StatusCode::CREATED, "signup of {email}");
        let code = self.latest_code(email).await;
        assert_eq!(self.verify(email, &code).await.status(), StatusCode::OK);
        self.session(email, PASSWORD).await
    }

    pub async fn session(&self, email: &str, password: &str) -> Session {
        let res = self.login(email, password).await;
        assert_eq!(res.status(), StatusCode::OK, "login of {email}");
        let body: Value = res.json().await.expect("json");
        Session {
            user_id: body["user_id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("user_id"),
            access: body["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
            refresh: body["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned(),
        }
    }

    /// A new account approved as a seller, with a token that carries the SELLER role.
    pub async fn seller(&self, email: &str) -> Session {
        let s = self.user(email).await;
        let body = json!({"shop_name": format!("shop {email}"), "business_number": "220-81-62517"});
        let res = self
            .post_auth("/api/v1/sellers/applications", &s.access, body)
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let id = res.json::<Value>().await.expect("json")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let admin = self.admin().await;
        let res = self
            .post_auth(
                &format!("/api/v1/sellers/applications/{id}/approve"),
                &admin.access,
                json!({}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = self
            .post("/api/v1/auth/refresh", json!({"refresh_token": s.refresh}))
            .await;
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["role"], "SELLER");
        Session {
            user_id: s.user_id,
            access: body["access_token"].as_str().expect("access").to_owned(),
            refresh: body["refresh_token"].as_str().expect("refresh").to_owned(),
        }
    }

    /// Creates a category as admin; returns its id.
    pub async fn category(&self, admin: &Session, name: &str, parent: Option<&str>) -> String {
        let res = self
            .post_auth(
                "/api/v1/categories",
                &admin.access,
                json!({"name": name, "parent_id": parent}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "category {name}");
        res.json::<Value>().await.expect("json")["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// Creates a product (a `ProductSpec` or raw JSON) that must succeed; returns its body.
    pub async fn product(&self, seller: &Session, body: impl Into<Value>) -> Value {
        let res = self
            .post_auth("/api/v1/products", &seller.access, body.into())
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.expect("json")
    }

    pub async fn admin(&self) -> Session {
        self.session(&self.admin_email.clone(), &self.admin_password.clone())
            .await
    }
}
