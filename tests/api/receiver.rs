//! A local HTTP endpoint on 127.0.0.1 that records every request and answers with a status
//! the test sets: the stand-in for webhook receivers and the Mastodon API.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Captured {
    /// `POST`, `GET`, …
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, names lowercased.
    pub headers: HashMap<String, String>,
    /// The body as text.
    pub body: String,
    /// The status it was answered with.
    pub answered: u16,
}

#[derive(Clone)]
struct Shared {
    requests: Arc<Mutex<Vec<Captured>>>,
    status: Arc<AtomicU16>,
    reply: Arc<Mutex<String>>,
}

/// A running receiver.
pub struct Receiver {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The port.
    pub port: u16,
    shared: Shared,
    handle: ServerHandle,
}

async fn record(req: HttpRequest, body: web::Bytes, s: web::Data<Shared>) -> HttpResponse {
    let status = s.status.load(Ordering::SeqCst);
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_lowercase(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    s.requests.lock().unwrap().push(Captured {
        method: req.method().to_string(),
        path: req
            .uri()
            .path_and_query()
            .map_or("/".into(), |p| p.to_string()),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        answered: status,
    });
    let reply = s.reply.lock().unwrap().clone();
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .content_type("application/json")
        .body(reply)
}

impl Receiver {
    /// Starts on a free port, answering 200 `{}`.
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// Starts on `port` (0: any free port).
    pub async fn start_on(port: u16) -> Self {
        let shared = Shared {
            requests: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
            reply: Arc::new(Mutex::new("{}".into())),
        };
        let data = web::Data::new(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(record))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", port))
        .expect("receiver port");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}"),
            port,
            shared,
            handle,
        }
    }

    /// Answers every following request with `status`.
    pub fn set_status(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }

    /// Answers every following request with this body.
    pub fn set_reply(&self, body: &str) {
        *self.shared.reply.lock().unwrap() = body.to_string();
    }

    /// Everything received so far.
    pub fn requests(&self) -> Vec<Captured> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived (panics after `timeout`).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Captured> {
        let until = std::time::Instant::now() + timeout;
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            assert!(
                std::time::Instant::now() < until,
                "expected {n} requests within {timeout:?}, got {}: {got:#?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops listening (the port is closed: connections are refused).
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// A port that was free a moment ago and has nothing listening on it now.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
