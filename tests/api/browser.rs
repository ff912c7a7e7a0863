//! Browser tests: the real `posthaste` binary driven by headless Chromium through chromedriver.
//!
//! Four scenarios, each with its own app, database, chromedriver and browser profile:
//!
//! - `setup_post_and_draft_in_chromium`: first-run setup through the browser, posting from the
//!   composer with Ctrl+Enter (htmx, no page reload), the post surviving a reload, the 390 px
//!   layout having no horizontal scroll, and a composer draft surviving a reload (localStorage,
//!   app.js).
//! - `threaded_replies_edit_and_delete_in_chromium`: an admin made with `posthaste user add`
//!   signs in on /login, posts, replies inline to the post, replies to that reply (Ctrl+Enter;
//!   nested in its parent), edits the nested reply inline (Markdown, "edited" marker), and all of
//!   it survives a reload; then deleting the first reply (confirm dialog) leaves a stub that
//!   keeps the nested reply. No step before the reload reloads the page (`window.__noReload`).
//! - `mention_autocomplete_in_chromium`: with `admin` and `maria` ("Maria Rossi") made by the
//!   CLI, the admin types `Thanks @ma` in the composer; the suggestion list (app.js, fed by
//!   /api/members; ARIA listbox wiring checked) offers Maria Rossi, sits inside the window at
//!   1280 and 390 px (as wide as the box on a phone) and keeps the focus in the textarea; Enter
//!   inserts `@maria ` with the caret after it (and the draft sees the change) without posting;
//!   Ctrl+Enter posts, and the post links `@maria` to /u/maria, all without a reload. After
//!   signing out, Maria signs in and finds the post on /mentions.
//! - `tags_sidebar_and_plugin_switch_in_chromium`: with `POSTHASTE_PLUGINS=tags` and a 200 ms
//!   tick, the CLI-made admin posts `… #Release …` (Ctrl+Enter, no reload) and the post links
//!   `#Release` to /t/release; reloading until a tick has refreshed the plugin's cache, the
//!   sidebar lists `#release`, right of the posts at 1280 px and below them at 390 px (no
//!   horizontal scroll). The link leads to /t/release (heading `#release`) listing the post.
//!   Switching the plugin off on /admin (a form POST) drops the sidebar and /t/release (404)
//!   but keeps the stored link, and a new `#nolink` post stays text; switched on again,
//!   /t/release lists the post again (the `#nolink` post, written while off, is not indexed).
//!
//! Skips with a "skipping browser test: …" line when Chromium or chromedriver is missing, unless
//! `POSTHASTE_TEST_REQUIRE_BROWSER=1` (CI), which makes that a failure. With
//! `POSTHASTE_SCREENSHOT_DIR` set, saves `front-1280.png`, `front-390.png`, `thread-1280.png`,
//! `thread-390.png`, `autocomplete-1280.png`, `autocomplete-390.png` (list open),
//! `tags-front-1280.png`, `tags-front-390.png` (sidebar in view), `tag-page-1280.png`,
//! `tag-page-390.png`, `admin-plugins-1280.png` and `admin-plugins-390.png` there.

use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context};
use serde_json::{json, Value};
use thirtyfour::error::WebDriverErrorInner;
use thirtyfour::prelude::*;
use thirtyfour::WebDriverRunError;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The post typed in the browser. Chromedriver types characters outside the BMP (emoji) fine.
const POST_TEXT: &str = "Hello from Chromium 🚀 with **bold**";
/// What identifies the post on the page (its rendered text contains this).
const POST_NEEDLE: &str = "Hello from Chromium 🚀 with bold";
const DRAFT_TEXT: &str = "A draft that must survive a reload";

/// The admin of the thread scenario (created with the CLI, signed in on /login).
const ADMIN_PASSWORD: &str = "admin-password-1";
const THREAD_POST_TEXT: &str = "A thread to reply to";
const REPLY_TEXT: &str = "First-level reply from Chromium";
const NESTED_TEXT: &str = "Nested reply sent with Ctrl+Enter";
/// The nested reply's new text; `**Chromium**` must render as `<strong>`.
const EDITED_TEXT: &str = "Edited in **Chromium**";

/// The member the mention scenario mentions (created with the CLI, signs in to read it).
const MARIA_PASSWORD: &str = "maria-password-1";
/// Typed in the composer: the list must offer Maria Rossi for `@ma`.
const MENTION_TYPED: &str = "Thanks @ma";
/// The composer after picking Maria: `@ma` completed to `@maria ` with the caret at the end.
const MENTION_PICKED: &str = "Thanks @maria ";
/// Typed after the pick; identifies the post on the page and in /mentions.
const MENTION_REST: &str = "for the review";

/// Fails if the page scrolls sideways (its content is wider than the window).
async fn ensure_no_horizontal_scroll(driver: &WebDriver, what: &str) -> anyhow::Result<()> {
    let widths = js(
        driver,
        "return [document.documentElement.scrollWidth, window.innerWidth];",
        vec![],
    )
    .await?;
    ensure!(
        widths[0].as_i64() <= widths[1].as_i64(),
        "horizontal scroll {what}: scrollWidth {} > innerWidth {}",
        widths[0],
        widths[1]
    );
    Ok(())
}

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

/// The `posthaste` binary with the environment of a test site in `dir` (fresh SQLite database
/// there), for the server and for CLI commands alike.
fn app_command(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_posthaste"));
    // Nothing from the developer's environment or a posthaste.toml in the working directory.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("POSTHASTE_")
            || key == "DATABASE_URL"
            || key == "PORT"
            || key == "RUST_LOG"
        {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd.current_dir(dir)
        .env("POSTHASTE_DATA_DIR", dir)
        .env("POSTHASTE_GRAVATAR", "false")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("b.db").display()),
        )
        .env("POSTHASTE_LOG", "warn");
    cmd
}

/// Creates the admin `admin` ("Ada Admin") with `posthaste user add`, as an operator would.
fn add_admin_with_cli(dir: &Path) -> anyhow::Result<()> {
    add_user_with_cli(
        dir,
        &["admin", "admin@example.com", "Ada Admin"],
        true,
        ADMIN_PASSWORD,
    )
}

