//! Browser test: the real `posthaste` binary driven by headless Chromium through chromedriver.
//!
//! One scenario, in order: first-run setup through the browser, posting from the composer with
//! Ctrl+Enter (htmx, no page reload), the post surviving a reload, the 390 px layout having no
//! horizontal scroll, and a composer draft surviving a reload (localStorage, app.js).
//!
//! Skips with a "skipping browser test: …" line when Chromium or chromedriver is missing, unless
//! `POSTHASTE_TEST_REQUIRE_BROWSER=1` (CI), which makes that a failure. With
//! `POSTHASTE_SCREENSHOT_DIR` set, saves `front-1280.png` and `front-390.png` there.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context};
use serde_json::{json, Value};
use thirtyfour::error::WebDriverErrorInner;
use thirtyfour::prelude::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The post typed in the browser. Chromedriver types characters outside the BMP (emoji) fine.
const POST_TEXT: &str = "Hello from Chromium 🚀 with **bold**";
/// What identifies the post on the page (its rendered text contains this).
const POST_NEEDLE: &str = "Hello from Chromium 🚀 with bold";
const DRAFT_TEXT: &str = "A draft that must survive a reload";

/// A child process killed (and reaped) when dropped.
struct ChildGuard {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl ChildGuard {
    /// Fails if the process has already exited (with the end of its log).
    fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited early ({status}); its log:\n{}",
                self.name,
                log_tail(&self.log)
            );
        }
        Ok(())
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last lines of a log file, for failure messages.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().unwrap().port()
}

