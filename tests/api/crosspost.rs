//! The mastodon-crosspost plugin against a local stand-in for the Mastodon API: members opt in
//! on /mastodon (a form with CSRF, as a browser sends it); their new top-level posts become
//! one `POST /api/v1/statuses` each, retried through the job queue; replies, members who did
//! not opt in and a switched-off plugin send nothing.

use std::time::Duration;

use diesel::prelude::*;
use posthaste::db::schema::jobs;
use posthaste::users::Role;

use crate::helpers::{location, Backend, TestApp};
use crate::on_both_backends;
use crate::receiver::{Captured, Receiver};

const TOKEN: &str = "test-token-7f3a9c";
const SITE: &str = "http://posthaste.test";
const WAIT: Duration = Duration::from_secs(15);

/// An app with the plugin `on` (or off), pointed at `instance` when given.
async fn spawn(
    backend: Backend,
    on: bool,
    instance: Option<&Receiver>,
    visibility: Option<&str>,
) -> TestApp {
    let mut settings = serde_json::Map::new();
    if let Some(r) = instance {
        settings.insert("instance_url".into(), r.url.clone().into());
        settings.insert("access_token".into(), TOKEN.into());
    }
    if let Some(v) = visibility {
        settings.insert("visibility".into(), v.into());
    }
    TestApp::spawn_with(backend, |raw| {
        if on {
            raw.plugins = vec!["mastodon-crosspost".into()];
        }
        raw.public_url = Some(SITE.into());
        raw.retry_base_secs = 1;
        raw.worker_poll_ms = 50;
        raw.extra
            .insert("mastodon_crosspost".into(), settings.into());
    })
    .await
    .expect("app")
}

/// The state the /mastodon page shows: `on`, `off` or `unconfigured`.
async fn page_state(app: &TestApp) -> String {
    let html = app.get_html("/mastodon").await;
    let doc = scraper::Html::parse_document(&html);
    let sel = scraper::Selector::parse(".mastodon-state").unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("data-crosspost"))
        .unwrap_or_else(|| panic!("no cross-posting state on /mastodon: {html}"))
        .to_string()
}

/// Switches cross-posting on or off through the form, as a browser does.
async fn choose(app: &TestApp, on: bool) {
    let fields: &[(&str, &str)] = if on { &[("crosspost", "on")] } else { &[] };
    let r = app.post_form("/mastodon", fields).await;
    assert_eq!(r.status(), 303, "POST /mastodon");
    assert_eq!(location(&r), "/mastodon?saved=1");
    assert_eq!(page_state(app).await, if on { "on" } else { "off" });
}

/// A request's form fields.
fn form(c: &Captured) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{}", c.body))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn field(c: &Captured, name: &str) -> String {
    let fields = form(c);
    let mut found = fields.iter().filter(|(k, _)| k == name);
    let value = found
        .next()
        .unwrap_or_else(|| panic!("no `{name}` in {fields:?}"))
        .1
        .clone();
    assert!(found.next().is_none(), "`{name}` twice in {fields:?}");
    value
}

/// A signed-in client for a new member.
async fn member(app: &TestApp, name: &str) -> TestApp {
    let pw = format!("{name}-password-1");
    app.create_user(name, &pw, Role::Member);
    let client = app.other_client();
    assert_eq!(client.login(name, &pw).await.status(), 303);
    client
}