/// Creates a member with `posthaste user add` (`who` is username, email, display name).
fn add_user_with_cli(
    dir: &Path,
    who: &[&str; 3],
    admin: bool,
    password: &str,
) -> anyhow::Result<()> {
    let [username, email, display_name] = who;
    let mut cmd = app_command(dir);
    cmd.args([
        "user",
        "add",
        "--username",
        username,
        "--email",
        email,
        "--display-name",
        display_name,
        "--password-stdin",
    ]);
    if admin {
        cmd.arg("--admin");
    }
    let out = crate::helpers::run_with_input(cmd, &format!("{password}\n"));
    ensure!(
        out.status.success(),
        "`posthaste user add --username {username}` failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Starts the app binary on a free port with the database in `dir`, with `env` (name, value)
/// added to its environment.
async fn start_app(dir: &Path, env: &[(&str, &str)]) -> anyhow::Result<(ChildGuard, String)> {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let log = dir.join("app.log");
    let mut cmd = app_command(dir);
    cmd.envs(env.iter().copied())
        .env("POSTHASTE_ADDR", &addr)
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
                if truthy(&v) {
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

/// Whether a script's result counts as "yes" (as JavaScript would see it; arrays and objects
/// always do).
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Number(n) => n.as_f64() != Some(0.0),
        _ => true,
    }
}

/// Reloads the page until `script` returns something truthy on the fresh document, and returns
/// that: for what the server changes on its own (e.g. plugin caches refreshed on each tick).
/// Fails after `timeout` with the last value.
async fn reload_until(
    driver: &WebDriver,
    what: &str,
    script: &str,
    args: Vec<Value>,
    timeout: Duration,
) -> anyhow::Result<Value> {
    let start = Instant::now();
    loop {
        driver.refresh().await?;
        wait_reloaded(driver, what).await?;
        let v = js(driver, script, args.clone()).await?;
        if truthy(&v) {
            return Ok(v);
        }
        if start.elapsed() > timeout {
            bail!("timed out after {timeout:?} reloading until {what} (last result: {v})");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
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

/// First-run setup, posting, a reload, the phone layout and a draft (see the module docs).
/// Finds the article in `section#posts` whose body contains `arguments[0]`; returns its id.
/// Posts what the composer holds with Ctrl+Enter (htmx) and waits for the new post whose body
/// contains `needle`; returns its element id (`p-{id}`).
async fn submit_composer(
    driver: &WebDriver,
    composer: &WebElement,
    needle: &str,
) -> anyhow::Result<String> {
    composer.send_keys(Key::Control + Key::Enter).await?;
    let id = wait_js(
        driver,
        "the new post in section#posts",
        FIND_POST,
        vec![json!(needle)],
        Duration::from_secs(10),
    )
    .await?;
    id.as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("the new post has no id: {id}"))
}

const FIND_POST: &str =
    "for (const a of document.querySelectorAll('section#posts article.post')) {\
       const b = a.querySelector('.post-body');\
       if (b && b.textContent.includes(arguments[0])) { return a.id; }\
     }\
     return null;";

async fn setup_scenario(driver: WebDriver, base: &str, shots: Option<&Path>) -> anyhow::Result<()> {
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
    mark_no_reload(&driver).await?;
    let textarea = driver.find(By::Id("composer-body")).await?;
    textarea.send_keys(POST_TEXT).await?;
    let typed = textarea.prop("value").await?.unwrap_or_default();
    ensure!(typed == POST_TEXT, "typed text in the composer: {typed:?}");
    textarea.send_keys(Key::Control + Key::Enter).await?;
    let find_post = FIND_POST;
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
    ensure_no_horizontal_scroll(&driver, "at 390 px").await?;
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
    mark_no_reload(&driver).await?;
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

/// Marks the current page (`window.__noReload = 42`) so [`ensure_no_reload`] can tell that
/// later steps did not reload it.
async fn mark_no_reload(driver: &WebDriver) -> anyhow::Result<()> {
    js(driver, "window.__noReload = 42;", vec![]).await?;
    Ok(())
}

/// Fails the step `step` unless the page still carries `window.__noReload = 42`, i.e. nothing
/// reloaded it since [`mark_no_reload`].
async fn ensure_no_reload(driver: &WebDriver, step: &str) -> anyhow::Result<()> {
    let marker = js(driver, "return window.__noReload;", vec![]).await?;
    ensure!(
        marker == json!(42),
        "{step}: the page reloaded (window.__noReload is {marker}, expected 42)"
    );
    Ok(())
}

/// Clicks the element at `css`, naming `what` when it is missing or not clickable.
async fn click(driver: &WebDriver, css: &str, what: &str) -> anyhow::Result<()> {
    driver
        .find(By::Css(css))
        .await
        .with_context(|| format!("finding {what} ({css})"))?
        .click()
        .await
        .with_context(|| format!("clicking {what} ({css})"))?;
    Ok(())
}

/// Types `text` into the textarea at `css` and checks it arrived whole.
async fn type_into(driver: &WebDriver, css: &str, text: &str) -> anyhow::Result<WebElement> {
    let textarea = driver
        .find(By::Css(css))
        .await
        .with_context(|| format!("finding the textarea {css}"))?;
    textarea.send_keys(text).await?;
    let typed = textarea.prop("value").await?.unwrap_or_default();
    ensure!(
        typed == text,
        "typed text in {css}: {typed:?}, expected {text:?}"
    );
    Ok(textarea)
}

/// Waits for the `.reply` that is a direct child of `container` (a CSS selector) and whose own
/// content block contains `arguments[1]`; returns its numeric id (`r-{id}`).
async fn wait_reply_in(driver: &WebDriver, container: &str, text: &str) -> anyhow::Result<u32> {
    let id = wait_js(
        driver,
        &format!("a .reply with {text:?} in {container}"),
        "const c = document.querySelector(arguments[0]);\
         if (!c) { return null; }\
         for (const r of c.querySelectorAll(':scope > .reply')) {\
           const b = r.querySelector(':scope > .reply-main .post-body');\
           if (b && b.textContent.includes(arguments[1])) { return r.id; }\
         }\
         return null;",
        vec![json!(container), json!(text)],
        Duration::from_secs(10),
    )
    .await?;
    let id = id.as_str().unwrap_or_default();
    id.strip_prefix("r-")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| anyhow!("reply element id should be r-{{id}}, got {id:?}"))
}

/// Waits until no reply form is left in `slot` (app.js removes an inline form once sent).
async fn wait_form_gone(driver: &WebDriver, slot: &str) -> anyhow::Result<()> {
    wait_js(
        driver,
        &format!("the inline reply form in {slot} to go away after sending"),
        "const s = document.querySelector(arguments[0]);\
         return !!s && !s.querySelector('form');",
        vec![json!(slot)],
        Duration::from_secs(5),
    )
    .await
    .map(|_| ())
}

/// Accepts the `confirm()` dialog that a click has just opened (htmx's `hx-confirm`), once
/// chromedriver reports it; returns its text.
async fn accept_confirm(driver: &WebDriver, what: &str) -> anyhow::Result<String> {
    let start = Instant::now();
    loop {
        match driver.get_alert_text().await {
            Ok(text) => {
                driver.accept_alert().await?;
                return Ok(text);
            }
            Err(e) if matches!(&*e, WebDriverErrorInner::NoSuchAlert(_)) => {}
            Err(e) => return Err(anyhow!(e).context(format!("reading the {what} dialog"))),
        }
        if start.elapsed() > Duration::from_secs(5) {
            bail!("no confirm dialog appeared for {what} within 5 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Threaded inline replies, inline editing and deleting (see the module docs).
async fn thread_scenario(
    driver: WebDriver,
    base: &str,
    shots: Option<&Path>,
) -> anyhow::Result<()> {
    let t = Instant::now();

    // ---- Sign in on the real /login page (the admin was made with the CLI).
    sign_in(&driver, base, "admin", ADMIN_PASSWORD).await?;

    // ---- A post to reply to (composer, htmx).
    mark_no_reload(&driver).await?;
    let composer = type_into(&driver, "#composer-body", THREAD_POST_TEXT).await?;
    let post = submit_composer(&driver, &composer, THREAD_POST_TEXT).await?;
    let post: u32 = post
        .strip_prefix("p-")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| anyhow!("article id should be p-{{id}}, got {post}"))?;
    ensure_no_reload(&driver, "posting the thread's post").await?;
    println!(
        "browser thread test: signed in and posted p-{post} after {:?}",
        t.elapsed()
    );

    // ---- 1. Reply to the post inline: the form opens in its slot, the reply lands in the list.
    click(
        &driver,
        &format!("#p-{post} > .post-actions .action-reply"),
        "the post's Reply link",
    )
    .await?;
    let slot = format!("#reply-slot-p-{post}");
    let field = format!("{slot} > form.reply-form textarea");
    wait_js(
        &driver,
        &format!("the inline reply form in {slot}"),
        "return !!document.querySelector(arguments[0]);",
        vec![json!(field)],
        Duration::from_secs(10),
    )
    .await?;
    type_into(&driver, &field, REPLY_TEXT).await?;
    click(
        &driver,
        &format!("{slot} > form.reply-form button[type=submit]"),
        "the reply form's Reply button",
    )
    .await?;
    let reply = wait_reply_in(&driver, &format!("#children-p-{post}"), REPLY_TEXT)
        .await
        .context("step 1, replying to the post")?;
    wait_form_gone(&driver, &slot).await?;
    ensure_no_reload(&driver, "step 1, replying to the post").await?;
    println!(
        "browser thread test: 1. replied to p-{post} as r-{reply} after {:?}",
        t.elapsed()
    );

    // ---- 2. Reply to that reply with Ctrl+Enter: nested inside it.
    click(
        &driver,
        &format!("#r-{reply} > .reply-main > .item-actions .action-reply"),
        "the first reply's own Reply link",
    )
    .await?;
    let slot = format!("#reply-slot-r-{reply}");
    let field = format!("{slot} > form.reply-form textarea");
    let label = wait_js(
        &driver,
        &format!("the inline reply form in {slot}"),
        "const f = document.querySelector(arguments[0]);\
         return f && f.closest('form').querySelector('label').textContent;",
        vec![json!(field)],
        Duration::from_secs(10),
    )
    .await?;
    ensure!(
        label == json!("Reply to Ada Admin"),
        "the nested reply form's label: {label}"
    );
    let textarea = type_into(&driver, &field, NESTED_TEXT).await?;
    textarea.send_keys(Key::Control + Key::Enter).await?;
    let nested = wait_reply_in(&driver, &format!("#children-r-{reply}"), NESTED_TEXT)
        .await
        .context("step 2, replying to the reply with Ctrl+Enter")?;
    let inside = js(
        &driver,
        "return document.querySelector(arguments[0]) !== null;",
        vec![json!(format!("#r-{reply} #r-{nested}"))],
    )
    .await?;
    ensure!(
        inside == json!(true),
        "step 2: #r-{nested} should be nested inside #r-{reply}"
    );
    wait_form_gone(&driver, &slot).await?;
    ensure_no_reload(&driver, "step 2, replying to the reply").await?;
    println!(
        "browser thread test: 2. nested r-{nested} in r-{reply} after {:?}",
        t.elapsed()
    );

    // ---- 3. Edit the nested reply inline, with Markdown.
    let content = format!("#content-r-{nested}");
    click(
        &driver,
        &format!("#r-{nested} > .reply-main > .item-actions .action-edit"),
        "the nested reply's Edit link",
    )
    .await?;
    let field = format!("{content} textarea");
    let original = wait_js(
        &driver,
        &format!("the inline edit form (a textarea in {content})"),
        "const t = document.querySelector(arguments[0]); return t && t.value;",
        vec![json!(field)],
        Duration::from_secs(10),
    )
    .await?;
    ensure!(
        original == json!(NESTED_TEXT),
        "step 3: the edit form should hold the reply's text, holds {original}"
    );
    driver.find(By::Css(&field)).await?.clear().await?;
    type_into(&driver, &field, EDITED_TEXT).await?;
    click(
        &driver,
        &format!("{content} button[type=submit]"),
        "the edit form's Save button",
    )
    .await?;
    let edited = "const c = document.querySelector(arguments[0]);\
         const s = c && c.querySelector('.post-body strong');\
         return !!s && s.textContent === 'Chromium' && !!c.querySelector('.edited') \
           && !c.querySelector('textarea');";
    wait_js(
        &driver,
        &format!("{content} to show the edit (<strong>Chromium</strong>, an .edited marker)"),
        edited,
        vec![json!(content)],
        Duration::from_secs(10),
    )
    .await
    .context("step 3, editing the nested reply")?;
    ensure_no_reload(&driver, "step 3, editing the nested reply").await?;
    println!(
        "browser thread test: 3. edited r-{nested} after {:?}",
        t.elapsed()
    );

    // ---- Screenshots of the thread, and no horizontal scroll at 390 px with nested replies.
    // The "new" highlight fades anyway; drop it so the pictures show the settled state.
    js(
        &driver,
        "document.querySelectorAll('.is-new').forEach(e => e.classList.remove('is-new'));\
         document.activeElement && document.activeElement.blur();",
        vec![],
    )
    .await?;
    let show_thread = format!("document.getElementById('p-{post}').scrollIntoView();");
    set_viewport(&driver, 1280, 900).await?;
    js(&driver, &show_thread, vec![]).await?;
    screenshot(&driver, shots, "thread-1280.png").await?;
    set_viewport(&driver, 390, 844).await?;
    js(&driver, &show_thread, vec![]).await?;
    ensure_no_horizontal_scroll(&driver, "at 390 px with a nested thread").await?;
    screenshot(&driver, shots, "thread-390.png").await?;
    set_viewport(&driver, 1280, 900).await?;
    ensure_no_reload(&driver, "resizing the window").await?;

    // ---- 4. Reload: the thread and the edit were stored.
    driver.refresh().await?;
    wait_reloaded(&driver, "step 4, the reload after editing").await?;
    let stored = js(
        &driver,
        "const c = document.querySelector(arguments[0]);\
         const s = c && c.querySelector('.post-body strong');\
         return [!!c, !!s && s.textContent === 'Chromium' && !!c.querySelector('.edited'),\
                 !!document.querySelector(arguments[1])];",
        vec![
            json!(format!(
                "#r-{reply} > .reply-children > #r-{nested} {content}"
            )),
            json!(format!("#children-p-{post} > #r-{reply}")),
        ],
    )
    .await?;
    ensure!(
        stored == json!([true, true, true]),
        "step 4: after a reload, #r-{nested} should be inside #r-{reply} (inside #children-p-{post}) \
         with the edited text; [nested in place, edited text, first reply in place] = {stored}"
    );
    println!(
        "browser thread test: 4. the thread survived a reload after {:?}",
        t.elapsed()
    );

    // ---- 5. Delete the first reply (confirm dialog): a stub that keeps the nested reply.
    mark_no_reload(&driver).await?;
    click(
        &driver,
        &format!("#r-{reply} > .reply-main > .item-actions .action-delete"),
        "the first reply's Delete link",
    )
    .await?;
    let question = accept_confirm(&driver, "deleting the reply").await?;
    ensure!(
        question == "Delete this reply?",
        "step 5: the confirm dialog says {question:?}"
    );
    wait_js(
        &driver,
        &format!("#r-{reply} to become a stub that still holds #r-{nested}"),
        "const r = document.querySelector(arguments[0]);\
         const p = r && r.querySelector(':scope > .reply-deleted');\
         return !!p && p.textContent.includes('This reply was deleted') \
           && !r.querySelector(':scope > .reply-main') && !!r.querySelector(arguments[1]);",
        vec![
            json!(format!("#children-p-{post} > #r-{reply}")),
            json!(format!(":scope > .reply-children > #r-{nested}")),
        ],
        Duration::from_secs(10),
    )
    .await
    .context("step 5, deleting the first reply")?;
    ensure_no_reload(&driver, "step 5, deleting the first reply").await?;
    println!(
        "browser thread test: 5. r-{reply} deleted to a stub after {:?}",
        t.elapsed()
    );
    Ok(())
}

/// Signs in as `login` on /login and waits for the front page with the composer.
async fn sign_in(
    driver: &WebDriver,
    base: &str,
    login: &str,
    password: &str,
) -> anyhow::Result<()> {
    driver.goto(format!("{base}/login")).await?;
    ensure!(
        current_path(driver).await? == "/login",
        "/login should be the sign-in page, got {}",
        driver.current_url().await?
    );
    driver
        .find(By::Id("login-login"))
        .await?
        .send_keys(login)
        .await?;
    driver
        .find(By::Id("login-password"))
        .await?
        .send_keys(password)
        .await?;
    click(driver, "form.auth-form button[type=submit]", "Sign in").await?;
    wait_js(
        driver,
        &format!("the front page with the composer after signing in as {login}"),
        "return location.pathname === '/' && document.readyState === 'complete' \
         && !!document.querySelector('form#composer textarea#composer-body');",
        vec![],
        Duration::from_secs(15),
    )
    .await?;
    Ok(())
}

/// The open suggestion list for the textarea `arguments[0]`, checked against the ARIA wiring:
/// `[option texts…]`, or null while it is closed (or not wired up as it should be).
const MENTION_LIST: &str = "const t = document.querySelector(arguments[0]);\
     const l = document.getElementById(t.getAttribute('aria-controls') || '-');\
     if (!l || l.hidden || l.getAttribute('role') !== 'listbox') { return null; }\
     if (t.getAttribute('aria-autocomplete') !== 'list' || t.getAttribute('aria-expanded') !== 'true') { return null; }\
     const opts = [...l.querySelectorAll('li[role=option]')];\
     const active = document.getElementById(t.getAttribute('aria-activedescendant') || '-');\
     if (!opts.length || !active || !l.contains(active) || active.getAttribute('aria-selected') !== 'true') { return null; }\
     return opts.map(o => o.textContent.replace(/\\s+/g, ' ').trim());";

/// Where the open list is: `[list left, right, top, bottom, field left, right, top, bottom,
/// innerWidth, scrollWidth, the list's option height, whether the field has the focus]`.
const MENTION_GEOMETRY: &str = "const t = document.querySelector(arguments[0]);\
     const l = document.getElementById(t.getAttribute('aria-controls'));\
     const a = l.getBoundingClientRect(), b = t.getBoundingClientRect();\
     const o = l.querySelector('li[role=option]').getBoundingClientRect();\
     return [a.left, a.right, a.top, a.bottom, b.left, b.right, b.top, b.bottom,\
             innerWidth, document.documentElement.scrollWidth, o.height,\
             document.activeElement === t];";

/// Checks that the open list sits inside the window, under the top of the field, has options
/// a finger can hit, and left the focus in the field; at phone width it spans the field.
async fn check_mention_geometry(
    driver: &WebDriver,
    field: &str,
    phone: bool,
) -> anyhow::Result<()> {
    let g = js(driver, MENTION_GEOMETRY, vec![json!(field)]).await?;
    let n = |i: usize| g[i].as_f64().unwrap_or(f64::NAN);
    let what = if phone { "at 390 px" } else { "at 1280 px" };
    ensure!(
        g[11] == json!(true),
        "{what}: the textarea lost the focus while the list is open: {g}"
    );
    ensure!(
        n(0) >= 0.0 && n(1) <= n(8) + 0.5 && n(9) <= n(8),
        "{what}: the suggestion list leaves the window or makes it scroll sideways \
         [list l, r, t, b, field l, r, t, b, innerWidth, scrollWidth, option h, focus]: {g}"
    );
    ensure!(
        n(2) > n(6) && n(10) >= 40.0,
        "{what}: the list should open below the line being typed with options >= 40px tall: {g}"
    );
    if phone {
        ensure!(
            (n(0) - n(4)).abs() <= 1.0 && (n(1) - n(5)).abs() <= 1.0,
            "{what}: the list should be as wide as the textarea: {g}"
        );
    }
    Ok(())
}

/// @-mention autocomplete in the composer, the mention link, and /mentions (see module docs).
async fn mention_scenario(
    driver: WebDriver,
    base: &str,
    shots: Option<&Path>,
) -> anyhow::Result<()> {
    let t = Instant::now();
    sign_in(&driver, base, "admin", ADMIN_PASSWORD).await?;
    mark_no_reload(&driver).await?;

    // ---- Type `@ma`: the list offers Maria Rossi (from /api/members).
    let field = "#composer-body";
    let composer = type_into(&driver, field, MENTION_TYPED).await?;
    let options = wait_js(
        &driver,
        "the suggestion list to offer Maria Rossi",
        &format!(
            "const o = (function () {{ {MENTION_LIST} }}).apply(null, arguments);\
             return o && o.some(x => x.includes('Maria Rossi')) ? o : null;"
        ),
        vec![json!(field)],
        Duration::from_secs(5),
    )
    .await?;
    ensure!(
        options == json!(["Maria Rossi @maria"]),
        "`@ma` should offer only Maria Rossi (@maria), offers {options}"
    );
    println!(
        "browser mention test: suggestions {options} after {:?}",
        t.elapsed()
    );

    // ---- The list in a desktop and a phone window (screenshots), still open and focused.
    set_viewport(&driver, 1280, 900).await?;
    check_mention_geometry(&driver, field, false).await?;
    screenshot(&driver, shots, "autocomplete-1280.png").await?;
    set_viewport(&driver, 390, 844).await?;
    wait_js(
        &driver,
        "the suggestion list to follow the textarea to 390 px",
        "const t = document.querySelector(arguments[0]);\
         const l = document.getElementById(t.getAttribute('aria-controls'));\
         const a = l.getBoundingClientRect(), b = t.getBoundingClientRect();\
         return !l.hidden && Math.abs(a.left - b.left) <= 1 && Math.abs(a.right - b.right) <= 1;",
        vec![json!(field)],
        Duration::from_secs(5),
    )
    .await?;
    check_mention_geometry(&driver, field, true).await?;
    screenshot(&driver, shots, "autocomplete-390.png").await?;
    set_viewport(&driver, 1280, 900).await?;
    check_mention_geometry(&driver, field, false).await?;

    // ---- Pick Maria with the keyboard: Enter inserts `@maria ` (and does not post).
    for _ in 0..8 {
        let active = js(
            &driver,
            "const t = document.querySelector(arguments[0]);\
             const a = document.getElementById(t.getAttribute('aria-activedescendant') || '-');\
             return a ? a.textContent : null;",
            vec![json!(field)],
        )
        .await?;
        if active.as_str().is_some_and(|a| a.contains("@maria")) {
            break;
        }
        composer.send_keys(Key::Down).await?;
    }
    composer.send_keys(Key::Enter).await?;
    let picked = wait_js(
        &driver,
        "the list to close after Enter",
        "const t = document.querySelector(arguments[0]);\
         const l = document.getElementById(t.getAttribute('aria-controls'));\
         return l.hidden && t.getAttribute('aria-expanded') === 'false' \
           && !t.hasAttribute('aria-activedescendant') \
           ? [t.value, t.selectionStart, t.selectionEnd, document.activeElement === t,\
              localStorage.getItem('posthaste:draft:/:composer')] : null;",
        vec![json!(field)],
        Duration::from_secs(5),
    )
    .await?;
    let end = MENTION_PICKED.len();
    ensure!(
        picked == json!([MENTION_PICKED, end, end, true, MENTION_PICKED]),
        "after Enter the composer should read {MENTION_PICKED:?} with the caret at {end}, \
         focused, and the draft saved (an input event); [value, start, end, focused, draft] = \
         {picked}"
    );
    ensure_no_reload(&driver, "picking a suggestion with Enter").await?;

    // ---- Finish the sentence and post with Ctrl+Enter: the mention is a link to Maria.
    composer.send_keys(MENTION_REST).await?;
    let typed = composer.prop("value").await?.unwrap_or_default();
    let full = format!("{MENTION_PICKED}{MENTION_REST}");
    ensure!(typed == full, "composer text before posting: {typed:?}");
    let post = submit_composer(&driver, &composer, MENTION_REST).await?;
    let link = js(
        &driver,
        "const a = document.querySelector(arguments[0]);\
         return a && [a.textContent, a.closest('.post-body').textContent.trim()];",
        vec![json!(format!(
            "#{post} .post-body a.mention[href=\"/u/maria\"]"
        ))],
    )
    .await?;
    ensure!(
        link == json!(["@maria", "Thanks @maria for the review"]),
        "{post} should link @maria to /u/maria (a.mention): [link text, body text] = {link}"
    );
    ensure_no_reload(&driver, "posting the mention").await?;
    println!(
        "browser mention test: posted {post} mentioning @maria after {:?}",
        t.elapsed()
    );

    // ---- Sign out; Maria signs in and finds the post under Mentions.
    click(&driver, "form.logout-form button[type=submit]", "Sign out").await?;
    wait_js(
        &driver,
        "the signed-out page after Sign out",
        "return window.__noReload === undefined && document.readyState === 'complete' \
         && !document.querySelector('form.logout-form');",
        vec![],
        Duration::from_secs(15),
    )
    .await?;
    sign_in(&driver, base, "maria", MARIA_PASSWORD).await?;
    driver.goto(format!("{base}/mentions")).await?;
    let listed = wait_js(
        &driver,
        "the post in Maria's /mentions",
        "for (const a of document.querySelectorAll('article.list-item')) {\
           if (a.textContent.includes(arguments[0])) {\
             return [a.id, !!a.querySelector('a.mention[href=\"/u/maria\"]')];\
           }\
         }\
         return null;",
        vec![json!(MENTION_REST)],
        Duration::from_secs(10),
    )
    .await?;
    let item = format!("item-{}", post.trim_start_matches("p-"));
    ensure!(
        listed == json!([item, true]),
        "/mentions should list {post} as #{item} with its @maria link: [id, link] = {listed}"
    );
    println!(
        "browser mention test: listed in Maria's /mentions after {:?}",
        t.elapsed()
    );
    Ok(())
}

/// The tags scenario's post, typed in the composer: the plugin links `#Release` to
/// /t/release (the link keeps the text as written) and lists the tag lowercased.
const TAGGED_TEXT: &str = "Shipping the new login #Release today";
/// Posted while the tags plugin is off: `#nolink` stays text.
const UNTAGGED_TEXT: &str = "Later #nolink";

/// The sidebar's chip for `#release`: `[its tag text, its count]`, or null while it is not
/// listed.
const RELEASE_CHIP: &str =
    "const c = document.querySelector('aside.sidebar .sidebar-tags a.tag-chip[href=\"/t/release\"]');\
     const n = c && c.querySelector('.tag-count');\
     return c && n ? [c.firstChild.textContent.trim(), n.textContent.trim()] : null;";

/// `[sidebar left, right, top, bottom, #posts left, right, top, bottom, innerWidth]`.
const SIDEBAR_GEOMETRY: &str =
    "const s = document.querySelector('aside.sidebar').getBoundingClientRect();\
     const p = document.querySelector('section#posts').getBoundingClientRect();\
     return [s.left, s.right, s.top, s.bottom, p.left, p.right, p.top, p.bottom, innerWidth];";

/// On a list page (/t/{tag}, /u/{name}): `[the h1, document.title, the id of the item whose
/// body contains arguments[0] (or null)]`, or null before such a page has loaded.
const LIST_PAGE: &str = "const h = document.querySelector('h1.list-title');\
     if (!h || document.readyState !== 'complete') { return null; }\
     let id = null;\
     for (const a of document.querySelectorAll('section.list-items article.list-item')) {\
       const b = a.querySelector('.post-body');\
       if (b && b.textContent.includes(arguments[0])) { id = a.id; }\
     }\
     return [h.textContent.trim(), document.title, id];";

/// On /admin, checks that the plugin `name` is listed with the other state and clicks its
/// "Switch on"/"Switch off" button (a real form POST, back to /admin); waits for the new
/// state and the notice.
async fn switch_plugin(driver: &WebDriver, base: &str, name: &str, on: bool) -> anyhow::Result<()> {
    let (was, is, label) = if on {
        ("Off", "On", "Switch on")
    } else {
        ("On", "Off", "Switch off")
    };
    driver.goto(format!("{base}/admin")).await?;
    let item = format!("section.admin-section ul.plugin-list > li#plugin-{name}");
    let listed = js(
        driver,
        "const l = document.querySelector(arguments[0]);\
         return l && [l.querySelector('.plugin-name').textContent.trim(),\
                      l.querySelector('.plugin-state').textContent.trim(),\
                      l.querySelector('form button[type=submit]').textContent.trim()];",
        vec![json!(item)],
    )
    .await?;
    ensure!(
        listed == json!([name, was, label]),
        "/admin should list {name} as {was} with a {label:?} button: [name, state, button] = \
         {listed}"
    );
    mark_no_reload(driver).await?;
    click(
        driver,
        &format!("{item} form[method=post] button[type=submit]"),
        &format!("{name}'s {label} button"),
    )
    .await?;
    let after = wait_js(
        driver,
        &format!("/admin to come back after {label} on {name}"),
        "const l = document.querySelector(arguments[0]);\
         const n = document.querySelector('.admin-notice');\
         return window.__noReload === undefined && document.readyState === 'complete' \
           && location.pathname === '/admin' && l && n \
           ? [l.querySelector('.plugin-state').textContent.trim(), l.classList.contains('plugin-on'),\
              n.textContent.trim()] : null;",
        vec![json!(item)],
        Duration::from_secs(15),
    )
    .await?;
    let notice = format!("Plugin switched {}", is.to_lowercase());
    ensure!(
        after[0] == json!(is)
            && after[1] == json!(on)
            && after[2].as_str().is_some_and(|n| n.starts_with(&notice)),
        "after {label}, /admin should list {name} as {is} and say {notice:?}: \
         [state, .plugin-on, notice] = {after}"
    );
    Ok(())
}

/// #tags, the tags sidebar and switching the plugin off and on (see the module docs).
async fn tags_scenario(driver: WebDriver, base: &str, shots: Option<&Path>) -> anyhow::Result<()> {
    let t = Instant::now();
    let front = format!("{base}/");
    sign_in(&driver, base, "admin", ADMIN_PASSWORD).await?;

    // ---- 1. Post with a tag (composer, Ctrl+Enter): the post links it, as written.
    mark_no_reload(&driver).await?;
    let composer = type_into(&driver, "#composer-body", TAGGED_TEXT).await?;
    let post = submit_composer(&driver, &composer, TAGGED_TEXT).await?;
    let tag_link = format!("#{post} .post-body a[href=\"/t/release\"]");
    let link = js(
        &driver,
        "const a = document.querySelector(arguments[0]);\
         return a && [a.textContent, a.closest('.post-body').textContent.trim()];",
        vec![json!(tag_link)],
    )
    .await?;
    ensure!(
        link == json!(["#Release", TAGGED_TEXT]),
        "step 1: {post} should link #Release to /t/release: [link text, body text] = {link}"
    );
    ensure_no_reload(&driver, "step 1, posting the tagged post").await?;
    println!(
        "browser tags test: 1. posted {post} after {:?}",
        t.elapsed()
    );

    // ---- 2. The sidebar lists #release once a tick has refreshed it (reload until then).
    let chip = reload_until(
        &driver,
        "the sidebar to list #release",
        RELEASE_CHIP,
        vec![],
        Duration::from_secs(5),
    )
    .await
    .context("step 2, the tags sidebar")?;
    ensure!(
        chip == json!(["#release", "1"]),
        "step 2: the sidebar's #release chip: [tag, count] = {chip}"
    );
    // Beside the posts on a desktop, below them on a phone, never wider than the window.
    set_viewport(&driver, 1280, 900).await?;
    let g = js(&driver, SIDEBAR_GEOMETRY, vec![]).await?;
    let n = |g: &Value, i: usize| g[i].as_f64().unwrap_or(f64::NAN);
    ensure!(
        n(&g, 0) >= n(&g, 5) && n(&g, 1) <= n(&g, 8) && n(&g, 2) < n(&g, 7),
        "step 2: at 1280 px the sidebar should sit right of the posts [sidebar l, r, t, b, \
         posts l, r, t, b, innerWidth] = {g}"
    );
    screenshot(&driver, shots, "tags-front-1280.png").await?;
    set_viewport(&driver, 390, 844).await?;
    let g = js(&driver, SIDEBAR_GEOMETRY, vec![]).await?;
    ensure!(
        n(&g, 2) >= n(&g, 7) && n(&g, 0) >= 0.0 && n(&g, 1) <= n(&g, 8),
        "step 2: at 390 px the sidebar should sit below the posts, inside the window \
         [sidebar l, r, t, b, posts l, r, t, b, innerWidth] = {g}"
    );
    ensure_no_horizontal_scroll(&driver, "at 390 px with the tags sidebar").await?;
    js(
        &driver,
        "document.querySelector('aside.sidebar').scrollIntoView({ block: 'nearest' });",
        vec![],
    )
    .await?;
    screenshot(&driver, shots, "tags-front-390.png").await?;
    set_viewport(&driver, 1280, 900).await?;
    println!(
        "browser tags test: 2. sidebar lists #release (right at 1280, below at 390) after {:?}",
        t.elapsed()
    );

    // ---- 3. The post's tag link leads to /t/release, which lists the post.
    click(&driver, &tag_link, "the post's #Release link").await?;
    let item = format!("item-{}", post.trim_start_matches("p-"));
    let page = wait_js(
        &driver,
        "the tag page /t/release",
        &format!(
            "return location.pathname === '/t/release' \
             && (function () {{ {LIST_PAGE} }}).apply(null, arguments);"
        ),
        vec![json!(TAGGED_TEXT)],
        Duration::from_secs(15),
    )
    .await
    .context("step 3, the tag page")?;
    ensure!(
        page[0] == json!("#release")
            && page[1].as_str().is_some_and(|t| t.starts_with("#release"))
            && page[2] == json!(item),
        "step 3: /t/release should be titled #release and list {post} as #{item}: \
         [h1, title, item] = {page}"
    );
    screenshot(&driver, shots, "tag-page-1280.png").await?;
    set_viewport(&driver, 390, 844).await?;
    ensure_no_horizontal_scroll(&driver, "at 390 px on /t/release").await?;
    screenshot(&driver, shots, "tag-page-390.png").await?;
    set_viewport(&driver, 1280, 900).await?;
    println!(
        "browser tags test: 3. /t/release lists {post} after {:?}",
        t.elapsed()
    );

    // ---- 4. Switch the plugin off on /admin: no sidebar, links already stored stay, new
    // posts get none, and /t/release is gone.
    switch_plugin(&driver, base, "tags", false)
        .await
        .context("step 4, switching tags off")?;
    driver.goto(&front).await?;
    let off = js(
        &driver,
        "const a = document.querySelector(arguments[0]);\
         return [!!document.querySelector('aside.sidebar'), !!document.querySelector('.tag-chip'),\
                 document.getElementById('main').classList.contains('has-sidebar'),\
                 a && a.textContent];",
        vec![json!(tag_link)],
    )
    .await?;
    ensure!(
        off == json!([false, false, false, "#Release"]),
        "step 4: with tags off the front page should have no sidebar and keep {post}'s stored \
         link: [aside.sidebar, a tag chip, main.has-sidebar, the link's text] = {off}"
    );
    mark_no_reload(&driver).await?;
    let composer = type_into(&driver, "#composer-body", UNTAGGED_TEXT).await?;
    let later = submit_composer(&driver, &composer, UNTAGGED_TEXT).await?;
    let body = js(
        &driver,
        "const b = document.querySelector(arguments[0]);\
         return [!!b.querySelector('a[href=\"/t/nolink\"]'), b.textContent.trim()];",
        vec![json!(format!("#{later} .post-body"))],
    )
    .await?;
    ensure!(
        body == json!([false, UNTAGGED_TEXT]),
        "step 4: with tags off {later} should keep #nolink as text: [a link to /t/nolink, \
         body text] = {body}"
    );
    ensure_no_reload(&driver, "step 4, posting with tags off").await?;
    driver.goto(format!("{base}/t/release")).await?;
    let gone = js(
        &driver,
        "const s = document.querySelector('.error-page .error-status');\
         const h = document.querySelector('.error-page h1.error-title');\
         return [s && s.textContent.trim(), h && h.textContent.trim(),\
                 document.querySelectorAll('article.list-item').length];",
        vec![],
    )
    .await?;
    ensure!(
        gone == json!(["404", "Not found", 0]),
        "step 4: with tags off /t/release should be the 404 page: [status, title, items] = \
         {gone}"
    );
    println!(
        "browser tags test: 4. switched off: no sidebar, {later} unlinked, /t/release 404 \
         after {:?}",
        t.elapsed()
    );

    // ---- 5. Switch it on again: /t/release lists the post (and the sidebar is back); the
    // post written while it was off was not indexed.
    switch_plugin(&driver, base, "tags", true)
        .await
        .context("step 5, switching tags on again")?;
    screenshot(&driver, shots, "admin-plugins-1280.png").await?;
    set_viewport(&driver, 390, 844).await?;
    ensure_no_horizontal_scroll(&driver, "at 390 px on /admin").await?;
    js(
        &driver,
        "document.getElementById('plugins-h').scrollIntoView();",
        vec![],
    )
    .await?;
    screenshot(&driver, shots, "admin-plugins-390.png").await?;
    set_viewport(&driver, 1280, 900).await?;
    driver.goto(format!("{base}/t/release")).await?;
    let page = reload_until(
        &driver,
        "/t/release to list the post and the sidebar #release again",
        &format!(
            "const p = (function () {{ {LIST_PAGE} }}).apply(null, arguments);\
             const c = (function () {{ {RELEASE_CHIP} }})();\
             return p && p[2] && c ? [p[0], p[2], c[0]] : null;"
        ),
        vec![json!(TAGGED_TEXT)],
        Duration::from_secs(5),
    )
    .await
    .context("step 5, the tag page after switching tags on")?;
    ensure!(
        page == json!(["#release", item, "#release"]),
        "step 5: /t/release should list {post} again, with the sidebar: [h1, item, chip] = \
         {page}"
    );
    driver.goto(format!("{base}/t/nolink")).await?;
    let empty = js(
        &driver,
        "const e = document.querySelector('section.list-items .empty-state');\
         return [e && e.textContent.trim(), document.querySelectorAll('article.list-item').length];",
        vec![],
    )
    .await?;
    ensure!(
        empty == json!(["No posts tagged #nolink yet.", 0]),
        "step 5: a post written while tags was off is not indexed: /t/nolink [empty state, \
         items] = {empty}"
    );
    println!(
        "browser tags test: 5. switched on: /t/release lists {post} again after {:?}",
        t.elapsed()
    );
    Ok(())
}

/// Runs `scenario` against a fresh site in headless Chromium: `prepare` runs first on the
/// site's folder (CLI commands), then the app (with `env` added to its environment) and
/// chromedriver start on free ports. The browser always quits and both processes are killed,
/// pass or fail; a failure panics with the logs.
async fn run_in_chromium<P, F, Fut>(prepare: P, env: &[(&str, &str)], scenario: F)
where
    P: FnOnce(&Path) -> anyhow::Result<()> + Send + 'static,
    F: FnOnce(WebDriver, String, Option<PathBuf>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    // Declared first so they are removed after the processes using them have been killed.
    let app_dir = tempfile::tempdir().unwrap();
    let profile_dir = tempfile::tempdir().unwrap();
    let driver_dir = tempfile::tempdir().unwrap();
    let shots = std::env::var_os("POSTHASTE_SCREENSHOT_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from);

    let app = async {
        let dir = app_dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || prepare(&dir)).await??;
        start_app(app_dir.path(), env).await
    };
    let (app, (chromedriver, driver_url)) =
        tokio::try_join!(app, start_chromedriver(driver_dir.path()))
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
        .run_and_quit(|driver| scenario(driver, base, shots))
        .await;
    if let Err(e) = result {
        // The scenario's own error with its whole context chain (`{:#}` on the wrapper would
        // show only the outermost context).
        let e = match &e {
            WebDriverRunError::Body(body) => format!("{body:#}"),
            WebDriverRunError::BodyAndCleanup { body, cleanup } => {
                format!("{body:#}\n(quitting the browser failed too: {cleanup})")
            }
            other => other.to_string(),
        };
        panic!(
            "{e}\n--- posthaste log:\n{}\n--- chromedriver log (end):\n{}",
            log_tail(&app.log),
            log_tail(&chromedriver.log)
        );
    }
    println!("browser test: passed in {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_post_and_draft_in_chromium() {
    if !browser_available() {
        return;
    }
    run_in_chromium(
        |_| Ok(()),
        &[],
        |driver, base, shots| async move { setup_scenario(driver, &base, shots.as_deref()).await },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threaded_replies_edit_and_delete_in_chromium() {
    if !browser_available() {
        return;
    }
    run_in_chromium(add_admin_with_cli, &[], |driver, base, shots| async move {
        thread_scenario(driver, &base, shots.as_deref()).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mention_autocomplete_in_chromium() {
    if !browser_available() {
        return;
    }
    run_in_chromium(
        |dir| {
            add_admin_with_cli(dir)?;
            add_user_with_cli(
                dir,
                &["maria", "maria@example.com", "Maria Rossi"],
                false,
                MARIA_PASSWORD,
            )
        },
        &[],
        |driver, base, shots| async move { mention_scenario(driver, &base, shots.as_deref()).await },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_sidebar_and_plugin_switch_in_chromium() {
    if !browser_available() {
        return;
    }
    run_in_chromium(
        add_admin_with_cli,
        // The sidebar's cache is refreshed on each tick.
        &[("POSTHASTE_PLUGINS", "tags"), ("POSTHASTE_TICK_MS", "200")],
        |driver, base, shots| async move { tags_scenario(driver, &base, shots.as_deref()).await },
    )
    .await;
}
