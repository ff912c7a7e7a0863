//! Posting from the front page, validation, pagination, permalinks, Markdown safety, emoji.

use crate::both_backends;
use crate::helpers::*;
use diesel::prelude::*;
use posthaste::db::schema::posts;

fn stored_bodies(app: &TestApp) -> Vec<String> {
    app.db(|c| {
        posts::table
            .order(posts::id.asc())
            .select(posts::body_md)
            .load::<String>(c)
            .unwrap()
    })
}

both_backends! {
    async fn posting_without_javascript(app: TestApp) {
        app.setup_admin().await;
        let r = app.publish("Shipped the new login page, can you check the copy?").await;
        assert_eq!(r.status(), 303);
        assert!(location(&r).starts_with("/#p-"), "{}", location(&r));
        let html = app.get_html("/").await;
        assert!(html.contains("Shipped the new login page, can you check the copy?"));
        assert!(html.contains("Ada Admin"));
        assert_eq!(post_ids(&html).len(), 1);
        // Newest first.
        app.publish("Second update").await;
        let ids = post_ids(&app.get_html("/").await);
        assert_eq!(ids.len(), 2);
        assert!(ids[0] > ids[1]);
    }

    async fn posting_with_htmx_returns_the_post(app: TestApp) {
        app.setup_admin().await;
        let token = app.csrf().await;
        let r = app.client.post(app.url("/posts")).header("HX-Request", "true")
            .form(&[("csrf_token", token.as_str()), ("body", "From **htmx**")]).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let html = r.text().await.unwrap();
        assert!(html.trim_start().starts_with("<article"), "a fragment, not a page: {html}");
        assert!(html.contains("<strong>htmx</strong>"));
        assert_eq!(post_ids(&html).len(), 1);
        // Validation errors go to the composer's error slot.
        let r = app.client.post(app.url("/posts")).header("HX-Request", "true")
            .form(&[("csrf_token", token.as_str()), ("body", "   ")]).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert_eq!(r.headers().get("hx-retarget").unwrap(), "#composer-error");
        assert!(r.text().await.unwrap().contains("empty post"));
        assert_eq!(app.post_count(), 1);
    }

    async fn invalid_posts_store_nothing(app: TestApp) {
        app.setup_admin().await;
        for (body, msg) in [
            ("", "empty post"),
            ("  \n\t\r\n  ", "empty post"),
            (&"x".repeat(20_001)[..], "at most 20000"),
        ] {
            let r = app.publish(body).await;
            assert_eq!(r.status(), 422, "{msg}");
            let html = r.text().await.unwrap();
            assert!(html.contains(msg), "{msg}: {}", &html[..html.len().min(300)]);
            assert!(html.contains("id=\"composer\""), "the front page with the box again");
        }
        assert_eq!(app.post_count(), 0);
        // The longest allowed post is accepted (multi-byte characters count as one).
        assert_eq!(app.publish(&"é".repeat(20_000)).await.status(), 303);
        assert_eq!(app.post_count(), 1);
    }

    async fn title_inference(app: TestApp) {
        app.setup_admin().await;
        app.publish("Release notes\nWe shipped **it**.").await;
        app.publish("Hey @ana look at this\nmore").await;
        let html = app.get_html("/").await;
        assert!(html.contains("Release notes</a>"), "titled post shows its title");
        let titles: Vec<Option<String>> = app.db(|c| posts::table.order(posts::id.asc()).select(posts::title).load(c).unwrap());
        assert_eq!(titles, vec![Some("Release notes".to_string()), None]);
        let id = post_ids(&html)[1];
        let page = app.get_html(&format!("/p/{id}")).await;
        assert!(page.contains("<title>Release notes"), "permalink <title>");
    }

    async fn pagination_across_many_posts(app: TestApp) {
        app.setup_admin().await;
        app.db(|c| posthaste::seed::run(c, 105, 3).unwrap());
        let mut seen = Vec::new();
        let mut path = "/".to_string();
        let mut pages = 0;
        loop {
            let html = app.get_html(&path).await;
            let ids = post_ids(&html);
            assert!(ids.len() <= 20);
            seen.extend(ids);
            pages += 1;
            match href_of(&html, "a.pager-older, a[rel=next]") {
                Some(next) => path = next,
                None => break,
            }
            assert!(pages < 20, "pagination must end");
        }
        assert_eq!(pages, 6);
        assert_eq!(seen.len(), 105, "every post exactly once");
        assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats");
        // A malformed cursor is a clear 400, not a crash.
        assert_eq!(app.get("/?before=abc").await.status(), 400);
    }

    async fn permalink_page(app: TestApp) {
        app.setup_admin().await;
        app.publish("A post with a permalink").await;
        let id = post_ids(&app.get_html("/").await)[0];
        let html = app.get_html(&format!("/p/{id}")).await;
        assert!(html.contains("A post with a permalink"));
        assert_eq!(post_ids(&html), vec![id]);
        assert_eq!(app.get("/p/999999").await.status(), 404);
        let r = app.get("/p/nope").await;
        assert_eq!(r.status(), 404);
        assert!(r.text().await.unwrap().contains("site-header"), "404 in the layout");
    }

    async fn markdown_is_sanitized(app: TestApp) {
        app.setup_admin().await;
        app.publish("<script>alert('x')</script>\n\n[click](javascript:alert(1))\n\n<img src=x onerror=alert(1)>\n\n<a href=\"JAVASCRIPT:alert(2)\" onclick=\"alert(3)\">a</a> <iframe src=\"https://evil.example\"></iframe> [ok](https://example.com)").await;
        let html = app.get_html("/").await;
        let doc = scraper::Html::parse_document(&html);
        let body = scraper::Selector::parse(".post-body").unwrap();
        let body = doc.select(&body).next().expect("post body");
        let all = scraper::Selector::parse("*").unwrap();
        for el in body.select(&all) {
            let name = el.value().name();
            assert!(!["script", "iframe", "object", "embed", "style"].contains(&name), "{name} survived");
            for (attr, value) in el.value().attrs() {
                assert!(!attr.starts_with("on"), "event handler {attr} survived");
                assert!(!value.to_lowercase().contains("javascript:"), "{attr}={value}");
            }
        }
        let a = scraper::Selector::parse("a[href='https://example.com']").unwrap();
        let link = body.select(&a).next().expect("safe link kept");
        assert_eq!(link.value().attr("rel"), Some("nofollow noopener"));
        // The only scripts on the page are our own files.
        let s = scraper::Selector::parse("script").unwrap();
        for el in doc.select(&s) {
            assert!(el.value().attr("src").is_some_and(|src| src.starts_with("/assets/")));
        }
    }

    async fn emoji_round_trip(app: TestApp) {
        app.setup_admin().await;
        let text = "Shipped 🚀 — ça marche 👍🏽 日本語 𝔘𝔫𝔦𝔠𝔬𝔡𝔢";
        app.publish(text).await;
        assert_eq!(stored_bodies(&app), vec![text.to_string()]);
        assert!(app.get_html("/").await.contains(text));
        // Display names too.
        app.create_user("zoe", "zoe-password", posthaste::users::Role::Member);
        let zoe = app.db(|c| posthaste::users::find_by_login(c, "zoe").unwrap().unwrap());
        app.db(|c| diesel::update(posthaste::db::schema::users::table.find(zoe.id))
            .set(posthaste::db::schema::users::display_name.eq("Zoë 🦊")).execute(c).unwrap());
        let z = app.db(|c| posthaste::users::find_by_login(c, "zoe").unwrap().unwrap());
        assert_eq!(z.display_name, "Zoë 🦊");
    }

    async fn guests_cannot_post(app: TestApp) {
        app.create_user("gus", "gus-password", posthaste::users::Role::Guest);
        app.login("gus", "gus-password").await;
        let r = app.publish("I should not be able to").await;
        assert_eq!(r.status(), 403);
        assert_eq!(app.post_count(), 0);
    }
}