/// Polls `url` until it answers 200 (and `accept` likes the body), the process dies or
/// `timeout` passes.
async fn wait_for_http(
    guard: &mut ChildGuard,
    url: &str,
    timeout: Duration,
    accept: impl Fn(&str) -> bool,
) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let start = Instant::now();
    loop {
        guard.check_alive()?;
        if let Ok(r) = client.get(url).send().await {
            if r.status() == 200 && accept(&r.text().await.unwrap_or_default()) {
                return Ok(());
            }
        }
        if start.elapsed() > timeout {
            bail!(
                "{} did not answer on {url} within {timeout:?}; its log:\n{}",
                guard.name,
                log_tail(&guard.log)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts the app binary on a free port with a fresh SQLite database in `dir`.
async fn start_app(dir: &Path) -> anyhow::Result<(ChildGuard, String)> {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let log = dir.join("app.log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_posthaste"));
    // Nothing from the developer's environment or a posthaste.toml in the working directory.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("POSTHASTE_") || key == "PORT" || key == "RUST_LOG" {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd.current_dir(dir)
        .env("POSTHASTE_ADDR", &addr)
        .env("POSTHASTE_DATA_DIR", dir)
        .env("POSTHASTE_GRAVATAR", "false")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("b.db").display()),
        )
        .env("POSTHASTE_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log)?)
        .stderr(std::fs::File::options().append(true).open(&log)?);
    let child = cmd.spawn().context("starting the posthaste binary")?;
    let mut guard = ChildGuard {
        name: "posthaste",
        child,
        log,
    };
    let base = format!("http://{addr}");
    wait_for_http(
        &mut guard,
        &format!("{base}/healthz"),
        Duration::from_secs(30),
        |_| true,
    )
    .await?;
    Ok((guard, base))
}

/// Starts chromedriver on a free port; returns its URL once `/status` says it is ready.
async fn start_chromedriver(dir: &Path) -> anyhow::Result<(ChildGuard, String)> {
    let port = free_port();
    let log = dir.join("chromedriver.log");
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .arg(format!("--log-path={}", log.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting chromedriver")?;
    let mut guard = ChildGuard {
        name: "chromedriver",
        child,
        log,
    };
    let url = format!("http://127.0.0.1:{port}");
    wait_for_http(
        &mut guard,
        &format!("{url}/status"),
        Duration::from_secs(30),
        |body| {
            serde_json::from_str::<Value>(body)
                .is_ok_and(|v| v["value"]["ready"].as_bool() == Some(true))
        },
    )
    .await?;
    Ok((guard, url))
}

/// Runs `script` (a function body; `arguments` are `args`) until it returns something truthy,
/// and returns that. Fails after `timeout` with the last value.
async fn wait_js(
    driver: &WebDriver,
    what: &str,
    script: &str,
    args: Vec<Value>,
    timeout: Duration,
) -> anyhow::Result<Value> {
    let start = Instant::now();
    loop {
        let last = match driver.execute(script, args.clone()).await {
            Ok(ret) => {
                let v = ret.json().clone();
                let truthy = match &v {
                    Value::Null => false,
                    Value::Bool(b) => *b,
                    Value::String(s) => !s.is_empty(),
                    Value::Number(n) => n.as_f64() != Some(0.0),
                    _ => true,
                };
                if truthy {
                    return Ok(v);
                }
                format!("{v}")
            }
            // Between two documents (navigation in progress) scripts can fail: try again.
            Err(e) => format!("error: {e}"),
        };
        if start.elapsed() > timeout {
            bail!("timed out after {timeout:?} waiting for {what} (last result: {last})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `script` once and returns its value.
async fn js(driver: &WebDriver, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(driver.execute(script, args).await?.json().clone())
}

/// The path of the current page, e.g. `/setup`.
async fn current_path(driver: &WebDriver) -> anyhow::Result<String> {
    Ok(driver.current_url().await?.path().to_string())
}

/// Waits until a new document has replaced the one carrying `window.__noReload` and has
/// finished loading.
async fn wait_reloaded(driver: &WebDriver, what: &str) -> anyhow::Result<()> {
    wait_js(
        driver,
        what,
        "return window.__noReload === undefined && document.readyState === 'complete';",
        vec![],
        Duration::from_secs(15),
    )
    .await
    .map(|_| ())
}

/// Reloads the page with unsaved composer text. app.js then asks before leaving
/// (`beforeunload`); chromedriver either accepts that prompt itself or reports it as an open
/// alert, which is accepted here. Returns whether a prompt had to be accepted.
async fn reload_past_beforeunload(driver: &WebDriver) -> anyhow::Result<bool> {
    let mut accepted = false;
    if let Err(e) = driver.refresh().await {
        match &*e {
            WebDriverErrorInner::UnexpectedAlertOpen(_) => {}
            _ => return Err(anyhow!(e).context("reloading with a draft")),
        }
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        match driver.accept_alert().await {
            Ok(()) => accepted = true,
            Err(e) if matches!(&*e, WebDriverErrorInner::NoSuchAlert(_)) => {
                let gone = js(driver, "return window.__noReload === undefined;", vec![])
                    .await
                    .is_ok_and(|v| v == json!(true));
                if gone {
                    break;
                }
            }
            Err(e) => return Err(anyhow!(e).context("accepting the beforeunload prompt")),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_reloaded(driver, "the reload with a draft").await?;
    Ok(accepted)
}

/// Dispatches a synthetic `beforeunload` and reports whether a listener cancelled it, i.e.
/// whether leaving the page now would ask first.
const BEFOREUNLOAD_CANCELLED: &str = "const e = new Event('beforeunload', { cancelable: true });\
     window.dispatchEvent(e);\
     return e.defaultPrevented;";

/// Resizes the window so that the page's viewport is `width` x `height` CSS pixels (headless
/// Chrome's window is larger than its viewport: it simulates browser UI, and how much depends
/// on the window size, so measure and correct a few times).
async fn set_viewport(driver: &WebDriver, width: u32, height: u32) -> anyhow::Result<()> {
    let mut last = Value::Null;
    for _ in 0..5 {
        let d = js(
            driver,
            "return [outerWidth, outerHeight, innerWidth, innerHeight];",
            vec![],
        )
        .await?;
        let n = |i: usize| d[i].as_i64().unwrap_or(0);
        if n(2) == width as i64 && n(3) == height as i64 {
            return Ok(());
        }
        let w = (width as i64 + n(0) - n(2)).max(1) as u32;
        let h = (height as i64 + n(1) - n(3)).max(1) as u32;
        driver.set_window_rect(0, 0, w, h).await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        last = d;
    }
    bail!("could not get a {width}x{height} viewport (last [outer w, h, inner w, h]: {last})")
}

/// Saves a screenshot as `name` in `dir`, if a directory was given.
async fn screenshot(driver: &WebDriver, dir: Option<&Path>, name: &str) -> anyhow::Result<()> {
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(name);
        driver.screenshot(&path).await?;
        println!("browser test: saved {}", path.display());
    }
    Ok(())
}

async fn scenario(driver: WebDriver, base: &str, shots: Option<&Path>) -> anyhow::Result<()> {
    let t = Instant::now();
    let front = format!("{base}/");

    // ---- First run: / sends a fresh site to /setup; create the admin in the form.
    driver.goto(&front).await?;
    ensure!(
        current_path(&driver).await? == "/setup",
        "a fresh site should redirect / to /setup, got {}",
        driver.current_url().await?
    );
    for (id, value) in [
        ("setup-username", "admin"),
        ("setup-display-name", "Ada Admin"),
        ("setup-email", "admin@example.com"),
        ("setup-password", "admin-password-1"),
        ("setup-password-confirm", "admin-password-1"),
    ] {
        driver.find(By::Id(id)).await?.send_keys(value).await?;
    }
    driver
        .find(By::Css("form.auth-form button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_js(
        &driver,
        "the front page with the composer after setup",
        "return location.pathname === '/' && document.readyState === 'complete' \
         && !!document.querySelector('form#composer textarea#composer-body');",
        vec![],
        Duration::from_secs(15),
    )
    .await?;
    let user = driver
        .find(By::Css(".user-menu .user-name"))
        .await?
        .text()
        .await?;
    ensure!(
        user == "Ada Admin",
        "signed-in name in the header: {user:?}"
    );
    println!("browser test: setup done after {:?}", t.elapsed());

    // ---- Post with Ctrl+Enter: htmx inserts the article, the page does not reload.
    js(&driver, "window.__noReload = 42;", vec![]).await?;
    let textarea = driver.find(By::Id("composer-body")).await?;
    textarea.send_keys(POST_TEXT).await?;
    let typed = textarea.prop("value").await?.unwrap_or_default();
    ensure!(typed == POST_TEXT, "typed text in the composer: {typed:?}");
    textarea.send_keys(Key::Control + Key::Enter).await?;
    let find_post = "for (const a of document.querySelectorAll('section#posts article.post')) {\
           const b = a.querySelector('.post-body');\
           if (b && b.textContent.includes(arguments[0])) { return a.id; }\
         }\
         return null;";
    let id = wait_js(
        &driver,
        "the new post in section#posts",
        find_post,
        vec![json!(POST_NEEDLE)],
        Duration::from_secs(10),
    )
    .await?;
    let id = id.as_str().unwrap_or_default().to_string();
    ensure!(
        id.starts_with("p-") && id[2..].parse::<u32>().is_ok(),
        "article id should be p-{{id}}, got {id:?}"
    );
    let marker = js(&driver, "return window.__noReload;", vec![]).await?;
    ensure!(
        marker == json!(42),
        "the page reloaded while posting (marker is {marker})"
    );
    // app.js empties the box once htmx reports success (right after the swap).
    wait_js(
        &driver,
        "the composer to be emptied",
        "return document.getElementById('composer-body').value === '';",
        vec![],
        Duration::from_secs(5),
    )
    .await?;
    let first = js(
        &driver,
        "const a = document.querySelector('section#posts article.post'); return a && a.id;",
        vec![],
    )
    .await?;
    ensure!(
        first == json!(id),
        "the new post should be first in #posts, first is {first}"
    );
    let body_html = driver
        .find(By::Css(format!("#{id} .post-body")))
        .await?
        .inner_html()
        .await?;
    ensure!(
        body_html.contains("<strong>bold</strong>"),
        "Markdown should render **bold**: {body_html}"
    );
    ensure!(
        body_html.contains('🚀'),
        "the emoji should be in the post: {body_html}"
    );
    let author = driver
        .find(By::Css(format!("#{id} .author-name")))
        .await?
        .text()
        .await?;
    ensure!(author == "Ada Admin", "post author: {author:?}");
    let empty_shown = js(
        &driver,
        "const e = document.querySelector('.empty-state');\
         return !!e && getComputedStyle(e).display !== 'none';",
        vec![],
    )
    .await?;
    ensure!(
        empty_shown == json!(false),
        "the 'No posts yet' box is still shown next to the new post"
    );
    let asks = js(&driver, BEFOREUNLOAD_CANCELLED, vec![]).await?;
    ensure!(
        asks == json!(false),
        "after posting, leaving the page should not ask (beforeunload cancelled)"
    );
    let error = driver.find(By::Id("composer-error")).await?.text().await?;
    ensure!(error.is_empty(), "composer error after posting: {error:?}");
    let url = driver.current_url().await?;
    ensure!(
        url.as_str() == front,
        "URL after posting should still be {front}, is {url}"
    );
    println!("browser test: posted {id} after {:?}", t.elapsed());

    // ---- Reload: the post was stored.
    driver.refresh().await?;
    wait_reloaded(&driver, "the reload after posting").await?;
    let again = js(&driver, find_post, vec![json!(POST_NEEDLE)]).await?;
    ensure!(
        again == json!(id),
        "after a reload the post should still be there as {id}, found {again}"
    );

    // ---- Screenshots, and no horizontal scroll on a phone-sized window.
    set_viewport(&driver, 1280, 900).await?;
    screenshot(&driver, shots, "front-1280.png").await?;
    set_viewport(&driver, 390, 844).await?;
    let overflow = js(
        &driver,
        "return [document.documentElement.scrollWidth, window.innerWidth];",
        vec![],
    )
    .await?;
    ensure!(
        overflow[0].as_i64() <= overflow[1].as_i64(),
        "horizontal scroll at 390 px: scrollWidth {} > innerWidth {}",
        overflow[0],
        overflow[1]
    );
    screenshot(&driver, shots, "front-390.png").await?;
    println!("browser test: no horizontal scroll at 390x844");
    set_viewport(&driver, 1280, 900).await?;

    // ---- A draft survives a reload (app.js keeps it in localStorage).
    let textarea = driver.find(By::Id("composer-body")).await?;
    textarea.send_keys(DRAFT_TEXT).await?;
    let stored = js(
        &driver,
        "return localStorage.getItem('posthaste:draft:/:composer');",
        vec![],
    )
    .await?;
    ensure!(
        stored == json!(DRAFT_TEXT),
        "draft in localStorage: {stored}"
    );
    // app.js asks before leaving with unsaved text: its beforeunload listener cancels the event.
    let asks = js(&driver, BEFOREUNLOAD_CANCELLED, vec![]).await?;
    ensure!(
        asks == json!(true),
        "with a draft, app.js should cancel beforeunload (ask before leaving)"
    );
    js(&driver, "window.__noReload = 42;", vec![]).await?;
    let prompted = reload_past_beforeunload(&driver).await?;
    let restored = wait_js(
        &driver,
        "the draft to be restored in the composer",
        "return document.getElementById('composer-body').value;",
        vec![],
        Duration::from_secs(5),
    )
    .await?;
    ensure!(
        restored == json!(DRAFT_TEXT),
        "draft after reload: {restored}"
    );
    println!(
        "browser test: draft restored after a reload (beforeunload prompt {}) after {:?}",
        if prompted {
            "accepted"
        } else {
            "not shown to WebDriver"
        },
        t.elapsed()
    );
    Ok(())
}

/// Whether the browser tools are installed; panics if they are missing and required.
fn browser_available() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!(
        "{} not installed (apt-get install chromium chromium-driver)",
        missing.join(" and ")
    );
    if std::env::var("POSTHASTE_TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        panic!("POSTHASTE_TEST_REQUIRE_BROWSER=1 but {why}");
    }
    println!("skipping browser test: {why}");
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_post_and_draft_in_chromium() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    // Declared first so they are removed after the processes using them have been killed.
    let app_dir = tempfile::tempdir().unwrap();
    let profile_dir = tempfile::tempdir().unwrap();
    let driver_dir = tempfile::tempdir().unwrap();
    let shots = std::env::var_os("POSTHASTE_SCREENSHOT_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from);

    let (app, (chromedriver, driver_url)) = tokio::try_join!(
        start_app(app_dir.path()),
        start_chromedriver(driver_dir.path())
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    let (app, base) = app;

    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(CHROMIUM).unwrap();
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,900",
    ] {
        caps.add_arg(arg).unwrap();
    }
    caps.add_arg(&format!("--user-data-dir={}", profile_dir.path().display()))
        .unwrap();
    let driver = WebDriver::new(driver_url.as_str(), caps)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "starting Chromium through chromedriver: {e}\nchromedriver log:\n{}",
                log_tail(&chromedriver.log)
            )
        });
    println!("browser test: Chromium up after {:?}", started.elapsed());

    let result = driver
        .run_and_quit(|driver| async move { scenario(driver, &base, shots.as_deref()).await })
        .await;
    if let Err(e) = result {
        panic!(
            "{e:#}\n--- posthaste log:\n{}\n--- chromedriver log (end):\n{}",
            log_tail(&app.log),
            log_tail(&chromedriver.log)
        );
    }
    println!("browser test: passed in {:?}", started.elapsed());
}
