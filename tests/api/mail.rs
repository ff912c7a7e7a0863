//! Mention mail through the durable job queue: one mail per mention, with the right subject and
//! link; SMTP outages delay mail without failing posts; pending mail survives a restart; two
//! nodes' workers deliver each mail once; edits notify only new mentions; no SMTP → .eml files.

use std::time::Duration;

use crate::helpers::*;
use crate::on_both_backends;
use crate::smtp::{app_with_smtp, SmtpServer};
use diesel::prelude::*;
use posthaste::db::schema::jobs;
use posthaste::users::Role;

fn job_states(app: &TestApp) -> Vec<(String, i32)> {
    app.db(|c| {
        jobs::table
            .order(jobs::id.asc())
            .select((jobs::state, jobs::attempts))
            .load(c)
            .unwrap()
    })
}

/// A header's value, unfolded (long headers continue on lines that start with a space).
fn header(msg: &str, name: &str) -> Option<String> {
    let head = msg
        .split("\r\n\r\n")
        .next()
        .unwrap_or(msg)
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ");
    head.lines().find_map(|l| {
        l.strip_prefix(name)
            .and_then(|r| r.strip_prefix(": "))
            .map(str::to_string)
    })
}

async fn a_mention_sends_exactly_one_mail(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(backend, &smtp).await;
    app.setup_admin().await;
    app.create_user("ana", "ana-password", Role::Member);
    let id = app
        .post_id("@ana can you check the release notes? @ana @ANA")
        .await;
    let mails = smtp.wait_for(1, 10).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert_eq!(
        header(m, "To").as_deref(),
        Some("\"Ana Tester\" <ana@example.com>"),
        "{m}"
    );
    // The first 8 words and "…"; non-ASCII (the ellipsis) is RFC 2047-encoded by lettre.
    let subject = header(m, "Subject").unwrap();
    assert!(
        subject.starts_with(
            "[Posthaste] Ada Admin mentioned you: @ana can you check the release notes? "
        ) && subject.ends_with("=?utf-8?b?QGFuYeKApg==?="),
        "{subject}"
    );
    assert!(
        m.contains("href=3D\"http://posthaste.test/u/ana\""),
        "absolute links in mail: {m}"
    );
    assert!(
        header(m, "From")
            .unwrap()
            .contains("Ada Admin via Posthaste")
            && m.contains("team@posthaste.test"),
        "{m}"
    );
    assert!(
        m.contains("Content-Type: multipart/alternative"),
        "text and HTML parts: {m}"
    );
    assert!(
        m.contains(&format!("http://posthaste.test/p/{id}")),
        "link to the post: {m}"
    );
    let unsubscribe = header(m, "List-Unsubscribe").expect("List-Unsubscribe header");
    assert!(
        unsubscribe.starts_with("<http://posthaste.test/unsubscribe/")
            && unsubscribe.contains("/mention/"),
        "{unsubscribe}"
    );
    assert_eq!(
        header(m, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    // A reply's mail links to its anchor; the author is never mailed about their own mention.
    let r = app
        .reply(id, id, "thanks @ana, and note to self @admin")
        .await;
    let mails = smtp.wait_for(2, 10).await;
    assert_eq!(mails.len(), 2);
    assert!(
        mails[1].contains(&format!("http://posthaste.test/p/{id}#r-{r}")),
        "{}",
        mails[1]
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.messages().len(), 2, "nothing sent twice");
    assert!(job_states(&app).iter().all(|(s, _)| s == "done"));
}

async fn smtp_outage_delays_mail_but_not_posts(backend: Backend) {
    let mut smtp = SmtpServer::stopped().await;
    let app = app_with_smtp(backend, &smtp).await;
    app.setup_admin().await;
    app.create_user("ana", "ana-password", Role::Member);
    let started = std::time::Instant::now();
    app.post_id("@ana while the mail server is down").await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the post does not wait for mail"
    );
    // The worker tries, fails and reschedules.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let s = job_states(&app);
        if s.len() == 1 && s[0].1 >= 1 && s[0].0 == "pending" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no retry recorded: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let err: Option<String> = app.db(|c| jobs::table.select(jobs::last_error).first(c).unwrap());
    assert!(err.unwrap_or_default().contains("SMTP"));
    smtp.restart().await;
    let mails = smtp.wait_for(1, 15).await;
    assert_eq!(mails.len(), 1, "delivered once SMTP is back");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 1);
}

async fn pending_mail_survives_a_restart(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    // A node without a worker takes the post; then it is gone, as if killed.
    let first = TestApp::spawn_with(backend, move |s| {
        s.smtp_url = Some(url);
        s.worker = false;
    })
    .await
    .expect("backend");
    first.setup_admin().await;
    first.create_user("ana", "ana-password", Role::Member);
    first.post_id("@ana before the restart").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(smtp.messages().is_empty());
    assert_eq!(job_states(&first), vec![("pending".to_string(), 0)]);
    // A new process on the same database delivers it, once.
    let second = first
        .spawn_node(|c| {
            c.worker = true;
            c.worker_poll_ms = 50;
        })
        .await;
    assert_eq!(smtp.wait_for(1, 10).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.messages().len(), 1);
    assert_eq!(job_states(&second), vec![("done".to_string(), 1)]);
}

