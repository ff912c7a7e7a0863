//! @mentions: links at write time, recorded mentions, `/mentions`, member pages, autocomplete.

use crate::both_backends;
use crate::helpers::*;
use diesel::prelude::*;
use posthaste::db::schema::{mentions, users};
use posthaste::users::Role;

/// Usernames recorded as mentioned by post `id`, sorted.
fn mentioned(app: &TestApp, id: i32) -> Vec<String> {
    let mut v: Vec<String> = app.db(|c| {
        mentions::table
            .inner_join(users::table.on(users::id.eq(mentions::user_id)))
            .filter(mentions::post_id.eq(id))
            .select(users::username)
            .load(c)
            .unwrap()
    });
    v.sort();
    v
}

async fn signed_in(app: &TestApp, name: &str) -> TestApp {
    let c = app.other_client();
    assert_eq!(
        c.login(name, &format!("{name}-password")).await.status(),
        303
    );
    c
}

both_backends! {
    async fn mentions_link_and_are_recorded(app: TestApp) {
        app.setup_admin().await;
        app.create_user("ana", "ana-password", Role::Member);
        app.create_user("ben", "ben-password", Role::Member);
        let id = app.post_id("Hey @Ana and @ben, and @nobody: mail ana@example.com, not `@ben` in code.").await;
        let html = app.get_html(&format!("/p/{id}")).await;
        assert!(html.contains("<a class=\"mention\" href=\"/u/ana\""), "{html}");
        assert!(html.contains(">@Ana</a>"));
        assert!(html.contains("href=\"/u/ben\""));
        assert!(html.contains("@nobody") && !html.contains("/u/nobody"), "unknown names stay text");
        assert!(html.contains("ana@example.com") && !html.contains("href=\"/u/example\""));
        assert_eq!(mentioned(&app, id), vec!["ana", "ben"]);
        // Ana sees it under Mentions; the author does not.
        let ana = signed_in(&app, "ana").await;
        let list = ana.get_html("/mentions").await;
        assert_eq!(post_ids_in_list(&list), vec![id]);
        assert!(app.get_html("/mentions").await.contains("Nobody has mentioned you yet"));
    }

    async fn nobody_is_mentioned_by_their_own_post(app: TestApp) {
        app.setup_admin().await;
        let id = app.post_id("Note to self, @admin: ship it").await;
        assert!(mentioned(&app, id).is_empty());
        assert!(app.get_html(&format!("/p/{id}")).await.contains("href=\"/u/admin\""), "still a link");
    }

    async fn all_and_team_mention_every_member(app: TestApp) {
        app.setup_admin().await;
        for n in ["ana", "ben", "cy"] {
            app.create_user(n, &format!("{n}-password"), Role::Member);
        }
        let id = app.post_id("@all standup moved to 10:00").await;
        assert_eq!(mentioned(&app, id), vec!["ana", "ben", "cy"]);
        let id = app.post_id("thanks @team").await;
        assert_eq!(mentioned(&app, id).len(), 3);
    }

    async fn edits_add_and_remove_mentions(app: TestApp) {
        app.setup_admin().await;
        for n in ["ana", "ben", "cy"] {
            app.create_user(n, &format!("{n}-password"), Role::Member);
        }
        let id = app.post_id("cc @ana @ben").await;
        assert_eq!(mentioned(&app, id), vec!["ana", "ben"]);
        app.post_form(&format!("/p/{id}/edit"), &[("body", "cc @ben @cy")]).await;
        assert_eq!(mentioned(&app, id), vec!["ben", "cy"]);
        let ana = signed_in(&app, "ana").await;
        assert!(post_ids_in_list(&ana.get_html("/mentions").await).is_empty());
    }

    async fn replies_mention_too_and_say_where(app: TestApp) {
        app.setup_admin().await;
        app.create_user("ana", "ana-password", Role::Member);
        let post = app.post_id("Release plan\nDetails below.").await;
        let r = app.reply(post, post, "@ana can you take the changelog?").await;
        assert_eq!(mentioned(&app, r), vec!["ana"]);
        let ana = signed_in(&app, "ana").await;
        let list = ana.get_html("/mentions").await;
        assert_eq!(post_ids_in_list(&list), vec![r]);
        assert!(list.contains("replied in") && list.contains("Release plan"), "{list}");
        assert!(list.contains(&format!("/p/{post}#r-{r}")));
    }

    async fn member_pages_list_their_posts(app: TestApp) {
        app.setup_admin().await;
        app.create_user("ana", "ana-password", Role::Member);
        let ana = signed_in(&app, "ana").await;
        let p = ana.post_id("Ana's first post").await;
        let r = ana.reply(p, p, "and Ana's reply").await;
        app.post_id("Admin's post").await;
        let page = app.get_html("/u/ana").await;
        assert_eq!(post_ids_in_list(&page), vec![r, p]);
        assert!(page.contains("Ana Tester") && page.contains("@ana"));
        assert!(!page.contains("Admin's post"));
        assert_eq!(app.get("/u/ANA").await.status(), 200, "usernames are case-insensitive");
        assert_eq!(app.get("/u/nobody").await.status(), 404);
        let anon = app.other_client();
        assert_eq!(anon.get("/u/ana").await.status(), 303, "private");
    }

    async fn member_autocomplete(app: TestApp) {
        app.setup_admin().await;
        app.create_user("ana", "ana-password", Role::Member);
        app.create_user("anton", "anton-password", Role::Member);
        app.create_user("ben", "ben-password", Role::Member);
        let v: serde_json::Value = app.get("/api/members?q=an").await.json().await.unwrap();
        let names: Vec<&str> = v.as_array().unwrap().iter().map(|m| m["username"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["ana", "anton"]);
        assert_eq!(v[0]["display_name"], "Ana Tester");
        let v: serde_json::Value = app.get("/api/members?q=%40Tes").await.json().await.unwrap();
        assert!(v.as_array().unwrap().len() >= 3, "matches display names, ignores a leading @: {v}");
        let v: serde_json::Value = app.get("/api/members?q=%25").await.json().await.unwrap();
        assert!(v.as_array().unwrap().is_empty(), "% is literal");
        let anon = app.other_client();
        assert_eq!(anon.get("/api/members?q=an").await.status(), 303, "members only");
    }
}

/// Ids of list items (`article.list-item#item-ID`) in order.
fn post_ids_in_list(html: &str) -> Vec<i32> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("article.list-item").unwrap();
    doc.select(&sel)
        .filter_map(|e| e.value().id()?.strip_prefix("item-")?.parse().ok())
        .collect()
}
