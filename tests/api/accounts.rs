//! Password reset and invitations by email (single-use, expiring tokens), and the admin page's
//! failed jobs.

use std::time::Duration;

use crate::helpers::*;
use crate::on_both_backends;
use crate::smtp::{app_with_smtp, SmtpServer};
use diesel::prelude::*;
use posthaste::db::schema::{jobs, tokens};
use posthaste::users::{self, Role};

/// The path of the first `http://posthaste.test/...` link in a mail (decoding quoted-printable
/// soft breaks).
fn link_in(mail: &str, prefix: &str) -> String {
    let text = mail.replace("=\r\n", "");
    let start = text
        .find(&format!("http://posthaste.test{prefix}"))
        .expect("link")
        + "http://posthaste.test".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_'))
        .collect()
}

/// Chooses a new password on a reset link (`path`), typed twice.
async fn set_password(client: &TestApp, path: &str, password: &str) -> reqwest::Response {
    client
        .post_form(
            path,
            &[("password", password), ("password_confirm", password)],
        )
        .await
}

/// The status of signing in as `login` with `password` in a fresh session.
async fn login_status(app: &TestApp, login: &str, password: &str) -> u16 {
    app.other_client()
        .login(login, password)
        .await
        .status()
        .as_u16()
}

/// Moves every token's expiry into the past.
fn expire_all_tokens(app: &TestApp) {
    app.db(|c| {
        diesel::update(tokens::table)
            .set(tokens::expires_at.eq(posthaste::db::now() - chrono::Duration::minutes(1)))
            .execute(c)
            .unwrap()
    });
}

async fn password_reset_by_email(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(backend, &smtp).await;
    app.setup_admin().await;
    app.create_user("ana", "ana-password", Role::Member);
    let signed_in = app.other_client();
    signed_in.login("ana", "ana-password").await;
    // The same answer for a known and an unknown address; only the known one gets mail.
    let anon = app.other_client();
    let known = anon
        .post_form("/reset", &[("email", "ANA@example.com")])
        .await
        .text()
        .await
        .unwrap();
    let unknown = anon
        .post_form("/reset", &[("email", "nobody@example.com")])
        .await
        .text()
        .await
        .unwrap();
    let strip = |s: &str| s.replace(&crate::helpers::csrf_in(s).unwrap_or_default(), "");
    assert_eq!(strip(&known), strip(&unknown));
    let mails = smtp.wait_for(1, 10).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 1);
    assert!(mails[0].contains("To: \"Ana Tester\" <ana@example.com>"));
    let path = link_in(&mails[0], "/reset/");
    // The link sets a new password, ends every session, and works once.
    assert_eq!(anon.get(&path).await.status(), 200);
    let r = set_password(&anon, &path, "brand-new-pass").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Password changed"));
    assert_eq!(signed_in.get("/").await.status(), 303, "old session ended");
    assert_eq!(login_status(&app, "ana", "brand-new-pass").await, 303);
    assert_eq!(anon.get(&path).await.status(), 410);
    let r = set_password(&anon, &path, "another-pass-1").await;
    assert_eq!(r.status(), 410, "single use");
    assert_eq!(login_status(&app, "ana", "another-pass-1").await, 401);
    // At most one reset mail per member per 5 minutes (no inbox flooding).
    anon.post_form("/reset", &[("email", "ana@example.com")])
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.messages().len(), 1, "rate-limited");
    app.db(|c| {
        diesel::update(jobs::table)
            .set(jobs::created_at.eq(posthaste::db::now() - chrono::Duration::minutes(10)))
            .execute(c)
            .unwrap()
    });
    // An expired link does nothing.
    anon.post_form("/reset", &[("email", "ana@example.com")])
        .await;
    let mails = smtp.wait_for(2, 10).await;
    let path = link_in(&mails[1], "/reset/");
    expire_all_tokens(&app);
    assert_eq!(anon.get(&path).await.status(), 410);
    let r = set_password(&anon, &path, "too-late-pass").await;
    assert_eq!(r.status(), 410);
    assert_eq!(login_status(&app, "ana", "brand-new-pass").await, 303);
}