async fn two_workers_deliver_each_mail_once(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(backend, &smtp).await;
    let _other = app.spawn_node(|_| {}).await;
    app.setup_admin().await;
    for i in 0..10 {
        app.create_user(&format!("member{i}"), "member-password", Role::Member);
    }
    let everyone: String = (0..10).map(|i| format!("@member{i} ")).collect();
    for n in 0..3 {
        app.post_id(&format!("round {n}: {everyone}")).await;
    }
    let mails = smtp.wait_for(30, 20).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails_now = smtp.messages();
    assert_eq!(
        mails_now.len(),
        30,
        "30 mentions, 30 mails, none twice (got {})",
        mails.len()
    );
    let mut keys: Vec<(String, String)> = mails_now
        .iter()
        .map(|m| {
            (
                header(m, "To").unwrap().to_string(),
                header(m, "Subject").unwrap().to_string(),
            )
        })
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 30, "each recipient got each post's mail once");
}

async fn edits_notify_only_new_mentions(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(backend, &smtp).await;
    app.setup_admin().await;
    app.create_user("ana", "ana-password", Role::Member);
    app.create_user("ben", "ben-password", Role::Member);
    let id = app.post_id("cc @ana").await;
    assert_eq!(smtp.wait_for(1, 10).await.len(), 1);
    let r = app
        .post_form(&format!("/p/{id}/edit"), &[("body", "cc @ana and @ben")])
        .await;
    assert_eq!(r.status(), 303);
    let mails = smtp.wait_for(2, 10).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        smtp.messages().len(),
        2,
        "only Ben is new; jobs: {:?}",
        job_states(&app)
    );
    assert!(header(&mails[1], "To").unwrap().contains("ben@example.com"));
}

fn subjects_to(mails: &[String], addr: &str) -> Vec<String> {
    mails
        .iter()
        .filter(|m| header(m, "To").is_some_and(|t| t.contains(addr)))
        .map(|m| header(m, "Subject").unwrap())
        .collect()
}

async fn replies_notify_the_people_answered(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(backend, &smtp).await;
    app.setup_admin().await;
    for n in ["ana", "ben", "cy"] {
        app.create_user(n, &format!("{n}-password"), Role::Member);
    }
    let (ana, ben, cy) = (
        signed_in(&app, "ana").await,
        signed_in(&app, "ben").await,
        signed_in(&app, "cy").await,
    );
    let post = ana.post_id("Deploy plan for Friday").await;
    let b1 = ben.reply(post, post, "Looks fine").await; // → Ana: reply to your post
    ana.reply(post, b1, "Thanks Ben").await; // → Ben: reply to your reply (Ana is the replier and the thread's author)
    cy.reply(post, b1, "Agree with Ben").await; // → Ben: reply to your reply; Ana: reply to your post
    ben.reply(post, post, "@ana one more thing").await; // → Ana: only the mention
    let mails = smtp.wait_for(5, 15).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        smtp.messages().len(),
        5,
        "{:?}",
        mails
            .iter()
            .map(|m| header(m, "Subject"))
            .collect::<Vec<_>>()
    );
    let to_ana = subjects_to(&mails, "ana@example.com");
    let to_ben = subjects_to(&mails, "ben@example.com");
    assert_eq!(
        to_ana,
        vec![
            "[Posthaste] Ben Tester replied to your post: Looks fine".to_string(),
            "[Posthaste] Cy Tester replied to your post: Agree with Ben".to_string(),
            "[Posthaste] Ben Tester mentioned you: @ana one more thing".to_string(),
        ]
    );
    assert_eq!(
        to_ben,
        vec![
            "[Posthaste] Ana Tester replied to your reply: Thanks Ben".to_string(),
            "[Posthaste] Cy Tester replied to your reply: Agree with Ben".to_string(),
        ]
    );
    assert!(subjects_to(&mails, "cy@example.com").is_empty());
}

