//! The `posthaste` binary itself: configuration errors, `user add`, `--help`, SIGTERM.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use posthaste::db::{self, DatabaseUrl};
use posthaste::users::{self, password};

use crate::helpers::run_with_input;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_posthaste"));
    for (k, _) in std::env::vars() {
        if k.starts_with("POSTHASTE_") || k == "DATABASE_URL" || k == "PORT" {
            c.env_remove(k);
        }
    }
    c
}

/// Runs the binary with `args` and `env` (plus a fresh data folder) and returns its exit code
/// and standard error, for commands that must refuse to start.
fn refused(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = bin()
        .args(args)
        .env("POSTHASTE_DATA_DIR", dir)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn invalid_configuration_stops_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = refused(dir.path(), &[], &[("POSTHASTE_ADDR", "not-an-address")]);
    assert_eq!(code, Some(2));
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("POSTHASTE_ADDR") && err.contains("not-an-address"),
        "{err}"
    );

    let (code, err) = refused(dir.path(), &[], &[("POSTHASTE_SESSION_DAYS", "soon")]);
    assert_eq!(code, Some(2));
    assert!(err.to_lowercase().contains("session_days"), "{err}");

    let toml = dir.path().join("bad.toml");
    std::fs::write(&toml, "site_title = [1, 2]\n").unwrap();
    let (code, err) = refused(
        dir.path(),
        &["--config", toml.to_str().unwrap(), "migrate"],
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("site_title") && err.contains("bad.toml"),
        "{err}"
    );
}

#[cfg(not(feature = "mysql"))]
#[test]
fn sqlite_only_binary_explains_how_to_get_mysql() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = refused(
        dir.path(),
        &[],
        &[("DATABASE_URL", "mysql://root@127.0.0.1:3306/x")],
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--features mysql") && err.contains("libmariadb-dev"),
        "{err}"
    );
}

#[test]
fn help_lists_every_command() {
    let out = bin().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "migrate", "user", "seed"] {
        assert!(text.contains(cmd), "{cmd} in --help: {text}");
    }
}

#[test]
fn user_add_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cli.db").display());
    let mut cmd = bin();
    cmd.args([
        "user",
        "add",
        "--username",
        "Chloe",
        "--email",
        "chloe@example.com",
        "--admin",
        "--password-stdin",
    ])
    .env("POSTHASTE_DATA_DIR", dir.path())
    .env("DATABASE_URL", &url);
    let out = run_with_input(cmd, "chloe-password\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin @chloe"));

    let pool = db::connect(&DatabaseUrl::parse(&url).unwrap(), 1).unwrap();
    let u = users::find_by_login(&mut pool.get().unwrap(), "chloe")
        .unwrap()
        .unwrap();
    assert!(password::verify("chloe-password", &u.password_hash));

    // A duplicate or invalid name fails with a message and changes nothing.
    let db_url = [("DATABASE_URL", url.as_str())];
    let (code, _) = refused(
        dir.path(),
        &[
            "user",
            "add",
            "--username",
            "chloe",
            "--email",
            "c2@example.com",
            "--password-stdin",
        ],
        &db_url,
    );
    assert_ne!(code, Some(0));
    let (code, err) = refused(
        dir.path(),
        &[
            "user",
            "add",
            "--username",
            "x!",
            "--email",
            "c3@example.com",
            "--password-stdin",
        ],
        &db_url,
    );
    assert_ne!(code, Some(0));
    assert!(err.contains("Username"), "{err}");
    assert_eq!(users::count(&mut pool.get().unwrap()).unwrap(), 1);
}

/// Whether GET /healthz on `port` answers 200.
fn healthz_ok(port: u16) -> bool {
    use std::io::Read;
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200")
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = bin()
        .env("POSTHASTE_DATA_DIR", dir.path())
        .env("POSTHASTE_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it serves requests (the port is bound a moment before the signal handlers
    // are installed, so an open port is not enough).
    let start = Instant::now();
    while !healthz_ok(port) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(25),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(status.success(), "exit {status:?}: {log}");
    assert!(log.contains("stopped"), "{log}");
}
