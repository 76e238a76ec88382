//! The real binary: zero-config start, graceful shutdown on SIGTERM, masked logs, the
//! `migrate` and `admin create` commands, and configuration layering.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;

use crate::support::http_client;

#[tokio::test]
async fn slow_in_flight_request_completes_after_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_jangteo"))
        .args(["serve", "--listen", &addr])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("jangteo starts");
    let output = Arc::new(Mutex::new(Vec::<String>::new()));
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let reader = {
        let output = output.clone();
        let stdout = child.stdout.take().unwrap();
        tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("jangteo is serving")
                    && let Some(tx) = ready.take()
                {
                    let _ = tx.send(());
                }
                output.lock().unwrap().push(line);
            }
        })
    };
    tokio::time::timeout(Duration::from_secs(60), ready_rx)
        .await
        .expect("server ready in time")
        .unwrap();
    let (email, password) = {
        let out = output.lock().unwrap();
        let field = |name: &str| {
            out.iter()
                .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_owned()))
                .expect("banner printed")
        };
        (field("email:"), field("password:"))
    };
    assert!(
        dir.path().join("data/jangteo.db").exists(),
        "SQLite under ./data by default"
    );
    let demo: serde_json::Value = http_client()
        .get(format!("http://{addr}/api/v1/products?limit=5"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        demo["items"].as_array().unwrap().len(),
        5,
        "zero-config start offers a demo catalog"
    );

    // A request whose path holds an e-mail address, to check the log masks it.
    let http = http_client();
    let res = http
        .get(format!("http://{addr}/api/v1/people/leak.me@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // A keep-alive connection that served one request and is now idle.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    let health = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    idle.write_all(health.as_bytes()).await.unwrap();
    let (head, _) = read_response(&mut idle).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(!head.to_ascii_lowercase().contains("connection: close"));

    // Start a login and deliver only half of its body.
    let body = format!("{{\"email\":\"{email}\",\"password\":\"{password}\"}}");
    let (first, rest) = body.split_at(body.len() / 2);
    let mut conn = TcpStream::connect(&addr).await.unwrap();
    // `Expect: 100-continue` makes the server say when the handler starts reading the body:
    // only then is the request provably in flight (a connection whose head was not read yet
    // is idle, and closing idle connections is exactly what shutdown should do).
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.flush().await.unwrap();
    let mut interim = Vec::new();
    while !interim.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let n = tokio::time::timeout(Duration::from_secs(30), conn.read(&mut byte))
            .await
            .expect("100 Continue")
            .unwrap();
        assert_eq!(n, 1, "connection closed before 100 Continue");
        interim.push(byte[0]);
    }
    assert!(
        interim.starts_with(b"HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&interim)
    );
    conn.write_all(first.as_bytes()).await.unwrap();
    conn.flush().await.unwrap();

    let pid = child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());

    // Shutdown has begun once the listener refuses new connections.
    let mut refused = false;
    for _ in 0..200 {
        if TcpStream::connect(&addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        refused,
        "the server stopped accepting new connections after SIGTERM"
    );

    // The idle connection is still served while shutdown drains (instead of being reset
    // under a request that was already on its way), and told to close.
    idle.write_all(health.as_bytes()).await.unwrap();
    let (head, body) = read_response(&mut idle).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    assert!(body.contains("ok"));
    let mut rest_of_idle = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(10), idle.read_to_end(&mut rest_of_idle))
        .await
        .expect("the drained connection closes")
        .unwrap();
    assert_eq!(n, 0, "nothing after the last response");

    // The in-flight request still completes.
    conn.write_all(rest.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(30), conn.read_to_string(&mut response))
        .await
        .expect("response in time")
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("access_token"));

    let exit = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("exits in time")
        .unwrap();
    assert!(exit.success(), "clean exit: {exit:?}");
    reader.await.unwrap();

    let out = output.lock().unwrap();
    let logs: Vec<&String> = out.iter().filter(|l| l.starts_with('{')).collect();
    assert!(logs.iter().any(|l| l.contains("\"route\":\"/api/v1/auth/login\"") && l.contains("\"status\":200")), "login logged");
    assert!(
        logs.iter().all(|l| !l.contains("leak.me@example.com")),
        "e-mail masked in logs"
    );
    assert!(logs.iter().any(|l| l.contains("l***@example.com")));
    assert!(
        logs.iter().all(|l| !l.contains(&password)),
        "no password in logs"
    );
}

