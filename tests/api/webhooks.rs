//! The webhooks plugin end to end, against the recording receiver: a new post is POSTed once as
//! Slack/Mattermost/Discord JSON (replies only when asked), every URL on its own; a receiver
//! that is down or answers 503 gets the delivery later through the job queue while posting
//! stays fast; nothing goes out while the plugin is off; bad settings stop the start.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use posthaste::config::RawSettings;
use posthaste::db::schema::jobs;
use posthaste::users::Role;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_both_backends;
use crate::receiver::{closed_port, Captured, Receiver};

const SITE: &str = "http://posthaste.test";

/// An app with the webhooks plugin (`on` or not), its `[webhooks]` table set to `settings`,
/// links on http://posthaste.test, a fast worker and one-second retries.
async fn app_with(backend: Backend, on: bool, settings: Value) -> TestApp {
    TestApp::spawn_with(backend, move |raw| {
        raw.plugins = if on { vec!["webhooks".into()] } else { vec![] };
        raw.public_url = Some(SITE.into());
        raw.site_title = "Team Notes".into();
        raw.retry_base_secs = 1;
        raw.worker_poll_ms = 50;
        raw.extra.insert("webhooks".into(), settings);
    })
    .await
    .expect("backend")
}

/// The webhook deliveries queued so far: (state, attempts, last error).
fn deliveries(app: &TestApp) -> Vec<(String, i32, Option<String>)> {
    app.db(|c| {
        jobs::table
            .filter(jobs::kind.eq("plugin"))
            .order(jobs::id.asc())
            .select((jobs::state, jobs::attempts, jobs::last_error))
            .load(c)
            .unwrap()
    })
}

/// Waits until the queue has nothing left to run, then a little longer (for stray requests).
async fn settle(app: &TestApp) {
    app.wait_queue_idle().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
}

fn json_of(c: &Captured) -> Value {
    serde_json::from_str(&c.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", c.body))
}

/// The received payloads, by `event`.
fn by_event(got: &[Captured]) -> Vec<Value> {
    let mut all: Vec<Value> = got.iter().map(json_of).collect();
    all.sort_by_key(|v| v["event"].as_str().unwrap_or_default().to_string());
    all
}

async fn a_new_post_is_delivered_once_and_replies_are_not(backend: Backend) {
    let rx = Receiver::start().await;
    let hook = format!("{}/hooks/team", rx.url);
    let app = app_with(backend, true, json!({ "urls": [hook] })).await;
    app.setup_admin().await;
    let id = app
        .post_id("Shipped the new login\nPasskeys work everywhere now.")
        .await;
    let got = rx.wait_for(1, Duration::from_secs(10)).await;
    let r = &got[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/hooks/team");
    assert!(
        r.headers["content-type"].starts_with("application/json"),
        "{:?}",
        r.headers
    );
    assert!(
        r.headers["user-agent"].starts_with("Posthaste-Webhooks/"),
        "{:?}",
        r.headers
    );
    assert_eq!(r.headers["x-posthaste-event"], "post_published");
    let url = format!("{SITE}/p/{id}");
    let line = format!("Ada Admin posted “Shipped the new login” {url}");
    let body = json_of(r);
    assert_eq!(body["text"], line.as_str(), "{body:#}");
    assert_eq!(body["content"], line.as_str(), "Discord reads `content`");
    assert_eq!(body["username"], "Team Notes");
    assert_eq!(body["event"], "post_published");
    let post = &body["post"];
    assert_eq!(post["id"], id);
    assert_eq!(post["url"], url.as_str());
    assert_eq!(post["title"], "Shipped the new login");
    assert_eq!(post["excerpt"], "Passkeys work everywhere now.");
    assert_eq!(
        post["author"],
        json!({ "username": ADMIN, "display_name": "Ada Admin" })
    );
    let created = post["created_at"].as_str().unwrap();
    assert!(
        created.len() == 20 && created.ends_with('Z'),
        "RFC 3339 UTC: {created}"
    );

    // Replies are not sent by default.
    app.reply(id, id, "Congratulations, team!").await;
    settle(&app).await;
    let got = rx.requests();
    assert_eq!(got.len(), 1, "sent once, and no reply: {got:#?}");
    assert_eq!(got[0].answered, 200);
    let d = deliveries(&app);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].0.as_str(), d[0].1), ("done", 1));
    rx.stop().await;
}

