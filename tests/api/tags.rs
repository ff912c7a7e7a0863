//! The tags plugin: `#tag` links, the `post_tags` index, `/t/{tag}` pages and the sidebar.

use std::time::{Duration, Instant};

use crate::helpers::*;
use crate::{both_backends, on_both_backends};
use diesel::prelude::*;
use posthaste_tags::store::post_tags;

/// Ids of list items (`article.list-item#item-ID`) in order.
fn list_ids(html: &str) -> Vec<i32> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("article.list-item").unwrap();
    doc.select(&sel)
        .filter_map(|e| e.value().id()?.strip_prefix("item-")?.parse().ok())
        .collect()
}

/// The tags indexed for post `id`, sorted.
fn indexed(app: &TestApp, id: i32) -> Vec<String> {
    let mut v: Vec<String> = app.db(|c| {
        post_tags::table
            .filter(post_tags::post_id.eq(id))
            .select(post_tags::tag)
            .load(c)
            .unwrap()
    });
    v.sort();
    v
}

/// The `href`s of links inside the `.post-body` of a page.
fn body_links(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(".post-body a").unwrap();
    doc.select(&sel)
        .filter_map(|a| a.value().attr("href").map(str::to_string))
        .collect()
}

/// The `href`s of the sidebar's tag links.
fn sidebar_tags(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("aside.sidebar .sidebar-tags a").unwrap();
    doc.select(&sel)
        .filter_map(|a| a.value().attr("href").map(str::to_string))
        .collect()
}

both_backends! {
    async fn tags_link_to_pages_that_list_them(app: TestApp) {
        app.setup_admin().await;
        let id = app
            .post_id("Shipping #Release today. Fixes #12, not `#code`, see https://example.com/docs#install")
            .await;
        let page = app.get_html(&format!("/p/{id}")).await;
        assert!(page.contains(">#Release</a>"), "{page}");
        assert_eq!(
            body_links(&page),
            vec!["/t/release", "https://example.com/docs#install"],
            "only the tag and the URL are links"
        );
        assert!(page.contains("Fixes #12") && page.contains("<code>#code</code>"), "{page}");
        assert_eq!(indexed(&app, id), vec!["release"]);

        let list = app.get_html("/t/release").await;
        assert_eq!(list_ids(&list), vec![id]);
        assert!(list.contains("<title>#release · "), "page title");
        assert!(list.contains("<h1 class=\"list-title\">#release</h1>"), "{list}");
        assert!(list.contains(&format!("href=\"/p/{id}\"")), "links to the permalink");
        assert_eq!(list_ids(&app.get_html("/t/RELEASE").await), vec![id], "any case");

        // Not tags: an issue number is not a tag at all; code and URL fragments list nothing.
        assert_eq!(app.get("/t/12").await.status(), 404);
        for tag in ["code", "install"] {
            let empty = app.get_html(&format!("/t/{tag}")).await;
            assert!(list_ids(&empty).is_empty(), "#{tag}: {empty}");
            assert!(empty.contains(&format!("No posts tagged #{tag} yet.")), "{empty}");
        }
        for bad in ["release.", "a%20b", "-x", &"a".repeat(65)] {
            assert_eq!(app.get(&format!("/t/{bad}")).await.status(), 404, "/t/{bad}");
        }
    }

    async fn tags_in_replies_count_too(app: TestApp) {
        app.setup_admin().await;
        let post = app.post_id("Launch plan\nDetails below.").await;
        let reply = app.reply(post, post, "Notes are up, #release (and #Docs.)").await;
        assert_eq!(indexed(&app, reply), vec!["docs", "release"]);
        assert!(indexed(&app, post).is_empty());
        let list = app.get_html("/t/release").await;
        assert_eq!(list_ids(&list), vec![reply]);
        assert!(list.contains("replied in") && list.contains("Launch plan"), "{list}");
        assert!(list.contains(&format!("/p/{post}#r-{reply}")), "{list}");
        assert_eq!(list_ids(&app.get_html("/t/docs").await), vec![reply]);
    }

    async fn edits_and_deletions_update_tag_pages(app: TestApp) {
        app.setup_admin().await;
        let a = app.post_id("First #alpha").await;
        let b = app.post_id("Second #alpha #beta").await;
        assert_eq!(list_ids(&app.get_html("/t/alpha").await), vec![b, a], "newest first");

        let r = app.post_form(&format!("/p/{a}/edit"), &[("body", "Now #gamma instead")]).await;
        assert_eq!(r.status(), 303, "edit");
        assert_eq!(indexed(&app, a), vec!["gamma"]);
        assert_eq!(list_ids(&app.get_html("/t/alpha").await), vec![b]);
        assert_eq!(list_ids(&app.get_html("/t/gamma").await), vec![a]);

        let r = app.post_form(&format!("/p/{b}/delete"), &[]).await;
        assert_eq!(r.status(), 303, "delete");
        assert!(indexed(&app, b).is_empty());
        let gone = app.get_html("/t/alpha").await;
        assert!(list_ids(&gone).is_empty());
        assert!(gone.contains("No posts tagged #alpha yet."), "{gone}");
        assert!(list_ids(&app.get_html("/t/beta").await).is_empty());
    }

    async fn tag_pages_are_paged_with_a_fixed_number_of_queries(app: TestApp) {
        app.setup_admin().await;
        let one = app.post_id("Just #one").await;
        let mut ids = Vec::new();
        for i in 0..21 {
            ids.push(app.post_id(&format!("Post {i} about #many things")).await);
        }
        ids.reverse();
        app.get_html("/t/one").await;
        let before = app.queries.get();
        assert_eq!(list_ids(&app.get_html("/t/one").await), vec![one]);
        let small = app.queries.get() - before;
        let before = app.queries.get();
        let first = app.get_html("/t/many").await;
        let big = app.queries.get() - before;
        assert_eq!(list_ids(&first), ids[..20].to_vec());
        assert_eq!(small, big, "queries do not grow with the items on the page");
        assert!(big <= 8, "a handful of queries per page, got {big}");

        let older = href_of(&first, "a.pager-older").expect("an older page");
        assert_eq!(older, format!("/t/many?before={}", ids[19]));
        let second = app.get_html(&older).await;
        assert_eq!(list_ids(&second), vec![ids[20]]);
        assert!(href_of(&second, "a.pager-older").is_none());
        assert_eq!(app.get("/t/many?before=x").await.status(), 400);
    }

    async fn unicode_tags_are_lowercased_and_told_apart(app: TestApp) {
        app.setup_admin().await;
        let id = app.post_id("Menu: #Café, #cafe and #ÜBER").await;
        assert_eq!(indexed(&app, id), vec!["cafe", "café", "über"], "é and e differ");
        let page = app.get_html(&format!("/p/{id}")).await;
        assert_eq!(body_links(&page), vec!["/t/caf%C3%A9", "/t/cafe", "/t/%C3%BCber"]);
        assert_eq!(list_ids(&app.get_html("/t/caf%C3%A9").await), vec![id]);
        assert_eq!(list_ids(&app.get_html("/t/%C3%9CBER").await), vec![id]);
        let other = app.post_id("Plain #cafe only").await;
        assert_eq!(list_ids(&app.get_html("/t/cafe").await), vec![other, id]);
        assert_eq!(list_ids(&app.get_html("/t/caf%C3%A9").await), vec![id]);
    }

    async fn guests_are_sent_to_sign_in(app: TestApp) {
        app.setup_admin().await;
        app.post_id("#release").await;
        let guest = app.other_client();
        let r = guest.get("/t/release").await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/login?next=%2Ft%2Frelease");
        let login = guest.get_html("/login").await;
        assert!(!login.contains("sidebar-tags"), "no tag list for guests");
    }
}

