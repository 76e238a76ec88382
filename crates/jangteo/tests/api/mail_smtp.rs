//! The SMTP mail adapter against a local SMTP sink started by the test.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::support::*;

/// A minimal SMTP server (RFC 5321 happy path) that hands every received message to `rx`.
async fn smtp_sink() -> (u16, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(session(sock, tx.clone()));
        }
    });
    (port, rx)
}

async fn session(sock: TcpStream, tx: mpsc::UnboundedSender<String>) -> std::io::Result<()> {
    let (r, mut w) = sock.into_split();
    let mut lines = BufReader::new(r).lines();
    w.write_all(b"220 sink.test ESMTP\r\n").await?;
    let mut data = String::new();
    let mut in_data = false;
    while let Some(line) = lines.next_line().await? {
        if in_data {
            if line == "." {
                in_data = false;
                let _ = tx.send(std::mem::take(&mut data));
                w.write_all(b"250 2.0.0 queued\r\n").await?;
            } else {
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                data.push('\n');
            }
            continue;
        }
        let cmd = line.to_ascii_uppercase();
        let reply: &[u8] = if cmd.starts_with("EHLO") {
            b"250-sink.test\r\n250 8BITMIME\r\n"
        } else if cmd.starts_with("DATA") {
            in_data = true;
            b"354 end with <CRLF>.<CRLF>\r\n"
        } else if cmd.starts_with("QUIT") {
            w.write_all(b"221 bye\r\n").await?;
            break;
        } else if ["HELO", "MAIL", "RCPT", "RSET", "NOOP"]
            .iter()
            .any(|c| cmd.starts_with(c))
        {
            b"250 OK\r\n"
        } else {
            b"502 not implemented\r\n"
        };
        w.write_all(reply).await?;
    }
    Ok(())
}

#[tokio::test]
async fn verification_code_is_sent_over_smtp() {
    let (port, mut inbox) = smtp_sink().await;
    let app = spawn_app_with(|c| c.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    assert_eq!(
        app.signup("smtp.user@example.com").await.status(),
        StatusCode::CREATED
    );
    let message = tokio::time::timeout(Duration::from_secs(20), inbox.recv())
        .await
        .expect("mail arrives")
        .unwrap();
    assert!(message.contains("To: smtp.user@example.com"), "{message}");
    assert!(message.contains("Subject: Your jangteo verification code"));
    let code = extract_code(&message).expect("code in the mail");
    assert_eq!(
        app.verify("smtp.user@example.com", &code).await.status(),
        StatusCode::OK
    );
    assert!(
        !app.mail_dir.exists(),
        "nothing written to files when SMTP is configured"
    );
}

#[tokio::test]
async fn mail_outage_keeps_the_account_and_resend_reveals_nothing() {
    // A port where nothing listens.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = spawn_app_with(|c| c.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    assert_eq!(
        app.signup("outage@example.com").await.status(),
        StatusCode::CREATED
    );
    app.clock.advance(chrono::Duration::seconds(61));
    let res = app
        .post(
            "/api/v1/auth/verify/resend",
            json!({"email": "outage@example.com"}),
        )
        .await;
    // The same answer as for an address without an account: an outage is the operator's
    // to see (logs), not a way to learn which addresses have accounts.
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let unknown = app
        .post(
            "/api/v1/auth/verify/resend",
            json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::ACCEPTED);
    assert_eq!(
        res.text().await.unwrap(),
        unknown.text().await.unwrap(),
        "identical bodies"
    );
}
