//! Threaded inline replies, inline edit and delete, permissions, and the cost of a page.

use crate::both_backends;
use crate::helpers::*;
use diesel::prelude::*;
use posthaste::db::schema::posts;
use posthaste::users::Role;
use scraper::{Html, Selector};

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

/// Reply ids in document order.
fn reply_ids(html: &str) -> Vec<i32> {
    Html::parse_document(html)
        .select(&sel("div.reply"))
        .filter_map(|e| e.value().id()?.strip_prefix("r-")?.parse().ok())
        .collect()
}

/// Whether `#r-{inner}` sits inside `#r-{outer}` (or inside post `#p-{outer}` when `post`).
fn nested_in(html: &str, outer: &str, inner: i32) -> bool {
    let doc = Html::parse_document(html);
    let Some(o) = doc.select(&sel(outer)).next() else {
        return false;
    };
    o.select(&sel(&format!("#r-{inner}"))).next().is_some()
}

fn body_of(
    app: &TestApp,
    id: i32,
) -> (
    String,
    Option<chrono::NaiveDateTime>,
    Option<chrono::NaiveDateTime>,
) {
    app.db(|c| {
        posts::table
            .find(id)
            .select((posts::body_md, posts::edited_at, posts::deleted_at))
            .first(c)
            .unwrap()
    })
}

