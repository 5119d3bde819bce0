//! `hailong serve` as its own process, for tests that kill it or run the CLI beside it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    /// SIGKILL, as a power cut would.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `hailong serve` on `port` over `database_url`, without the kiosk rate limit, and
/// waits until it answers.
pub async fn start(database_url: &str, port: u16) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hailong"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("HAILONG_DATABASE_URL", database_url)
        .env("HAILONG_KIOSK_MAX_PER_MINUTE", "0")
        .envs(super::on_postgres().then_some(("HAILONG_LINK_SECRET", super::LINK_SECRET)))
        .env("LEPTOS_SITE_ROOT", "/nonexistent")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("hailong serve starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Server { child, base };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    panic!("the server did not answer /healthz");
}

/// Imports `registry` (CSV), adds a kiosk at `point` and pairs it with the running `server`:
/// its device token.
pub async fn paired_kiosk(database_url: &str, registry: &str, point: &str, server: &Server) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("registry.csv");
    std::fs::write(&file, registry).unwrap();
    assert!(super::hailong(database_url, &["agency", "import", file.to_str().unwrap()]).status.success());
    let added = super::hailong(database_url, &["kiosk", "add", "--agency", point, "--name", "Kiosk", "--json"]);
    let added: serde_json::Value = serde_json::from_slice(&added.stdout).unwrap();
    let paired: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/kiosks/pair", server.base))
        .json(&serde_json::json!({"code": added["pairing_code"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    paired["token"].as_str().unwrap().to_owned()
}
