//! The real binary: zero-config start, graceful shutdown on SIGTERM, masked logs.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;

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

    // A request whose path holds an e-mail address, to check the log masks it.
    let http = reqwest::Client::new();
    let res = http
        .get(format!("http://{addr}/api/v1/people/leak.me@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // Start a login and deliver only half of its body.
    let body = format!("{{\"email\":\"{email}\",\"password\":\"{password}\"}}");
    let (first, rest) = body.split_at(body.len() / 2);
    let mut conn = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
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
