//! Product images: upload checks, serving, ordering, deletion and ownership on the local
//! file store, a race for the last free slot, and the S3 adapter against a local
//! S3-compatible server (moto).

use std::path::Path;

use jangteo_core::images::samples::{GIF_1X1, PNG_1X1, png_header};
use jangteo_store::entities::product_images;
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::support::*;

async fn image_rows(app: &TestApp) -> u64 {
    product_images::Entity::find()
        .count(app.services.db())
        .await
        .unwrap()
}

/// Every regular file under `dir` (the local store), as paths relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn key_of(url: &str) -> &str {
    url.strip_prefix("/files/").expect("served by jangteo")
}

#[tokio::test]
async fn images_are_uploaded_served_ordered_and_deleted() {
    let app = spawn_app().await;
    let a = app.seller("img.a@example.com").await;
    let b = app.seller("img.b@example.com").await;
    let product = app
        .product(
            &a,
            ProductSpec::on_sale("사진 많은 상품", 12000).variant("pic-1", 5),
        )
        .await;
    let id = product["id"].as_str().unwrap();
    let images = format!("/api/v1/products/{id}/images");
    assert_eq!(product["images"], json!([]));

    let res = app
        .upload(&images, Some(&a.access), Some("image/png"), PNG_1X1)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let png: Value = res.json().await.unwrap();
    assert_eq!(png["url"], location);
    assert_eq!(
        (&png["width"], &png["height"], &png["content_type"]),
        (&json!(1), &json!(1), &json!("image/png"))
    );
    assert_eq!(png["byte_size"], PNG_1X1.len());
    assert_eq!(png["position"], 0);
    let png_url = png["url"].as_str().unwrap().to_owned();
    assert!(
        png_url.starts_with(&format!("/files/products/{}/", id.replace('-', ""))),
        "{png_url}"
    );
    // The file is in the local store, byte for byte.
    assert_eq!(
        std::fs::read(app.files_dir.join(key_of(&png_url))).unwrap(),
        PNG_1X1
    );

    // Served with its type, cacheable forever, never sniffed; ETag revalidation works.
    let res = app.get(&png_url).await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["cache-control"].to_str().unwrap().contains("immutable"));
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG_1X1);
    let etag = h["etag"].to_str().unwrap().to_owned();
    let res = app
        .http
        .get(app.url(&png_url))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    let res = app
        .upload(&images, Some(&a.access), Some("image/gif"), GIF_1X1)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let gif: Value = res.json().await.unwrap();
    assert_eq!(gif["position"], 1);

    // Detail lists them cover first; the listing shows the cover.
    let detail: Value = app.get_json(&format!("/api/v1/products/{id}"), None).await;
    assert_eq!(detail["images"][0]["id"], png["id"]);
    assert_eq!(detail["images"][1]["id"], gif["id"]);
    let page: Value = app.get_json("/api/v1/products", None).await;
    assert_eq!(page["items"][0]["cover"]["id"], png["id"]);

    // Another seller can neither add, reorder nor delete; nothing changes.
    assert_problem(
        app.upload(&images, Some(&b.access), Some("image/png"), PNG_1X1)
            .await,
        StatusCode::FORBIDDEN,
        "not_product_owner",
    )
    .await;
    assert_problem(
        app.put_auth(
            &format!("{images}/order"),
            &b.access,
            json!({"image_ids": [gif["id"], png["id"]]}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "not_product_owner",
    )
    .await;
    assert_problem(
        app.delete_auth(
            &format!("{images}/{}", png["id"].as_str().unwrap()),
            &b.access,
        )
        .await,
        StatusCode::FORBIDDEN,
        "not_product_owner",
    )
    .await;
    assert_problem(
        app.upload(&images, None, Some("image/png"), PNG_1X1).await,
        StatusCode::UNAUTHORIZED,
        "missing_token",
    )
    .await;
    assert_eq!(image_rows(&app).await, 2);
    assert_eq!(files_under(&app.files_dir).len(), 2);

    // Reordering makes the GIF the cover, visible on the next read of detail and listing.
    let res = app
        .put_auth(
            &format!("{images}/order"),
            &a.access,
            json!({"image_ids": [gif["id"], png["id"]]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let listed: Value = app.get_json(&images, None).await;
    assert_eq!(listed["items"][0]["id"], gif["id"]);
    let page: Value = app.get_json("/api/v1/products", None).await;
    assert_eq!(page["items"][0]["cover"]["id"], gif["id"]);
    // An order that is not exactly the product's images is refused.
    let bad = app
        .put_auth(
            &format!("{images}/order"),
            &a.access,
            json!({"image_ids": [gif["id"]]}),
        )
        .await;
    assert_problem(bad, StatusCode::CONFLICT, "image_set_mismatch").await;

    // Deleting removes the row and the file; its URL stops working.
    let res = app
        .delete_auth(
            &format!("{images}/{}", png["id"].as_str().unwrap()),
            &a.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get(&png_url).await,
        StatusCode::NOT_FOUND,
        "file_not_found",
    )
    .await;
    assert_eq!(
        files_under(&app.files_dir),
        [key_of(gif["url"].as_str().unwrap())]
    );
    let detail: Value = app.get_json(&format!("/api/v1/products/{id}"), None).await;
    assert_eq!(detail["images"].as_array().unwrap().len(), 1);
    assert_problem(
        app.delete_auth(
            &format!("{images}/{}", png["id"].as_str().unwrap()),
            &a.access,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn bad_uploads_get_4xx_and_store_nothing() {
    let app = spawn_app_with(|c| c.files.max_image_bytes = 1024).await;
    let a = app.seller("img.bad@example.com").await;
    let product = app
        .product(
            &a,
            ProductSpec::on_sale("검사 상품", 12000).variant("chk-1", 5),
        )
        .await;
    let id = product["id"].as_str().unwrap();
    let images = format!("/api/v1/products/{id}/images");
    let up = |ct: Option<&'static str>, body: Vec<u8>| {
        let (app, images, token) = (&app, images.clone(), a.access.clone());
        async move { app.upload(&images, Some(&token), ct, body).await }
    };

    // Type refused before the body is read.
    for ct in [
        None,
        Some("text/plain"),
        Some("image/svg+xml"),
        Some("multipart/form-data; boundary=x"),
    ] {
        assert_problem(
            up(ct, PNG_1X1.to_vec()).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
    }
    // Too large, whether announced by Content-Length or streamed in chunks without one.
    let mut big = PNG_1X1.to_vec();
    big.resize(2048, 0);
    assert_problem(
        up(Some("image/png"), big.clone()).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.chunks(256).map(|c| Ok(c.to_vec())).collect();
    let streamed = app
        .upload(
            &images,
            Some(&a.access),
            Some("image/png"),
            reqwest::Body::wrap_stream(futures::stream::iter(chunks)),
        )
        .await;
    assert_problem(streamed, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    // Bodies that are not what they claim, empty, or absurdly large in pixels.
    for (ct, body, code) in [
        (
            "image/png",
            b"<html><script>alert(1)</script></html>".to_vec(),
            "not_an_image",
        ),
        ("image/jpeg", PNG_1X1.to_vec(), "image_type_mismatch"),
        ("image/png", Vec::new(), "image_empty"),
        (
            "image/png",
            png_header(60_000, 60_000),
            "image_too_large_dimensions",
        ),
    ] {
        let problem = assert_problem(
            up(Some(ct), body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["code"], code, "{problem}");
    }
    // Unknown product, and file URLs that are not image keys.
    let missing = format!("/api/v1/products/{}/images", uuid::Uuid::now_v7());
    assert_problem(
        app.upload(&missing, Some(&a.access), Some("image/png"), PNG_1X1)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    for path in [
        "/files/../jangteo.db",
        "/files/jwt-secret",
        "/files/products/x/y.png",
        "/files/products/%2e%2e/jangteo.db",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }

    assert_eq!(image_rows(&app).await, 0, "nothing recorded");
    assert_eq!(
        files_under(&app.files_dir),
        Vec::<String>::new(),
        "nothing stored"
    );
}

#[tokio::test]
async fn racing_uploads_never_exceed_the_image_limit() {
    let limit = jangteo_core::images::MAX_IMAGES_PER_PRODUCT;
    let app = spawn_app().await;
    let a = app.seller("img.race@example.com").await;
    let product = app
        .product(
            &a,
            ProductSpec::on_sale("경쟁 상품", 12000).variant("race-1", 5),
        )
        .await;
    let images = format!(
        "/api/v1/products/{}/images",
        product["id"].as_str().unwrap()
    );

    // All but one slot filled; then 20 uploads race for the last one.
    for _ in 0..limit - 1 {
        let res = app
            .upload(&images, Some(&a.access), Some("image/png"), PNG_1X1)
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (http, url, token) = (app.http.clone(), app.url(&images), a.access.clone());
            tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(token)
                    .header("content-type", "image/png")
                    .body(PNG_1X1)
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 1, "exactly one upload takes the last slot");
    assert_eq!(image_rows(&app).await, limit as u64);
    // Refused uploads left no file behind.
    assert_eq!(files_under(&app.files_dir).len(), limit);
    assert_problem(
        app.upload(&images, Some(&a.access), Some("image/png"), PNG_1X1)
            .await,
        StatusCode::CONFLICT,
        "image_limit_reached",
    )
    .await;
}

/// A moto S3 server on a free port, stopped when dropped.
struct Moto {
    child: std::process::Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `moto_server` (PyPI `moto[server]`), or returns None when it is not installed and
/// `JANGTEO_TEST_REQUIRE_S3` is unset (CI sets it, so there this cannot skip).
async fn start_moto() -> Option<Moto> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) if std::env::var_os("JANGTEO_TEST_REQUIRE_S3").is_none() => {
            eprintln!(
                "SKIPPED: S3 adapter test needs moto_server (pip install 'moto[server]'): {e}"
            );
            return None;
        }
        Err(e) => panic!("JANGTEO_TEST_REQUIRE_S3 is set but moto_server cannot start: {e}"),
    };
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let http = http_client();
    for _ in 0..150 {
        if http.get(&moto.endpoint).send().await.is_ok() {
            return Some(moto);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("moto_server did not start on {}", moto.endpoint);
}

fn s3_settings(endpoint: &str, bucket: &str) -> jangteo_services::files::S3Settings {
    jangteo_services::files::S3Settings {
        bucket: bucket.into(),
        endpoint: Some(endpoint.into()),
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
        allow_http: true,
        ..Default::default()
    }
}

fn use_s3(c: &mut jangteo::Config, endpoint: &str, bucket: &str) {
    c.files.backend = jangteo::config::FilesBackend::S3;
    c.files.s3 = s3_settings(endpoint, bucket);
}

#[tokio::test]
async fn s3_adapter_stores_serves_and_deletes_images() {
    let Some(moto) = start_moto().await else {
        return;
    };
    let bucket = "jangteo-images";
    let res = http_client()
        .put(format!("{}/{bucket}", moto.endpoint))
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_success(),
        "bucket created: {}",
        res.status()
    );

    // A server pointed at a bucket that does not exist refuses to start, saying why.
    let dir = tempfile::tempdir().unwrap();
    let mut config = jangteo::Config {
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".into(),
        ..jangteo::Config::default()
    };
    use_s3(&mut config, &moto.endpoint, "no-such-bucket");
    let err = match jangteo::Application::build(&config, jangteo::Overrides::default()).await {
        Ok(_) => panic!("started without its bucket"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("file store"), "{err}");

    let app = spawn_app_with(|c| use_s3(c, &moto.endpoint, bucket)).await;
    let a = app.seller("img.s3@example.com").await;
    let product = app
        .product(
            &a,
            ProductSpec::on_sale("S3 상품", 12000).variant("s3-1", 5),
        )
        .await;
    let images = format!(
        "/api/v1/products/{}/images",
        product["id"].as_str().unwrap()
    );
    let res = app
        .upload(&images, Some(&a.access), Some("image/gif"), GIF_1X1)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let gif: Value = res.json().await.unwrap();
    let url = gif["url"].as_str().unwrap();

    // The object is in the bucket (read back with a client of its own)…
    let direct =
        jangteo_services::files::FileStore::s3(&s3_settings(&moto.endpoint, bucket)).unwrap();
    assert_eq!(
        direct.read_all(key_of(url)).await.unwrap().as_deref(),
        Some(GIF_1X1)
    );
    // …nothing went to the local directory, and jangteo serves it from the bucket.
    assert!(files_under(&app.files_dir).is_empty());
    let res = app.get(url).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/gif");
    assert!(res.headers().contains_key("etag"));
    assert_eq!(res.bytes().await.unwrap().as_ref(), GIF_1X1);

    // A bad upload stores nothing in the bucket either.
    let res = app
        .upload(&images, Some(&a.access), Some("image/png"), GIF_1X1)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(image_rows(&app).await, 1);

    let res = app
        .delete_auth(
            &format!("{images}/{}", gif["id"].as_str().unwrap()),
            &a.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(direct.read_all(key_of(url)).await.unwrap(), None);
    assert_eq!(app.get(url).await.status(), StatusCode::NOT_FOUND);
}

/// Images of drafts, hidden and deleted products used to stay downloadable by URL, and the
/// files of deleted products were never removed.
#[tokio::test]
async fn only_visible_images_are_served_and_deleted_ones_are_swept() {
    let app = spawn_app().await;
    let seller = app.seller("vis.seller@example.com").await;
    let other = app.seller("vis.other@example.com").await;
    let admin = app.admin().await;
    let product = app
        .product(
            &seller,
            ProductSpec::on_sale("보이는 상품", 12000).variant("vis-1", 5),
        )
        .await;
    let id = product["id"].as_str().unwrap().to_owned();
    let res = app
        .upload(
            &format!("/api/v1/products/{id}/images"),
            Some(&seller.access),
            Some("image/png"),
            PNG_1X1,
        )
        .await;
    let url = res.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let fetch = |token: Option<&str>| {
        let mut req = app.http.get(app.url(&url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    assert_eq!(fetch(None).await.unwrap().status(), StatusCode::OK);

    // Hidden: the public and other sellers get 404; its seller and admins still see it, and
    // no shared cache may keep it.
    app.patch_auth(
        &format!("/api/v1/products/{id}"),
        &seller.access,
        json!({"status": "HIDDEN"}),
    )
    .await;
    for token in [None, Some(other.access.as_str())] {
        assert_problem(
            fetch(token).await.unwrap(),
            StatusCode::NOT_FOUND,
            "file_not_found",
        )
        .await;
    }
    for token in [&seller.access, &admin.access] {
        let res = fetch(Some(token)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["cache-control"], "private, no-store");
    }

    // A draft with an image, then deleted: 404 for everyone, and the sweep removes the
    // files and rows (not those of the live product).
    let draft = app
        .product(
            &seller,
            json!({"name": "초안", "price": 1000, "variants": [{"sku": "vis-2", "name": "a"}]}),
        )
        .await;
    let draft_id = draft["id"].as_str().unwrap().to_owned();
    let res = app
        .upload(
            &format!("/api/v1/products/{draft_id}/images"),
            Some(&seller.access),
            Some("image/gif"),
            GIF_1X1,
        )
        .await;
    let draft_url = res.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_problem(
        app.get(&draft_url).await,
        StatusCode::NOT_FOUND,
        "file_not_found",
    )
    .await;
    let res = app
        .delete_auth(&format!("/api/v1/products/{draft_id}"), &seller.access)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .http
        .get(app.url(&draft_url))
        .bearer_auth(&seller.access)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "file_not_found").await;
    assert_eq!(files_under(&app.files_dir).len(), 2);

    // An orphan: a file that no row points at (a crash between file and row).
    let orphan = format!(
        "products/{}/{}.png",
        id.replace('-', ""),
        uuid::Uuid::now_v7().simple()
    );
    app.services
        .files()
        .put(&orphan, bytes::Bytes::from_static(PNG_1X1))
        .await
        .unwrap();
    // A fresh orphan may be an upload in progress: kept.
    let report = app.services.images().sweep().await.unwrap();
    assert_eq!((report.of_deleted_products, report.orphan_files), (1, 0));
    assert_eq!(image_rows(&app).await, 1);
    assert_eq!(files_under(&app.files_dir).len(), 2);
    // An hour later it is swept too; the live product's image stays.
    app.clock.advance(chrono::Duration::hours(2));
    let report = app.services.images().sweep().await.unwrap();
    assert_eq!((report.of_deleted_products, report.orphan_files), (0, 1));
    assert_eq!(files_under(&app.files_dir), [key_of(&url).to_owned()]);
    let admin = app.admin().await;
    let res = fetch(Some(&admin.access)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