async fn opted_in_posts_are_sent_once_and_replies_never(backend: Backend) {
    let mastodon = Receiver::start().await;
    mastodon.set_reply(r#"{"id":"1101","url":"https://mastodon.example/@team/1101"}"#);
    let app = spawn(backend, true, Some(&mastodon), Some("private")).await;
    app.setup_admin().await;

    // Anonymous: sign in first.
    let r = app.other_client().get("/mastodon").await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login"), "{}", location(&r));

    // Off until chosen; the page names the instance, never the token.
    let html = app.get_html("/mastodon").await;
    assert!(
        html.contains(&format!("127.0.0.1:{}", mastodon.port)),
        "{html}"
    );
    assert!(!html.contains(TOKEN));
    assert_eq!(page_state(&app).await, "off");
    assert!(app.get_html("/").await.contains(r#"href="/mastodon""#));

    // A form without the CSRF token changes nothing.
    let r = app
        .client
        .post(app.url("/mastodon"))
        .form(&[("crosspost", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(page_state(&app).await, "off");

    choose(&app, true).await;
    assert!(app.get_html("/mastodon?saved=1").await.contains("Saved."));

    let id = app
        .post_id("Release notes\nWe shipped the new login page today.")
        .await;
    let got = mastodon.wait_for(1, WAIT).await;
    let sent = &got[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/api/v1/statuses");
    assert_eq!(sent.headers["authorization"], format!("Bearer {TOKEN}"));
    assert!(
        sent.headers
            .get("idempotency-key")
            .is_some_and(|k| k.starts_with(&format!("posthaste-posthaste.test-{id}-"))),
        "{:?}",
        sent.headers
    );
    assert!(sent.headers["content-type"].starts_with("application/x-www-form-urlencoded"));
    assert_eq!(
        field(sent, "status"),
        format!("Release notes\n\n{SITE}/p/{id}")
    );
    assert_eq!(field(sent, "visibility"), "private");

    // A reply (even by the opted-in author) is not cross-posted.
    app.reply(id, id, "And the signup page is next.").await;
    app.wait_queue_idle().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mastodon.requests().len(), 1, "{:#?}", mastodon.requests());
}

async fn members_who_did_not_opt_in_are_not_sent(backend: Backend) {
    let mastodon = Receiver::start().await;
    let app = spawn(backend, true, Some(&mastodon), None).await;
    app.setup_admin().await;
    let bob = member(&app, "bob").await;
    assert_eq!(page_state(&bob).await, "off");
    // Bob never opted in; Carol opted in and out again.
    assert_eq!(
        bob.publish("Bob's private thoughts on the roadmap")
            .await
            .status(),
        303
    );
    let carol = member(&app, "carol").await;
    choose(&carol, true).await;
    choose(&carol, false).await;
    assert_eq!(
        carol
            .publish("Carol changed her mind about sharing")
            .await
            .status(),
        303
    );
    app.wait_queue_idle().await;
    // The admin opted in: only that post goes out, with the default visibility.
    choose(&app, true).await;
    let id = app.post_id("Short update from the admin").await;
    let got = mastodon.wait_for(1, WAIT).await;
    app.wait_queue_idle().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got_now = mastodon.requests();
    assert_eq!(got_now.len(), 1, "{got_now:#?}");
    // Untitled: the text itself, then the link.
    assert_eq!(
        field(&got[0], "status"),
        format!("Short update from the admin\n\n{SITE}/p/{id}")
    );
    assert_eq!(field(&got[0], "visibility"), "unlisted");
}

async fn a_failed_delivery_is_retried_with_the_same_key(backend: Backend) {
    let mastodon = Receiver::start().await;
    mastodon.set_status(500);
    mastodon.set_reply(r#"{"error":"try again later"}"#);
    let app = spawn(backend, true, Some(&mastodon), None).await;
    app.setup_admin().await;
    choose(&app, true).await;
    let id = app.post_id("Retry me\nThe first try fails.").await;

    let first = mastodon.wait_for(1, WAIT).await;
    assert_eq!(first[0].answered, 500);
    mastodon.set_status(200);
    mastodon.set_reply(r#"{"id":"7","url":"https://mastodon.example/@team/7"}"#);
    let got = mastodon.wait_for(2, WAIT).await;
    assert_eq!(got[1].answered, 200);
    assert_eq!(
        got[0].headers["idempotency-key"], got[1].headers["idempotency-key"],
        "a retry carries the same key, so Mastodon posts once"
    );
    assert_eq!(
        field(&got[1], "status"),
        format!("Retry me\n\n{SITE}/p/{id}")
    );

    app.wait_queue_idle().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mastodon.requests().len(), 2, "done after the success");
    let (state, attempts): (String, i32) = app.db(|c| {
        jobs::table
            .filter(jobs::payload.like("%mastodon-crosspost%"))
            .select((jobs::state, jobs::attempts))
            .get_result(c)
            .unwrap()
    });
    assert_eq!((state.as_str(), attempts), ("done", 2));
}

async fn switched_off_there_is_no_page_and_nothing_is_sent(backend: Backend) {
    let mastodon = Receiver::start().await;
    let app = spawn(backend, false, Some(&mastodon), None).await;
    app.setup_admin().await;
    assert_eq!(app.get("/mastodon").await.status(), 404);
    assert_eq!(
        app.post_form("/mastodon", &[("crosspost", "on")])
            .await
            .status(),
        404
    );
    assert!(!app.get_html("/").await.contains(r#"href="/mastodon""#));
    // Even a stored opt-in (from when it was on) sends nothing while it is off.
    let admin = app.db(|c| {
        posthaste::users::find_by_login(c, crate::helpers::ADMIN)
            .unwrap()
            .unwrap()
    });
    app.db(|c| {
        diesel::sql_query("INSERT INTO mastodon_authors (user_id, created_at) VALUES (?, ?)")
            .bind::<diesel::sql_types::Integer, _>(admin.id)
            .bind::<diesel::sql_types::Timestamp, _>(posthaste::db::now())
            .execute(c)
            .unwrap()
    });
    assert_eq!(
        app.publish("Not for Mastodon\nThe plugin is off.")
            .await
            .status(),
        303
    );
    app.wait_queue_idle().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(mastodon.requests().is_empty(), "{:#?}", mastodon.requests());
}

async fn unconfigured_it_says_so_and_takes_no_choice(backend: Backend) {
    let app = spawn(backend, true, None, None).await;
    app.setup_admin().await;
    assert_eq!(page_state(&app).await, "unconfigured");
    let r = app.post_form("/mastodon", &[("crosspost", "on")]).await;
    assert_eq!(r.status(), 400);
    assert!(!app.get_html("/").await.contains(r#"href="/mastodon""#));
    let stored: i64 = app.db(|c| {
        diesel::sql_query("SELECT COUNT(*) AS n FROM mastodon_authors")
            .get_result::<Count>(c)
            .unwrap()
            .n
    });
    assert_eq!(stored, 0);
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

on_both_backends!(
    opted_in_posts_are_sent_once_and_replies_never,
    members_who_did_not_opt_in_are_not_sent,
    a_failed_delivery_is_retried_with_the_same_key,
    switched_off_there_is_no_page_and_nothing_is_sent,
    unconfigured_it_says_so_and_takes_no_choice,
);
