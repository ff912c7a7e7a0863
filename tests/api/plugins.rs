//! The hook registry wired into the product, seen over HTTP: a probe plugin registers on every
//! hook point and records what it saw; the admin switches plugins without a restart; the
//! example plugin of docs/plugins.md is the code that ships.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::*;
use crate::on_both_backends;
use diesel::prelude::*;
use posthaste::db::schema::jobs;
use posthaste::hooks::content::{map_text, Event};
use posthaste::hooks::{
    Change, Content, FrontQuery, HookCtx, HookError, MentionEvent, OutgoingMail, Plugin, PostEvent,
    Registry, SavedPost, Slot, UserEvent,
};
use posthaste::users::Role;

/// What the probe saw, and what it should hide or pin.
#[derive(Default)]
struct Seen {
    log: Mutex<Vec<String>>,
    hide: Mutex<Vec<i32>>,
    pin: Mutex<Vec<i32>>,
}

impl Seen {
    fn push(&self, s: String) {
        self.log.lock().unwrap().push(s);
    }
    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

/// A plugin on every hook point.
struct Probe(Arc<Seen>);

fn post_logger(
    seen: &Arc<Seen>,
    what: &'static str,
) -> impl Fn(&mut HookCtx<'_>, &PostEvent) -> Result<(), HookError> {
    let seen = seen.clone();
    move |_c, e| {
        seen.push(format!("{what}:{}:{}", e.post.id, e.author.username));
        assert!(e.url.starts_with("http"), "absolute url: {}", e.url);
        Ok(())
    }
}

impl Plugin for Probe {
    fn name(&self) -> &'static str {
        "probe"
    }
    fn version(&self) -> &'static str {
        "1.0.0"
    }
    fn description(&self) -> &'static str {
        "Records every hook call (tests)."
    }
    fn register(&self, r: &mut Registry) -> Result<(), String> {
        let me = r.me();
        let h = &mut r.hooks;
        h.post_content.add(me.clone(), 5, |mut c: Content| {
            if c.markdown.contains("forbidden") {
                return Err(HookError::Reject("Probe says no forbidden words.".into()));
            }
            if c.markdown.contains("explode") {
                panic!("the probe exploded");
            }
            if c.markdown.contains("fail") {
                return Err(HookError::Failed("the probe failed".into()));
            }
            c.events = map_text(c.events, |t| {
                t.contains("(c)")
                    .then(|| vec![Event::Text(t.replace("(c)", "©").into())])
            });
            Ok(c)
        });
        h.page_head.add(me.clone(), 10, |mut s: Slot| {
            s.html.push_str(r#"<meta name="probe" content="on">"#);
            Ok(s)
        });
        h.sidebar.add(me.clone(), 10, |mut s: Slot| {
            let who = s
                .viewer
                .as_ref()
                .map_or("nobody".into(), |v| v.username.clone());
            s.html
                .push_str(&format!(r#"<p class="probe-sidebar">Probe for {who}</p>"#));
            Ok(s)
        });
        let seen = self.0.clone();
        h.front_query.add(me.clone(), 10, move |mut q: FrontQuery| {
            q.hide.extend(seen.hide.lock().unwrap().iter());
            q.pin.extend(seen.pin.lock().unwrap().iter());
            Ok(q)
        });
        h.outgoing_mail.add(me.clone(), 10, |mut m: OutgoingMail| {
            m.subject = format!("[probe] {}", m.subject);
            Ok(m)
        });
        let seen = self.0.clone();
        h.post_saved.add(
            me.clone(),
            10,
            move |_c: &mut HookCtx<'_>, s: &SavedPost| {
                let change = match s.change {
                    Change::Published => "published",
                    Change::Edited => "edited",
                    Change::Deleted => "deleted",
                };
                seen.push(format!("saved:{change}:{}", s.post.id));
                Ok(())
            },
        );
        // Writes inside the post's transaction, then fails for posts saying "half-written":
        // its savepoint is rolled back, the post itself is kept.
        h.post_saved
            .add(me.clone(), 30, |c: &mut HookCtx<'_>, s: &SavedPost| {
                c.enqueue(serde_json::json!({ "saved": s.post.id }))?;
                if s.post.body_md.contains("half-written") {
                    return Err(HookError::Failed("failed after writing".into()));
                }
                Ok(())
            });
        h.post_published
            .add(me.clone(), 10, post_logger(&self.0, "post_published"));
        // A durable task per post; its runner panics for posts saying "kaboom".
        h.post_published
            .add(me.clone(), 20, |c: &mut HookCtx<'_>, e: &PostEvent| {
                let kaboom = e.post.body_md.contains("kaboom");
                c.enqueue(serde_json::json!({ "post": e.post.id, "kaboom": kaboom }))?;
                Ok(())
            });
        h.reply_published
            .add(me.clone(), 10, post_logger(&self.0, "reply_published"));
        h.post_edited
            .add(me.clone(), 10, post_logger(&self.0, "post_edited"));
        h.post_deleted
            .add(me.clone(), 10, post_logger(&self.0, "post_deleted"));
        let seen = self.0.clone();
        h.user_registered.add(
            me.clone(),
            10,
            move |_c: &mut HookCtx<'_>, e: &UserEvent| {
                seen.push(format!("user_registered:{}", e.user.username));
                Ok(())
            },
        );
        let seen = self.0.clone();
        h.mention_recorded
            .add(me, 10, move |_c: &mut HookCtx<'_>, e: &MentionEvent| {
                let names: Vec<&str> = e.mentioned.iter().map(|p| p.username.as_str()).collect();
                seen.push(format!(
                    "mention_recorded:{}:{}",
                    e.source.post.id,
                    names.join(",")
                ));
                Ok(())
            });
        let seen = self.0.clone();
        r.on_job(move |job| {
            let seen = seen.clone();
            Box::pin(async move {
                if job.task["kaboom"] == true {
                    seen.push(format!("job-panics:{}", job.task["post"]));
                    panic!("the probe's job exploded");
                }
                seen.push(format!("job:{}", job.task["post"]));
                Ok(())
            })
        });
        Ok(())
    }
}