async fn replies_and_mentions_go_to_every_url_when_asked(backend: Backend) {
    let (one, two) = (Receiver::start().await, Receiver::start().await);
    // As POSTHASTE_WEBHOOKS_URLS / _EVENTS would give them: comma-separated strings.
    let urls = format!("{}/a, {}/b", one.url, two.url);
    let app = TestApp::spawn_with(backend, move |raw| {
        raw.plugins = vec!["webhooks".into()];
        raw.public_url = Some(SITE.into());
        raw.retry_base_secs = 1;
        raw.worker_poll_ms = 50;
        raw.extra.insert("webhooks_urls".into(), json!(urls));
        raw.extra.insert(
            "webhooks_events".into(),
            json!("post_published,reply_published,mention_recorded"),
        );
    })
    .await
    .expect("backend");
    app.setup_admin().await;
    app.create_user("ana", "ana-password", Role::Member);
    let id = app.post_id("Standup notes\nNothing blocked today.").await;
    let ana = app.other_client();
    ana.login("ana", "ana-password").await;
    let reply = ana.reply(id, id, "@admin thanks, the notes help").await;
    for rx in [&one, &two] {
        rx.wait_for(3, Duration::from_secs(10)).await;
    }
    settle(&app).await;
    for (rx, path) in [(&one, "/a"), (&two, "/b")] {
        let got = rx.requests();
        assert_eq!(got.len(), 3, "post, reply, mention: {got:#?}");
        assert!(got.iter().all(|r| r.path == path));
        let all = by_event(&got);
        let events: Vec<&str> = all.iter().map(|v| v["event"].as_str().unwrap()).collect();
        assert_eq!(
            events,
            ["mention_recorded", "post_published", "reply_published"]
        );
        let (mention, reply_hook) = (&all[0], &all[2]);
        let reply_url = format!("{SITE}/p/{id}#r-{reply}");
        assert_eq!(
            reply_hook["text"],
            format!("Ana Tester replied in “Standup notes” {reply_url}").as_str()
        );
        assert_eq!(
            reply_hook["username"], "Posthaste",
            "the default site title"
        );
        assert_eq!(reply_hook["post"]["id"], reply);
        assert_eq!(reply_hook["post"]["thread_id"], id);
        assert_eq!(reply_hook["post"]["url"], reply_url.as_str());
        assert_eq!(reply_hook["post"]["author"]["username"], "ana");
        assert_eq!(
            mention["text"],
            format!("Ana Tester mentioned @admin in “Standup notes” {reply_url}").as_str()
        );
        assert_eq!(mention["mentioned"][0]["username"], ADMIN);
    }
    let d = deliveries(&app);
    assert_eq!(d.len(), 6, "one task per event and URL: {d:?}");
    assert!(d.iter().all(|(s, n, _)| s == "done" && *n == 1), "{d:?}");
    one.stop().await;
    two.stop().await;
}

/// Waits until the one delivery is back to `pending` after try `n`, and returns its error.
async fn failed_try(app: &TestApp, n: i32) -> String {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let d = deliveries(app);
        if let [(state, tries, Some(err))] = d.as_slice() {
            if state == "pending" && *tries == n {
                return err.clone();
            }
        }
        assert!(Instant::now() < until, "try {n} never failed: {d:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn deliveries_are_retried_until_the_receiver_answers(backend: Backend) {
    let port = closed_port();
    let hook = format!("http://127.0.0.1:{port}/hook");
    let app = app_with(backend, true, json!({ "urls": [hook], "timeout_secs": 2 })).await;
    app.setup_admin().await;
    let started = Instant::now();
    let id = app.post_id("Deploy freeze\nFrom Friday noon.").await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "posting does not wait for the webhook"
    );
    assert_eq!(app.get(&format!("/p/{id}")).await.status(), 200);

    // 1. Nothing listens: a network error, retried (the next try is a second away). The
    // error names the host, not the URL's path (a webhook's secret).
    let shown = format!("POST http://127.0.0.1:{port}/…");
    let err = failed_try(&app, 1).await;
    assert!(
        err.starts_with(&format!("{shown}: ")) && !err.contains("HTTP") && !err.contains("/hook"),
        "{err}"
    );

    // 2. Up, but answering 503: still an error the queue retries.
    let rx = Receiver::start_on(port).await;
    rx.set_status(503);
    let err = failed_try(&app, 2).await;
    assert!(err.starts_with(&format!("{shown}: HTTP 503")), "{err}");
    assert_eq!(rx.requests().len(), 1);

    // 3. Healthy: delivered, once.
    rx.set_status(200);
    let got = rx.wait_for(2, Duration::from_secs(15)).await;
    assert_eq!(json_of(&got[1])["post"]["id"], id);
    settle(&app).await;
    let got = rx.requests();
    let answered: Vec<u16> = got.iter().map(|r| r.answered).collect();
    assert_eq!(answered, [503, 200], "exactly one delivery after recovery");
    assert_eq!(got[0].body, got[1].body, "the same payload each try");
    assert_eq!(
        got[0].headers["x-posthaste-delivery"], got[1].headers["x-posthaste-delivery"],
        "a stable delivery id for receivers to drop repeats"
    );
    let d = deliveries(&app);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].0.as_str(), d[0].1), ("done", 3), "{d:?}");
    rx.stop().await;
}