both_backends! {
    async fn nested_replies_render_in_order(app: TestApp) {
        app.setup_admin().await;
        let post = app.post_id("Shipping the new login page today").await;
        let a = app.reply(post, post, "A: looks good").await;
        let b = app.reply(post, a, "B: agreed with A").await;
        let c = app.reply(post, b, "C: third level").await;
        let d = app.reply(post, post, "D: second top-level reply").await;
        let e = app.reply(post, a, "E: another answer to A").await;
        for page in [format!("/p/{post}"), "/".to_string()] {
            let html = app.get_html(&page).await;
            assert_eq!(reply_ids(&html), vec![a, b, c, e, d], "{page}: oldest first, children under parents");
            assert!(nested_in(&html, &format!("#p-{post}"), a));
            assert!(nested_in(&html, &format!("#r-{a}"), b));
            assert!(nested_in(&html, &format!("#r-{b}"), c), "three deep");
            assert!(nested_in(&html, &format!("#r-{a}"), e));
            assert!(!nested_in(&html, &format!("#r-{a}"), d));
            assert!(html.contains("C: third level"));
        }
        // A reply's own id leads to its place in the thread.
        let r = app.get(&format!("/p/{c}")).await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), format!("/p/{post}#r-{c}"));
    }

    async fn replying_with_htmx_returns_the_reply_and_where_it_goes(app: TestApp) {
        app.setup_admin().await;
        let post = app.post_id("A post").await;
        let a = app.reply(post, post, "first").await;
        let token = app.csrf().await;
        let r = app.client.post(app.url(&format!("/p/{post}/replies"))).header("HX-Request", "true")
            .form(&[("csrf_token", token.as_str()), ("parent_id", &a.to_string()), ("body", "via *htmx*")])
            .send().await.unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers().get("hx-retarget").unwrap(), &format!("#children-r-{a}"));
        assert_eq!(r.headers().get("hx-reswap").unwrap(), "beforeend");
        let html = r.text().await.unwrap();
        assert!(html.trim_start().starts_with("<div class=\"reply"), "{html}");
        assert!(html.contains("<em>htmx</em>"));
        // The inline form for a reply is a fragment posting to the thread with the parent id.
        let r = app.client.get(app.url(&format!("/p/{post}/reply-form?parent={a}"))).header("HX-Request", "true").send().await.unwrap();
        assert_eq!(r.status(), 200);
        let form = r.text().await.unwrap();
        assert!(form.contains(&format!("action=\"/p/{post}/replies\"")), "{form}");
        assert!(form.contains(&format!("name=\"parent_id\" value=\"{a}\"")), "{form}");
        // Empty replies are refused inline and store nothing.
        let before = app.post_count();
        let r = app.client.post(app.url(&format!("/p/{post}/replies"))).header("HX-Request", "true")
            .form(&[("csrf_token", token.as_str()), ("parent_id", &a.to_string()), ("body", "  ")])
            .send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert_eq!(r.headers().get("hx-retarget").unwrap(), &format!("#reply-form-r-{a}-error"));
        assert_eq!(app.post_count(), before);
    }

    async fn replying_without_javascript(app: TestApp) {
        app.setup_admin().await;
        let post = app.post_id("A post").await;
        // The permalink page carries a reply form; ?reply_to= targets a reply.
        let html = app.get_html(&format!("/p/{post}")).await;
        assert!(html.contains("id=\"reply-form\""));
        let a = app.reply(post, post, "plain form reply").await;
        let html = app.get_html(&format!("/p/{post}?reply_to={a}")).await;
        assert!(html.contains(&format!("name=\"parent_id\" value=\"{a}\"")));
        let r = app.post_form(&format!("/p/{post}/replies"), &[("parent_id", &a.to_string()), ("body", "answer")]).await;
        assert_eq!(r.status(), 303);
        let loc = location(&r);
        assert!(loc.starts_with(&format!("/p/{post}#r-")), "{loc}");
        // Validation errors re-show the page with the text kept.
        let r = app.post_form(&format!("/p/{post}/replies"), &[("parent_id", &a.to_string()), ("body", "")]).await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("empty"));
    }

    async fn bad_parents_are_refused_and_store_nothing(app: TestApp) {
        app.setup_admin().await;
        let p1 = app.post_id("Thread one").await;
        let p2 = app.post_id("Thread two").await;
        let r1 = app.reply(p1, p1, "in thread one").await;
        let before = app.post_count();
        // Nonexistent parent.
        let r = app.post_form(&format!("/p/{p1}/replies"), &[("parent_id", "999999"), ("body", "x")]).await;
        assert_eq!(r.status(), 400);
        // A parent in another thread.
        let r = app.post_form(&format!("/p/{p2}/replies"), &[("parent_id", &r1.to_string()), ("body", "x")]).await;
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("another thread"));
        // Garbage parent id.
        let r = app.post_form(&format!("/p/{p1}/replies"), &[("parent_id", "abc"), ("body", "x")]).await;
        assert_eq!(r.status(), 400);
        // A deleted parent.
        assert_eq!(app.post_form(&format!("/p/{r1}/delete"), &[]).await.status(), 303);
        let r = app.post_form(&format!("/p/{p1}/replies"), &[("parent_id", &r1.to_string()), ("body", "x")]).await;
        assert_eq!(r.status(), 400);
        // A deleted thread.
        let r2 = app.reply(p2, p2, "in thread two").await;
        assert_eq!(app.post_form(&format!("/p/{p2}/delete"), &[]).await.status(), 303);
        let r = app.post_form(&format!("/p/{p2}/replies"), &[("parent_id", &r2.to_string()), ("body", "x")]).await;
        assert_eq!(r.status(), 400);
        assert_eq!(app.post_count(), before + 1, "only the setup reply r2 was added");
    }

    async fn edit_and_delete_permissions(app: TestApp) {
        app.setup_admin().await;
        app.create_user("ana", "ana-password", Role::Member);
        app.create_user("ben", "ben-password", Role::Member);
        let ana = app.other_client();
        ana.login("ana", "ana-password").await;
        let ben = app.other_client();
        ben.login("ben", "ben-password").await;
        let post = ana.post_id("Ana's post").await;
        let reply = ana.reply(post, post, "Ana's reply").await;
        for id in [post, reply] {
            // Ben is neither author nor admin: 403 for the forms and the actions, nothing changes.
            assert_eq!(ben.get(&format!("/p/{id}/edit")).await.status(), 403);
            assert_eq!(ben.get(&format!("/p/{id}/delete")).await.status(), 403);
            assert_eq!(ben.post_form(&format!("/p/{id}/edit"), &[("body", "hacked")]).await.status(), 403);
            assert_eq!(ben.post_form(&format!("/p/{id}/delete"), &[]).await.status(), 403);
            let (body, edited, deleted) = body_of(&app, id);
            assert!(!body.contains("hacked"));
            assert!(edited.is_none() && deleted.is_none());
        }
        // The page shows Edit/Delete only to those who may use them.
        let html = ben.get_html(&format!("/p/{post}")).await;
        assert!(!html.contains(&format!("/p/{post}/edit")));
        let html = ana.get_html(&format!("/p/{post}")).await;
        assert!(html.contains(&format!("/p/{post}/edit")));
        // Rendered items are cached: Ana's view must not leak into Ben's.
        for page in [format!("/p/{post}"), "/".to_string()] {
            ana.get_html(&page).await;
            let html = ben.get_html(&page).await;
            assert!(!html.contains(&format!("/p/{post}/edit")) && !html.contains(&format!("/p/{reply}/edit")), "{page}");
        }
        // Nonexistent ids are 404, not 500.
        assert_eq!(ben.post_form("/p/999999/edit", &[("body", "x")]).await.status(), 404);
        assert_eq!(ben.post_form("/p/999999/delete", &[]).await.status(), 404);
        // The author can edit; an admin can edit and delete anyone's.
        assert_eq!(ana.post_form(&format!("/p/{reply}/edit"), &[("body", "Ana's reply, **fixed**")]).await.status(), 303);
        let html = app.get_html(&format!("/p/{post}")).await;
        assert!(html.contains("<strong>fixed</strong>"), "re-rendered at save");
        assert!(html.contains("class=\"edited\""), "edited marker");
        assert_eq!(app.post_form(&format!("/p/{post}/edit"), &[("body", "Admin title\nAdmin's words")]).await.status(), 303);
        let title: Option<String> = app.db(|c| posts::table.find(post).select(posts::title).first(c).unwrap());
        assert_eq!(title.as_deref(), Some("Admin title"), "title inferred again");
        assert_eq!(app.post_form(&format!("/p/{reply}/delete"), &[]).await.status(), 303);
        assert!(body_of(&app, reply).2.is_some());
        // Edits are validated like posts.
        assert_eq!(ana.post_form(&format!("/p/{post}/edit"), &[("body", " ")]).await.status(), 422, "validated like a new post");
    }

    async fn deleted_replies_keep_the_thread_shape(app: TestApp) {
        app.setup_admin().await;
        let post = app.post_id("A post").await;
        let a = app.reply(post, post, "parent reply").await;
        let b = app.reply(post, a, "child of the deleted one").await;
        let c = app.reply(post, post, "a leaf to delete").await;
        app.post_form(&format!("/p/{a}/delete"), &[]).await;
        app.post_form(&format!("/p/{c}/delete"), &[]).await;
        let html = app.get_html(&format!("/p/{post}")).await;
        assert!(html.contains("This reply was deleted"));
        assert!(!html.contains("parent reply"), "the deleted text is gone");
        assert!(nested_in(&html, &format!("#r-{a}"), b), "the child stays under the stub");
        assert_eq!(reply_ids(&html), vec![a, b], "a deleted leaf disappears");
        // Deleting a post takes its thread off the front page; its permalink is gone.
        app.post_form(&format!("/p/{post}/delete"), &[]).await;
        assert!(post_ids(&app.get_html("/").await).is_empty());
        assert_eq!(app.get(&format!("/p/{post}")).await.status(), 404);
        // With htmx, deleting a reply with replies returns its stub.
        let p2 = app.post_id("Another").await;
        let x = app.reply(p2, p2, "x").await;
        app.reply(p2, x, "y").await;
        let token = app.csrf().await;
        let r = app.client.post(app.url(&format!("/p/{x}/delete"))).header("HX-Request", "true")
            .header("X-CSRF-Token", token.as_str()).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("This reply was deleted") && html.contains(&format!("id=\"r-{x}\"")), "{html}");
        // Deleting a post from its own page with htmx sends the browser to the front page.
        let r = app.client.post(app.url(&format!("/p/{p2}/delete"))).header("HX-Request", "true")
            .header("HX-Current-URL", app.url(&format!("/p/{p2}"))).header("X-CSRF-Token", token.as_str())
            .send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers().get("hx-redirect").unwrap(), "/");
    }

    async fn htmx_edit_returns_the_content_block(app: TestApp) {
        app.setup_admin().await;
        let post = app.post_id("Some post").await;
        let r = app.reply(post, post, "before").await;
        let form = app.client.get(app.url(&format!("/p/{r}/edit"))).header("HX-Request", "true").send().await.unwrap();
        let form = form.text().await.unwrap();
        assert!(form.contains(&format!("id=\"content-r-{r}\"")) && form.contains(">before</textarea>"), "{form}");
        let token = app.csrf().await;
        let res = app.client.post(app.url(&format!("/p/{r}/edit"))).header("HX-Request", "true")
            .form(&[("csrf_token", token.as_str()), ("body", "after")]).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        assert!(html.contains(&format!("id=\"content-r-{r}\"")) && html.contains("<p>after</p>") && html.contains("edited"), "{html}");
        let res = app.client.post(app.url(&format!("/p/{r}/edit"))).header("HX-Request", "true")
            .form(&[("csrf_token", token.as_str()), ("body", "")]).send().await.unwrap();
        assert_eq!(res.status(), 422);
        assert_eq!(body_of(&app, r).0, "after");
    }

    async fn inline_content_blocks_match_the_content_partial(app: TestApp) {
        // partials/post and partials/reply inline the content block for speed; the htmx
        // "cancel edit" fragment renders partials/content. They must be the same markup.
        app.setup_admin().await;
        let post = app.post_id("Title here\nWith a **body**").await;
        let r = app.reply(post, post, "a reply with `code`").await;
        app.post_form(&format!("/p/{r}/edit"), &[("body", "edited reply")]).await;
        let page = app.get_html(&format!("/p/{post}")).await;
        for id in [post, r] {
            let fragment = app.client.get(app.url(&format!("/p/{id}/content"))).header("HX-Request", "true")
                .send().await.unwrap().text().await.unwrap();
            assert!(page.contains(fragment.trim()), "content block of {id} differs:\n{fragment}");
        }
    }

    async fn long_threads_collapse_on_the_front_page(app: TestApp) {
        app.setup_admin().await;
        app.create_user("bea", "bea-password", Role::Member);
        let bea = app.other_client();
        bea.login("bea", "bea-password").await;
        let post = app.post_id("Busy thread").await;
        let mut ids = vec![];
        ids.push(bea.reply(post, post, "Bea's early answer").await);
        for i in 1..7 {
            ids.push(app.reply(post, post, &format!("reply number {i}")).await);
        }
        // The newest answers Bea's early reply, which is not among the newest three.
        ids.push(app.reply(post, ids[0], "answering Bea").await);
        let front = app.get_html("/").await;
        assert_eq!(reply_ids(&front), ids[5..].to_vec(), "the newest three");
        assert!(front.contains("Show all 8 replies"));
        let doc = Html::parse_document(&front);
        let last = doc.select(&sel(&format!("#r-{} .in-reply-to", ids[7]))).next().expect("in reply to");
        assert!(last.text().collect::<String>().contains("Bea Tester"));
        assert!(!front.contains("Bea's early answer"), "collapsed away");
        let all = app.client.get(app.url(&format!("/p/{post}/replies"))).header("HX-Request", "true").send().await.unwrap();
        // In full, the answer to Bea nests under her reply.
        let nested: Vec<i32> = [ids[0], ids[7]].into_iter().chain(ids[1..7].iter().copied()).collect();
        assert_eq!(reply_ids(&all.text().await.unwrap()), nested);
        assert_eq!(reply_ids(&app.get_html(&format!("/p/{post}")).await), nested, "the permalink shows everything");
    }

    async fn parallel_replies_are_all_stored_once(app: TestApp) {
        app.setup_admin().await;
        let post = app.post_id("Everyone reply here").await;
        let token = app.csrf().await;
        let mut tasks = Vec::new();
        for i in 0..50 {
            let client = app.client.clone();
            let url = app.url(&format!("/p/{post}/replies"));
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                client.post(url).form(&[("csrf_token", token.as_str()), ("parent_id", &post.to_string()), ("body", &format!("parallel reply {i}"))])
                    .send().await.unwrap().status().as_u16()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 303);
        }
        let bodies: Vec<String> = app.db(|c| posts::table.filter(posts::thread_id.eq(post)).filter(posts::parent_id.is_not_null())
            .select(posts::body_md).load(c).unwrap());
        assert_eq!(bodies.len(), 50);
        let unique: std::collections::HashSet<_> = bodies.iter().collect();
        assert_eq!(unique.len(), 50, "each stored exactly once");
        assert_eq!(reply_ids(&app.get_html(&format!("/p/{post}")).await).len(), 50);
    }

    async fn front_page_costs_a_fixed_number_of_queries(app: TestApp) {
        app.setup_admin().await;
        // Warm up the session, then measure a page of 20 small threads ...
        app.db(|c| posthaste::seed::threads(c, 20, 1, 3).unwrap());
        app.get_html("/").await;
        let before = app.queries.get();
        let html = app.get_html("/").await;
        let small = app.queries.get() - before;
        assert_eq!(post_ids(&html).len(), 20);
        // ... and a page of 20 threads of 30 replies each.
        app.db(|c| posthaste::seed::threads(c, 20, 30, 3).unwrap());
        let before = app.queries.get();
        let html = app.get_html("/").await;
        let big = app.queries.get() - before;
        assert_eq!(post_ids(&html).len(), 20);
        assert!(reply_ids(&html).len() >= 20 * 3, "collapsed threads still show replies");
        assert_eq!(small, big, "queries do not grow with threads or replies");
        assert!(big <= 8, "a handful of queries per page, got {big}");
        eprintln!("front page: {big} SQL statements (including pool checkout pings)");
        let id = post_ids(&html)[0];
        let before = app.queries.get();
        let page = app.get_html(&format!("/p/{id}")).await;
        assert_eq!(reply_ids(&page).len(), 31, "1 + 30 replies, all shown");
        let cost = app.queries.get() - before;
        assert!(cost <= big, "the permalink page costs no more than the front page: {cost}");
    }
}