/// The shipped plugins plus the probe, which is switched on.
async fn spawn_probe(backend: Backend) -> Option<(TestApp, Arc<Seen>)> {
    let seen = Arc::new(Seen::default());
    let mut plugins = posthaste_app::plugins();
    plugins.push(Arc::new(Probe(seen.clone())));
    let app = TestApp::spawn_with_plugins(
        backend,
        |raw| {
            raw.plugins = vec!["probe".into(), "secret-guard".into()];
            raw.worker_poll_ms = 50;
            raw.tick_ms = 100;
        },
        plugins,
    )
    .await?;
    Some((app, seen))
}

/// Waits until the probe's log holds `entry`.
async fn logged(seen: &Seen, entry: &str) {
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while !seen.log().iter().any(|e| e == entry) {
        assert!(
            std::time::Instant::now() < until,
            "never logged {entry}: {:?}",
            seen.log()
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

async fn content_filters_reject_isolate_and_rewrite(backend: Backend) {
    let Some((app, _seen)) = spawn_probe(backend).await else {
        return;
    };
    app.setup_admin().await;

    // A rejection: 422 with the plugin's message in the posting box, nothing stored.
    let r = app
        .post_form("/posts", &[("body", "this has a forbidden word")])
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Probe says no forbidden words."), "{html}");
    assert!(
        html.contains("this has a forbidden word"),
        "the text is kept"
    );
    assert_eq!(app.post_count(), 0);

    // Through htmx the message goes into the posting box's error area, text untouched.
    let token = app.csrf().await;
    let r = app
        .client
        .post(app.url("/posts"))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", &token)
        .form(&[("body", "forbidden via htmx")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["hx-retarget"], "#composer-error");
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Probe says no forbidden words."));
    assert_eq!(app.post_count(), 0);

    // The example plugin (secret-guard) rejects too, with its own message.
    let r = app
        .post_form("/posts", &[("body", "key AKIAIOSFODNN7EXAMPLE")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("an AWS access key"));
    assert_eq!(app.post_count(), 0);

    // A panicking or failing filter is skipped: the post is stored, rendered by the others.
    let boom = app
        .post_id("this will explode, see https://example.com")
        .await;
    let html = app.get_html(&format!("/p/{boom}")).await;
    assert!(html.contains("this will explode"), "{html}");
    assert!(
        html.contains(r#"href="https://example.com""#),
        "core autolink still ran"
    );
    let failed = app.post_id("fail quietly (c)").await;
    let html = app.get_html(&format!("/p/{failed}")).await;
    assert!(
        html.contains("fail quietly (c)"),
        "value before the failing filter"
    );

    // A working filter rewrites text (outside code).
    let ok = app.post_id("Copyright (c) us, `(c)` in code").await;
    let html = app.get_html(&format!("/p/{ok}")).await;
    assert!(html.contains("Copyright © us"), "{html}");
    assert!(html.contains("<code>(c)</code>"), "{html}");

    // Edits and replies run through the same chain.
    let r = app
        .post_form(&format!("/p/{ok}/edit"), &[("body", "now forbidden")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Probe says no forbidden words."));
    assert!(app
        .get_html(&format!("/p/{ok}"))
        .await
        .contains("Copyright © us"));
    let r = app
        .post_form(
            &format!("/p/{ok}/replies"),
            &[("body", "forbidden reply"), ("parent_id", "")],
        )
        .await;
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(app.post_count(), 3);
}

async fn actions_run_after_commit_in_the_worker(backend: Backend) {
    let Some((app, seen)) = spawn_probe(backend).await else {
        return;
    };
    app.setup_admin().await;
    logged(&seen, &format!("user_registered:{ADMIN}")).await;
    app.create_user("ana", "ana-password", Role::Member);

    let post = app.post_id("Hello @ana").await;
    logged(&seen, &format!("saved:published:{post}")).await;
    logged(&seen, &format!("post_published:{post}:{ADMIN}")).await;
    logged(&seen, &format!("mention_recorded:{post}:ana")).await;
    let reply = app.reply(post, post, "A reply").await;
    logged(&seen, &format!("reply_published:{reply}:{ADMIN}")).await;
    let r = app
        .post_form(&format!("/p/{reply}/edit"), &[("body", "Edited")])
        .await;
    assert_eq!(r.status(), 303);
    logged(&seen, &format!("saved:edited:{reply}")).await;
    logged(&seen, &format!("post_edited:{reply}:{ADMIN}")).await;
    let r = app.post_form(&format!("/p/{reply}/delete"), &[]).await;
    assert_eq!(r.status(), 303);
    logged(&seen, &format!("post_deleted:{reply}:{ADMIN}")).await;

    // A post_saved action that fails after writing leaves no rows; the post is stored and the
    // same action's writes for other posts are kept.
    let half = app.post_id("A half-written hook").await;
    assert_eq!(app.get(&format!("/p/{half}")).await.status(), 200);
    let saved_tasks = |id: i32| {
        let needle = format!(r#""saved":{id}}}"#);
        app.db(|c| {
            jobs::table
                .filter(jobs::kind.eq("plugin"))
                .select(jobs::payload)
                .load::<String>(c)
                .unwrap()
        })
        .into_iter()
        .filter(|p| p.contains(&needle))
        .count()
    };
    assert_eq!(saved_tasks(half), 0, "rolled back to its savepoint");
    assert_eq!(saved_tasks(post), 1);

    // A job runner that panics fails its try (and is retried); the worker goes on.
    let bad = app.post_id("kaboom").await;
    logged(&seen, &format!("job-panics:{bad}")).await;
    let good = app.post_id("fine").await;
    logged(&seen, &format!("job:{good}")).await;
    logged(&seen, &format!("job:{post}")).await;

    // Each event ran once, and a reply is not a post_published.
    let log = seen.log();
    assert_eq!(
        log.iter()
            .filter(|e| e.starts_with(&format!("post_published:{post}:")))
            .count(),
        1,
        "{log:?}"
    );
    assert!(
        !log.iter()
            .any(|e| e.starts_with(&format!("post_published:{reply}:"))),
        "{log:?}"
    );
}

async fn slots_front_query_and_mail_filters(backend: Backend) {
    let Some((app, seen)) = spawn_probe(backend).await else {
        return;
    };
    app.setup_admin().await;
    let html = app.get_html("/").await;
    assert!(
        html.contains(r#"<meta name="probe" content="on">"#),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            r#"<p class="probe-sidebar">Probe for {ADMIN}</p>"#
        )),
        "{html}"
    );
    assert!(html.contains(r#"<aside class="sidebar""#));

    let old = app.post_id("The oldest post").await;
    let hidden = app.post_id("A post to hide").await;
    let newest = app.post_id("The newest post").await;
    seen.hide.lock().unwrap().push(hidden);
    seen.pin.lock().unwrap().push(old);
    let ids = post_ids(&app.get_html("/").await);
    assert_eq!(ids, vec![old, newest], "pinned first, hidden gone");
    // The permalink of a hidden post still works.
    assert_eq!(app.get(&format!("/p/{hidden}")).await.status(), 200);

    // Outgoing mail passes the filter (mail goes to .eml files without SMTP).
    app.create_user("ben", "ben-password", Role::Member);
    app.post_id("@ben look").await;
    let text = app.first_mail_file().await;
    assert!(
        text.contains("Subject: [probe] [Posthaste] Ada Admin mentioned you"),
        "{text}"
    );
}

async fn admins_switch_plugins_without_restart(backend: Backend) {
    let Some((app, _seen)) = spawn_probe(backend).await else {
        return;
    };
    app.setup_admin().await;
    let admin = app.get_html("/admin").await;
    assert!(admin.contains(r#"id="plugin-probe""#), "{admin}");
    assert!(admin.contains(r#"id="plugin-webhooks""#));

    // A second node on the same database, started before the switch.
    let node = app.spawn_node_with_plugins(|_| {}, probe_plugins()).await;
    let node = {
        let n = node;
        assert_eq!(n.login(ADMIN, ADMIN_PASSWORD).await.status(), 303);
        n
    };
    assert!(node.get_html("/").await.contains("probe-sidebar"));

    let r = app.post_form("/admin/plugins/probe", &[("on", "0")]).await;
    assert_eq!(r.status(), 303);
    assert!(
        !app.get_html("/").await.contains("probe-sidebar"),
        "off at once here"
    );
    let r = app
        .client
        .post(app.url("/admin/plugins/probe"))
        .form(&[("on", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "CSRF token required");
    let bad = app.post_form("/admin/plugins/nope", &[("on", "1")]).await;
    assert_eq!(bad.status(), 404);

    // Rejections stop too, and the other node follows within a tick.
    assert_eq!(
        app.post_form("/posts", &[("body", "forbidden now allowed")])
            .await
            .status(),
        303
    );
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while node.get_html("/").await.contains("probe-sidebar") {
        assert!(
            std::time::Instant::now() < until,
            "the other node never followed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A node started now reads the stored choice, whatever its configuration says.
    let later = app.spawn_node_with_plugins(|_| {}, probe_plugins()).await;
    assert_eq!(later.login(ADMIN, ADMIN_PASSWORD).await.status(), 303);
    assert!(!later.get_html("/").await.contains("probe-sidebar"));

    // Members may not switch plugins.
    app.create_user("ana", "ana-password", Role::Member);
    let ana = app.other_client();
    assert_eq!(ana.login("ana", "ana-password").await.status(), 303);
    let r = ana.post_form("/admin/plugins/probe", &[("on", "1")]).await;
    assert_eq!(r.status(), 403);

    // And back on.
    let r = app.post_form("/admin/plugins/probe", &[("on", "1")]).await;
    assert_eq!(r.status(), 303);
    assert!(app.get_html("/").await.contains("probe-sidebar"));
}

fn probe_plugins() -> Vec<Arc<dyn Plugin>> {
    let mut plugins = posthaste_app::plugins();
    plugins.push(Arc::new(Probe(Arc::new(Seen::default()))));
    plugins
}

on_both_backends!(
    content_filters_reject_isolate_and_rewrite,
    actions_run_after_commit_in_the_worker,
    slots_front_query_and_mail_filters,
    admins_switch_plugins_without_restart,
);

#[test]
fn unknown_plugins_in_the_configuration_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let raw = posthaste::config::RawSettings {
        data_dir: dir.path().to_path_buf(),
        plugins: vec!["tags".into(), "nope".into()],
        ..Default::default()
    };
    let config = raw.validate().unwrap();
    let err = match posthaste::hooks::Registry::build(&config, posthaste_app::plugins()) {
        Ok(_) => panic!("an unknown plugin must be refused"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("no plugin `nope`"), "{err}");
    assert!(err.contains("tags, "), "lists what is compiled in: {err}");
}

#[test]
fn the_example_in_the_docs_is_the_shipped_plugin() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = std::fs::read_to_string(root.join("docs/plugins.md")).unwrap();
    let code = std::fs::read_to_string(root.join("plugins/secret-guard/src/lib.rs")).unwrap();
    let start = docs
        .find("<!-- example:start -->\n```rust\n")
        .expect("example marker in docs/plugins.md")
        + "<!-- example:start -->\n```rust\n".len();
    let end = start + docs[start..].find("```\n<!-- example:end -->").unwrap();
    assert_eq!(
        &docs[start..end],
        code,
        "docs/plugins.md shows the compiled example"
    );
    assert!(
        code.lines().count() < 50,
        "the example stays under 50 lines"
    );
}