async fn nothing_is_sent_while_the_plugin_is_off(backend: Backend) {
    let rx = Receiver::start().await;
    let hook = format!("{}/hook", rx.url);
    let app = app_with(
        backend,
        false,
        json!({ "urls": [hook], "events": ["post_published", "reply_published"] }),
    )
    .await;
    app.setup_admin().await;
    let id = app.post_id("Quiet post\nNobody outside hears this.").await;
    app.reply(id, id, "Nor this reply.").await;
    settle(&app).await;
    assert!(rx.requests().is_empty(), "{:#?}", rx.requests());
    assert!(deliveries(&app).is_empty());

    // The switch is the only difference: on, the next post goes out (and only that one).
    let r = app
        .post_form("/admin/plugins/webhooks", &[("on", "1")])
        .await;
    assert_eq!(r.status(), 303);
    let loud = app.post_id("Loud post\nEveryone hears this.").await;
    let got = rx.wait_for(1, Duration::from_secs(10)).await;
    settle(&app).await;
    assert_eq!(rx.requests().len(), 1);
    assert_eq!(json_of(&got[0])["post"]["id"], loud);
    rx.stop().await;
}

/// Builds the app as `posthaste serve` would, with these plugin settings.
async fn start_with(backend: Backend, extra: Value) -> Option<anyhow::Result<()>> {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::new(backend, dir.path())?;
    let raw = RawSettings {
        database_url: Some(database.url.clone()),
        data_dir: dir.path().to_path_buf(),
        addr: Some("127.0.0.1:0".into()),
        plugins: vec!["webhooks".into()],
        extra: serde_json::from_value(extra).unwrap(),
        ..RawSettings::default()
    };
    let config = raw.validate().expect("core config");
    let pool = posthaste::db::connect(&config.database, 2).expect("database");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let built = posthaste::startup::Application::build_with(
        config,
        pool,
        listener,
        posthaste_app::plugins(),
    );
    Some(built.map(drop))
}

async fn invalid_settings_stop_the_start(backend: Backend) {
    let Some(ok) = start_with(
        backend,
        json!({ "webhooks": { "urls": ["https://hooks.example.com/services/T/B/x"] } }),
    )
    .await
    else {
        return;
    };
    ok.expect("valid settings start");
    for (extra, culprit) in [
        (
            json!({ "webhooks": { "urls": ["https://ok.example/", "ftp://files.example/in"] } }),
            "ftp://files.example/in",
        ),
        (
            json!({ "webhooks_urls": "https://ok.example/,hooks.example.com/x" }),
            "hooks.example.com/x",
        ),
        (
            json!({ "webhooks": { "urls": "https://ok.example/", "events": ["post_deleted"] } }),
            "post_deleted",
        ),
    ] {
        let err = start_with(backend, extra.clone())
            .await
            .unwrap()
            .err()
            .unwrap_or_else(|| panic!("started with {extra}"));
        let msg = format!("{err:#}");
        assert!(
            msg.contains("plugin webhooks") && msg.contains(culprit),
            "{msg}"
        );
    }
}

on_both_backends!(
    a_new_post_is_delivered_once_and_replies_are_not,
    replies_and_mentions_go_to_every_url_when_asked,
    deliveries_are_retried_until_the_receiver_answers,
    nothing_is_sent_while_the_plugin_is_off,
    invalid_settings_stop_the_start,
);