async fn tags_switched_off(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |raw| raw.plugins = vec![]).await else {
        return;
    };
    app.setup_admin().await;
    let id = app.post_id("Shipping #release today").await;
    let page = app.get_html(&format!("/p/{id}")).await;
    assert!(page.contains("#release"), "{page}");
    assert!(!page.contains("/t/release"), "no link: {page}");
    assert!(body_links(&page).is_empty());
    assert!(indexed(&app, id).is_empty(), "nothing indexed while off");
    assert_eq!(app.get("/t/release").await.status(), 404);
}

async fn sidebar_lists_recent_tags_after_a_tick(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |raw| raw.tick_ms = 100).await else {
        return;
    };
    app.setup_admin().await;
    assert!(
        sidebar_tags(&app.get_html("/").await).is_empty(),
        "no tags yet"
    );
    app.post_id("#release went out").await;
    app.post_id("#release notes and #ops").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let html = loop {
        let html = app.get_html("/").await;
        if sidebar_tags(&html).len() == 2 {
            break html;
        }
        assert!(
            Instant::now() < deadline,
            "the sidebar never listed both tags: {html}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        sidebar_tags(&html),
        vec!["/t/release", "/t/ops"],
        "most used first"
    );
    assert!(html.contains("has-sidebar"), "{html}");
    assert!(html.contains(">#release<"), "{html}");
    // Any member page shows it; a guest's page does not.
    assert_eq!(sidebar_tags(&app.get_html("/t/ops").await).len(), 2);
    assert!(!app
        .other_client()
        .get_html("/login")
        .await
        .contains("sidebar-tags"));
}

on_both_backends!(tags_switched_off, sidebar_lists_recent_tags_after_a_tick);
