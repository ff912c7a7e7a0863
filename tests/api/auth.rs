//! First-run setup, sign in/out, throttling, private-site redirects, session revocation.

use crate::both_backends;
use crate::helpers::*;
use posthaste::users::{self, password, Password, Role};

both_backends! {
    async fn setup_creates_admin_once(app: TestApp) {
        let r = app.get("/").await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/setup");
        assert_eq!(location(&app.get("/login").await), "/setup");

        // Invalid input: 422 with the reasons, nothing stored.
        let token = app.csrf().await;
        let r = app.client.post(app.url("/setup")).form(&[
            ("csrf_token", token.as_str()), ("username", "A!"), ("display_name", ""),
            ("email", "nope"), ("password", "short"), ("password_confirm", "other"),
        ]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("Username may only use letters"), "{html}");
        assert!(html.contains("valid email address"));
        assert!(html.contains("at least 8 characters"));
        assert!(html.contains("do not match"));
        assert_eq!(app.db(|c| users::count(c).unwrap()), 0);

        app.setup_admin().await;
        let home = app.get_html("/").await;
        assert!(home.contains("Ada Admin"), "signed in after setup");
        let admin = app.db(|c| users::find_by_login(c, ADMIN).unwrap().unwrap());
        assert_eq!(admin.role(), Role::Admin);
        assert!(admin.password_hash.starts_with("$argon2id$"));

        // Setup is closed now, for everyone.
        let other = app.other_client();
        assert_eq!(location(&other.get("/setup").await), "/login");
        let r = other.post_form("/setup", &[
            ("username", "mallory"), ("display_name", "M"), ("email", "m@example.com"),
            ("password", "password123"), ("password_confirm", "password123"),
        ]).await;
        assert_eq!(location(&r), "/login");
        assert_eq!(app.db(|c| users::count(c).unwrap()), 1);
    }

    async fn sign_in_right_and_wrong_password(app: TestApp) {
        app.create_user("ana", "ana-password", Role::Member);
        let r = app.login("ana", "wrong-password").await;
        assert_eq!(r.status(), 401);
        assert!(r.text().await.unwrap().contains("Wrong username/email or password"));
        assert_eq!(location(&app.get("/").await), "/login");

        let r = app.login("nobody", "whatever-pw").await;
        assert_eq!(r.status(), 401, "unknown users get the same answer");

        // Case-insensitive username and email both work.
        let r = app.login("ANA", "ana-password").await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/");
        assert_eq!(app.get("/").await.status(), 200);
        let other = app.other_client();
        assert_eq!(other.login("Ana@Example.com", "ana-password").await.status(), 303);

        // `next` is followed, but only within the site.
        let third = app.other_client();
        let r = third.post_form("/login", &[("login", "ana"), ("password", "ana-password"), ("next", "//evil.example/")]).await;
        assert_eq!(location(&r), "/");
    }

    async fn failed_sign_ins_are_throttled_per_account(app: TestApp) {
        app.create_user("ana", "ana-password", Role::Member);
        for _ in 0..5 {
            assert_eq!(app.login("ana", "bad-password").await.status(), 401);
        }
        // Even the right password is refused while throttled, with a clear page.
        let r = app.login("ana", "ana-password").await;
        assert_eq!(r.status(), 429);
        assert!(r.headers().get("retry-after").is_some());
        let html = r.text().await.unwrap();
        assert!(html.contains("Too many failed sign-in attempts"), "{html}");
        assert!(html.contains("site-header"), "error page is in the layout");
        // Another account from the same IP is not affected yet.
        app.create_user("ben", "ben-password", Role::Member);
        assert_eq!(app.other_client().login("ben", "ben-password").await.status(), 303);
    }

    async fn failed_sign_ins_are_throttled_per_ip(app: TestApp) {
        app.create_user("ana", "ana-password", Role::Member);
        for i in 0..30 {
            let r = app.login(&format!("guess{i}"), "bad-password").await;
            assert_eq!(r.status(), 401);
        }
        assert_eq!(app.login("ana", "ana-password").await.status(), 429);
    }

    async fn sign_out_ends_the_session_on_the_server(app: TestApp) {
        app.create_user("ana", "ana-password", Role::Member);
        let r = app.login("ana", "ana-password").await;
        let cookie = session_cookie(&r);
        // Replaying the cookie from a bare client works while signed in ...
        assert_eq!(with_cookie(&app, "/", &cookie).await, 200);
        let r = app.post_form("/logout", &[]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/login");
        // ... and not after sign-out: the server forgot it.
        assert_eq!(with_cookie(&app, "/", &cookie).await, 303);
        assert_eq!(location(&app.get("/").await), "/login");
    }

    async fn password_change_ends_every_session(app: TestApp) {
        let ana = app.create_user("ana", "ana-password", Role::Member);
        let c1 = session_cookie(&app.login("ana", "ana-password").await);
        let other = app.other_client();
        let c2 = session_cookie(&other.login("ana", "ana-password").await);
        assert_eq!(with_cookie(&app, "/", &c1).await, 200);
        assert_eq!(with_cookie(&app, "/", &c2).await, 200);
        let hash = password::hash(&Password::parse("new-password-9").unwrap()).unwrap();
        app.db(|c| users::set_password_hash(c, ana.user_id(), &hash).unwrap());
        assert_eq!(with_cookie(&app, "/", &c1).await, 303);
        assert_eq!(with_cookie(&app, "/", &c2).await, 303);
        assert_eq!(app.other_client().login("ana", "new-password-9").await.status(), 303);
    }

    async fn session_is_renewed_at_sign_in(app: TestApp) {
        app.create_user("ana", "ana-password", Role::Member);
        let r = app.get("/login").await;
        let before = session_cookie(&r);
        let after = session_cookie(&app.login("ana", "ana-password").await);
        assert_ne!(before, after, "a new session key at sign-in (no fixation)");
        assert_eq!(with_cookie(&app, "/", &before).await, 303, "the pre-login key is dead");
    }

    async fn private_site_redirects_to_sign_in(app: TestApp) {
        app.create_user("ana", "ana-password", Role::Member);
        let r = app.get("/").await;
        assert_eq!(location(&r), "/login");
        let r = app.get("/p/1?x=1").await;
        assert_eq!(location(&r), "/login?next=%2Fp%2F1%3Fx%3D1");
        let r = app.post_form("/posts", &[("body", "anonymous")]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(app.post_count(), 0);
        // Public: health, assets, the sign-in page.
        assert_eq!(app.get("/healthz").await.status(), 200);
        assert_eq!(app.get("/assets/app.css").await.status(), 200);
        assert_eq!(app.get("/login").await.status(), 200);
        // After signing in, `next` brings the member back.
        let r = app.post_form("/login", &[("login", "ana"), ("password", "ana-password"), ("next", "/p/1?x=1")]).await;
        assert_eq!(location(&r), "/p/1?x=1");
    }

    async fn cookie_flags(app: TestApp) {
        app.create_user("ana", "ana-password", Role::Member);
        let r = app.get("/login").await;
        let raw = r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>().join("\n");
        assert!(raw.contains("posthaste_session="), "{raw}");
        assert!(raw.contains("HttpOnly"), "{raw}");
        assert!(raw.contains("SameSite=Lax"), "{raw}");
        assert!(!raw.contains("Secure"), "plain http in dev: {raw}");
    }
}

/// The session cookie a response set.
pub fn session_cookie(r: &reqwest::Response) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("posthaste_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("session cookie set")
}

/// Status of GET `path` sent with only `cookie`, from a client without a jar.
pub async fn with_cookie(app: &TestApp, path: &str, cookie: &str) -> u16 {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn secure_cookie_when_public_url_is_https() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.public_url = Some("https://team.example.com".into())
    })
    .await
    .unwrap();
    app.create_user("ana", "ana-password", Role::Member);
    let r = app.get("/login").await;
    let raw = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(raw.contains("Secure"), "{raw}");
}
