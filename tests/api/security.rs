//! CSRF, cross-site requests, security headers, error pages, health.

use crate::both_backends;
use crate::helpers::*;

both_backends! {
    async fn csrf_is_required_on_every_form(app: TestApp) {
        app.setup_admin().await;
        // No token.
        let r = app.client.post(app.url("/posts")).form(&[("body", "no token")]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("This form has expired or came from another site"));
        // A wrong token.
        let r = app.client.post(app.url("/posts")).form(&[("body", "bad"), ("csrf_token", "forged")]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        // Another session's token.
        let other = app.other_client();
        let theirs = other.csrf().await;
        let r = app.client.post(app.url("/posts")).form(&[("body", "x"), ("csrf_token", theirs.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        // Sign-out needs it too (no logout CSRF).
        let r = app.client.post(app.url("/logout")).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(app.get("/").await.status(), 200, "still signed in");
        assert_eq!(app.post_count(), 0);
    }

    async fn cross_site_requests_are_refused(app: TestApp) {
        app.setup_admin().await;
        let token = app.csrf().await;
        let r = app.client.post(app.url("/posts")).header("Origin", "https://evil.example")
            .form(&[("body", "x"), ("csrf_token", token.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let r = app.client.post(app.url("/posts")).header("Sec-Fetch-Site", "cross-site")
            .form(&[("body", "x"), ("csrf_token", token.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(app.post_count(), 0);
        // Same origin with the right token is fine.
        let r = app.client.post(app.url("/posts")).header("Origin", app.address.as_str())
            .header("Sec-Fetch-Site", "same-origin")
            .form(&[("body", "ok"), ("csrf_token", token.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(app.post_count(), 1);
    }

    async fn security_headers_on_pages(app: TestApp) {
        let r = app.get("/login").await;
        let h = r.headers();
        let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        assert!(h.get("referrer-policy").is_some());
        let html = r.text().await.unwrap();
        assert!(!html.contains(" style=\""), "no inline styles (CSP)");
        assert!(!html.contains("<script>"), "no inline scripts (CSP)");
    }

    async fn health_and_errors(app: TestApp) {
        let r = app.get("/healthz").await;
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["status"], "ok");
        assert_eq!(v["database"], match app.backend { Backend::Sqlite => "sqlite", Backend::Mysql => "mysql" });
        let r = app.get("/no/such/page").await;
        assert_eq!(r.status(), 404);
        let html = r.text().await.unwrap();
        assert!(html.contains("Not found") && html.contains("site-header"), "{html}");
        let r = app.client.delete(app.url("/posts")).send().await.unwrap();
        assert!(r.status().is_client_error());
        assert_eq!(app.get("/assets/../Cargo.toml").await.status(), 404);
        assert_eq!(app.get("/assets/nope.css").await.status(), 404);
        let r = app.get("/assets/app.js").await;
        assert!(r.headers().get("cache-control").unwrap().to_str().unwrap().contains("immutable"));
    }

    async fn server_errors_get_a_page_without_details(app: TestApp) {
        app.setup_admin().await;
        // Break the database under the running app.
        app.db(|c| {
            use diesel::connection::SimpleConnection;
            c.batch_execute("ALTER TABLE posts RENAME TO posts_gone").unwrap()
        });
        let r = app.get("/").await;
        assert_eq!(r.status(), 500);
        let html = r.text().await.unwrap();
        assert!(html.contains("Something went wrong") && html.contains("site-header"), "{html}");
        assert!(!html.to_lowercase().contains("posts"), "no table names or SQL leak: {html}");
        assert!(!html.contains("no such table") && !html.contains("doesn't exist"));
        let r = app.get("/healthz").await;
        assert_eq!(r.status(), 200, "the database itself still answers");
    }
}