async fn invitations_by_email(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(backend, &smtp).await;
    app.setup_admin().await;
    app.create_user("ben", "ben-password", Role::Member);
    // Members cannot invite; admins can.
    let ben = app.other_client();
    ben.login("ben", "ben-password").await;
    assert_eq!(
        ben.post_form("/admin/invites", &[("email", "eve@example.com")])
            .await
            .status(),
        403
    );
    assert_eq!(ben.get("/admin").await.status(), 403);
    assert_eq!(
        app.post_form("/admin/invites", &[("email", "ben@example.com")])
            .await
            .status(),
        400,
        "already a member"
    );
    let r = app
        .post_form("/admin/invites", &[("email", "zoe@example.com")])
        .await;
    assert_eq!(location(&r), "/admin?notice=invited");
    let mails = smtp.wait_for(1, 10).await;
    assert_eq!(mails.len(), 1, "only the admin's invitation");
    assert!(mails[0].contains("To: zoe@example.com"), "{}", mails[0]);
    let path = link_in(&mails[0], "/invite/");
    // Zoe chooses her name; a taken username keeps the invitation usable.
    let zoe = app.other_client();
    let page = zoe.get(&path).await.text().await.unwrap();
    assert!(page.contains("zoe@example.com"));
    let r = zoe
        .post_form(
            &path,
            &[
                ("username", "ben"),
                ("display_name", "Zoe"),
                ("password", "zoe-password"),
                ("password_confirm", "zoe-password"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = zoe
        .post_form(
            &path,
            &[
                ("username", "zoe"),
                ("display_name", "Zoë Z"),
                ("password", "zoe-password"),
                ("password_confirm", "zoe-password"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/");
    assert!(zoe.get_html("/").await.contains("Zoë Z"), "signed in");
    let u = app.db(|c| users::find_by_login(c, "zoe").unwrap().unwrap());
    assert_eq!(
        (u.email.as_str(), u.role()),
        ("zoe@example.com", Role::Member)
    );
    // Single use.
    let again = app.other_client();
    assert_eq!(again.get(&path).await.status(), 410);
    let r = again
        .post_form(
            &path,
            &[
                ("username", "zoe2"),
                ("display_name", "Z"),
                ("password", "zoe-password"),
                ("password_confirm", "zoe-password"),
            ],
        )
        .await;
    assert_eq!(r.status(), 410);
    // Expired invitations do nothing.
    app.post_form("/admin/invites", &[("email", "late@example.com")])
        .await;
    let mails = smtp.wait_for(2, 10).await;
    let path = link_in(&mails[1], "/invite/");
    expire_all_tokens(&app);
    assert_eq!(app.other_client().get(&path).await.status(), 410);
    assert_eq!(app.db(|c| users::count(c).unwrap()), 3);
}

async fn admins_see_and_retry_failed_jobs(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(backend, &smtp).await;
    app.setup_admin().await;
    app.create_user("ana", "ana-password", Role::Member);
    app.db(|c| {
        diesel::insert_into(jobs::table)
            .values((
                jobs::kind.eq("mention_mail"),
                jobs::payload.eq(r#"{"kind":"mention_mail","post":1,"user":2}"#),
                jobs::state.eq("failed"),
                jobs::attempts.eq(8),
                jobs::run_at.eq(posthaste::db::now()),
                jobs::last_error.eq(Some("SMTP: connection refused")),
                jobs::created_at.eq(posthaste::db::now()),
                jobs::updated_at.eq(posthaste::db::now()),
            ))
            .execute(c)
            .unwrap()
    });
    let page = app.get_html("/admin").await;
    assert!(
        page.contains("mention_mail") && page.contains("SMTP: connection refused"),
        "{page}"
    );
    let id: i32 = app.db(|c| jobs::table.select(jobs::id).first(c).unwrap());
    let r = app.post_form(&format!("/admin/jobs/{id}/retry"), &[]).await;
    assert_eq!(location(&r), "/admin?notice=retried");
    // Back in the queue: the worker runs it (post 1 does not exist, so it completes quietly).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let state: String = app.db(|c| jobs::table.find(id).select(jobs::state).first(c).unwrap());
    assert_eq!(state, "done");
    assert!(app
        .get_html("/admin")
        .await
        .contains("None: every email and plugin task went through"));
}

on_both_backends!(
    password_reset_by_email,
    invitations_by_email,
    admins_see_and_retry_failed_jobs
);