async fn preferences_and_one_click_unsubscribe(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(backend, &smtp).await;
    app.setup_admin().await;
    app.create_user("ana", "ana-password", Role::Member);
    let ana = signed_in(&app, "ana").await;
    // Ana turns mention mail off on her settings page.
    let page = ana.get_html("/settings").await;
    assert!(page.contains("name=\"mention\" checked"), "{page}");
    let r = ana
        .post_form("/settings", &[("reply_post", "on"), ("reply_reply", "on")])
        .await;
    assert_eq!(location(&r), "/settings?saved=1");
    assert!(!ana
        .get_html("/settings")
        .await
        .contains("name=\"mention\" checked"));
    app.post_id("@ana you will not hear about this").await;
    // Replies to her post still mail her, with a one-click unsubscribe header.
    let post = ana.post_id("Ana's question").await;
    app.reply(post, post, "An answer").await;
    let mails = smtp.wait_for(1, 10).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.messages().len(), 1, "the mention was not mailed");
    let m = &mails[0];
    assert!(header(m, "Subject")
        .unwrap()
        .contains("replied to your post"));
    assert_eq!(
        header(m, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let url = header(m, "List-Unsubscribe").unwrap();
    let path = url
        .trim_matches(['<', '>'])
        .strip_prefix("http://posthaste.test")
        .expect("absolute URL")
        .to_string();
    assert!(path.starts_with("/unsubscribe/"), "{path}");
    // Without signing in: the page asks first; the one-click POST unsubscribes.
    let anon = app.other_client();
    let r = anon.get(&path).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Stop these emails?"));
    let r = anon
        .client
        .post(anon.url(&path))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(!ana
        .get_html("/settings")
        .await
        .contains("name=\"reply_post\" checked"));
    // A forged or altered link changes nothing.
    let forged = format!("{}0000", &path[..path.len() - 4]);
    assert_eq!(
        anon.client
            .post(anon.url(&forged))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let other_kind = path.replace("reply_post", "reply_reply");
    assert_eq!(
        anon.client
            .post(anon.url(&other_kind))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert!(ana
        .get_html("/settings")
        .await
        .contains("name=\"reply_reply\" checked"));
}

async fn signed_in(app: &TestApp, name: &str) -> TestApp {
    let c = app.other_client();
    assert_eq!(
        c.login(name, &format!("{name}-password")).await.status(),
        303
    );
    c
}

on_both_backends!(
    pending_mail_survives_kill_9,
    replies_notify_the_people_answered,
    preferences_and_one_click_unsubscribe,
    a_mention_sends_exactly_one_mail,
    smtp_outage_delays_mail_but_not_posts,
    pending_mail_survives_a_restart,
    two_workers_deliver_each_mail_once,
    edits_notify_only_new_mentions,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_mail_is_written_to_files() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.worker_poll_ms = 50)
        .await
        .unwrap();
    app.setup_admin().await;
    app.create_user("ana", "ana-password", Role::Member);
    app.post_id("@ana look at this").await;
    let text = app.first_mail_file().await;
    assert!(
        text.contains("Subject: [Posthaste] Ada Admin mentioned you: @ana look at this"),
        "{text}"
    );
}

/// The real binary, killed with SIGKILL while a mail is pending (SMTP down), then started
/// again: the mail goes out once SMTP is back, exactly once.
async fn pending_mail_survives_kill_9(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(database) = TestDatabase::new(backend, dir.path()) else {
        return;
    };
    let mut smtp = SmtpServer::stopped().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let envs: Vec<(String, String)> = vec![
        (
            "POSTHASTE_DATA_DIR".into(),
            dir.path().display().to_string(),
        ),
        ("DATABASE_URL".into(), database.url.clone()),
        ("POSTHASTE_ADDR".into(), format!("127.0.0.1:{port}")),
        ("POSTHASTE_SMTP_URL".into(), smtp.url()),
        ("POSTHASTE_WORKER_POLL_MS".into(), "50".into()),
        ("POSTHASTE_RETRY_BASE_SECS".into(), "1".into()),
        ("POSTHASTE_LOG".into(), "warn".into()),
    ];
    let command = |args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_posthaste"));
        c.args(args).env_remove("DATABASE_URL").env_remove("PORT");
        for (k, v) in &envs {
            c.env(k, v);
        }
        c
    };
    for (name, admin) in [("admin", true), ("ana", false)] {
        let mut args = vec!["user", "add", "--username", name, "--email"];
        let email = format!("{name}@example.com");
        args.push(&email);
        args.push("--password-stdin");
        if admin {
            args.push("--admin");
        }
        let out = run_with_input(command(&args), &format!("{name}-password\n"));
        assert!(out.status.success(), "{out:?}");
    }
    let start = |c: &dyn Fn(&[&str]) -> std::process::Command| {
        c(&["serve"])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let base = format!("http://127.0.0.1:{port}");
    let wait_up = || async {
        for _ in 0..300 {
            if reqwest::get(format!("{base}/healthz"))
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("server did not start");
    };
    let mut first = start(&command);
    wait_up().await;
    let client = cookie_client();
    let token = csrf_of(&client, &format!("{base}/login")).await;
    let r = client
        .post(format!("{base}/login"))
        .form(&[
            ("login", "admin"),
            ("password", "admin-password"),
            ("csrf_token", &token),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let token = csrf_of(&client, &format!("{base}/")).await;
    let r = client
        .post(format!("{base}/posts"))
        .form(&[("body", "@ana before the crash"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "the post succeeds while SMTP is down");
    tokio::time::sleep(Duration::from_millis(400)).await;
    first.kill().unwrap(); // SIGKILL: no graceful shutdown
    first.wait().unwrap();
    assert!(smtp.messages().is_empty());
    smtp.restart().await;
    let mut second = start(&command);
    wait_up().await;
    let mails = smtp.wait_for(1, 15).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(
        smtp.messages().len(),
        1,
        "delivered exactly once after the restart"
    );
    assert!(mails[0].contains("ana@example.com"));
}