/// Reads one HTTP/1.1 response with a Content-Length body: (head, body).
async fn read_response(conn: &mut TcpStream) -> (String, String) {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut byte))
            .await
            .expect("response in time")
            .expect("no reset");
        assert_eq!(
            n,
            1,
            "connection closed before a response: {:?}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
        .expect("content-length");
    let mut body = vec![0u8; length];
    conn.read_exact(&mut body).await.unwrap();
    (head, String::from_utf8(body).unwrap())
}

fn jangteo(dir: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_jangteo"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

#[test]
fn migrate_and_admin_create_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = jangteo(dir.path()).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("applied m20261122_000001_accounts"));

    let out = jangteo(dir.path())
        .args([
            "admin",
            "create",
            "--email",
            "Ops@Example.com",
            "--password",
            "a long admin passphrase",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin ops@example.com"));

    // Same address again: refused with a clear message and a failing exit code.
    let out = jangteo(dir.path())
        .args(["admin", "create", "--email", "ops@example.com"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already exists"),
        "{out:?}"
    );

    // A weak password is refused before anything is written.
    let out = jangteo(dir.path())
        .args([
            "admin",
            "create",
            "--email",
            "weak@example.com",
            "--password",
            "short",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("password"),
        "{out:?}"
    );

    // Without --password one is generated and printed once.
    let out = jangteo(dir.path())
        .args(["admin", "create", "--email", "gen@example.com"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("password: "));
}

#[test]
fn configuration_layers_defaults_file_environment_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    // The file sets two keys; the environment overrides one of them; a flag overrides listen.
    std::fs::write(
        dir.path().join("jangteo.toml"),
        "listen = \"127.0.0.1:1\"\nadmin_email = \"file@example.com\"\ndata_dir = \"./shopdata\"\n",
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = jangteo(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("JANGTEO_ADMIN_EMAIL", "env@example.com")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.contains("jangteo is serving");
        seen.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = seen.join("\n");
    assert!(
        text.contains("email:    env@example.com"),
        "environment beats the file:\n{text}"
    );
    assert!(
        text.contains(&format!("\"listen\":\"127.0.0.1:{port}\"")),
        "the flag beats the file:\n{text}"
    );
    assert!(
        dir.path().join("shopdata/jangteo.db").exists(),
        "the file beats the default data_dir"
    );

    // A config file named explicitly must exist.
    let out = jangteo(dir.path())
        .args(["--config", "missing.toml", "migrate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}

#[tokio::test]
async fn audit_command_reports_mismatches_and_exits_non_zero() {
    use jangteo_services::catalog::{ProductInput, VariantInput};
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let dir = tempfile::tempdir().unwrap();
    let config = jangteo::Config {
        data_dir: dir.path().join("data"),
        ..jangteo::Config::default()
    };
    let db = jangteo::startup::open_database(&config).await.unwrap();
    let services = jangteo::startup::services(&config, db, jangteo::Overrides::default()).unwrap();
    let admin = services
        .accounts()
        .create_admin("audit.admin@example.com", "a long admin passphrase")
        .await
        .unwrap();
    let principal = jangteo_services::tokens::Principal {
        user_id: admin.id,
        role: jangteo_core::Role::Admin,
    };
    let variants = vec![
        VariantInput {
            sku: Some("AUD-A"),
            name: Some("a"),
            stock: Some(4),
            ..Default::default()
        },
        VariantInput {
            sku: Some("AUD-B"),
            name: Some("b"),
            stock: Some(9),
            ..Default::default()
        },
    ];
    let product = services
        .catalog()
        .create_product(
            principal,
            ProductInput {
                name: Some("감사 대상"),
                price: Some(1000),
                variants: Some(variants),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap()
        .value;
    services
        .inventory()
        .take(
            product.variants[0].id,
            1,
            jangteo_core::inventory::StockReason::Sale,
            None,
        )
        .await
        .unwrap();

    let out = jangteo(dir.path()).arg("audit").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 variants checked"));

    jangteo_store::entities::variants::Entity::update_many()
        .col_expr(
            jangteo_store::entities::variants::Column::Stock,
            Expr::value(8i64),
        )
        .filter(jangteo_store::entities::variants::Column::Sku.eq("AUD-B"))
        .exec(services.db())
        .await
        .unwrap();
    let out = jangteo(dir.path()).arg("audit").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("1 of 2 variants"), "{report}");
    assert!(
        report.contains("AUD-B") && report.contains("stock 8 but initial 9 + ledger 0 = 9"),
        "{report}"
    );
    assert!(!report.contains("AUD-A"));
}