mod depth_cap {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let app = TestApp::spawn_with(Backend::Sqlite, |s| s.max_reply_depth = 2)
            .await
            .unwrap();
        depth_is_capped_and_deeper_replies_say_whom_they_answer(app).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mysql() {
        if let Some(app) = TestApp::spawn_with(Backend::Mysql, |s| s.max_reply_depth = 2).await {
            depth_is_capped_and_deeper_replies_say_whom_they_answer(app).await
        }
    }
}

async fn depth_is_capped_and_deeper_replies_say_whom_they_answer(app: TestApp) {
    app.setup_admin().await;
    let post = app.post_id("Deep thread").await;
    let a = app.reply(post, post, "level one").await;
    let b = app.reply(post, a, "level two").await;
    let c = app.reply(post, b, "level three").await;
    let d = app.reply(post, c, "level four").await;
    let html = app.get_html(&format!("/p/{post}")).await;
    assert_eq!(reply_ids(&html), vec![a, b, c, d], "none hidden or lost");
    let doc = Html::parse_document(&html);
    let depth_of = |id: i32| {
        doc.select(&sel(&format!("#r-{id}")))
            .next()
            .unwrap()
            .value()
            .attr("class")
            .unwrap()
            .to_string()
    };
    assert!(depth_of(b).contains("depth-2"));
    assert!(depth_of(c).contains("depth-2"), "capped: {}", depth_of(c));
    assert!(depth_of(d).contains("depth-2"));
    let c_el = doc.select(&sel(&format!("#r-{c}"))).next().unwrap();
    let note: String = c_el
        .select(&sel(".in-reply-to"))
        .next()
        .expect("in reply to")
        .text()
        .collect();
    assert!(note.contains("Ada Admin"), "{note}");
    assert!(
        nested_in(&html, &format!("#r-{a}"), c),
        "shown at the last level under the level-1 reply"
    );
    assert!(!nested_in(&html, &format!("#r-{b}"), c));
}
