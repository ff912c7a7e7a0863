//! `posthaste seed`: a realistic data set for benchmarks and demos.

use chrono::Duration;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::schema::{posts, users};
use crate::db::{self, DbConn};
use crate::posts::title;
use crate::render::markdown;
use crate::users::{password, Password};
use crate::with_backend;

/// The password every seeded member gets.
pub const SEED_PASSWORD: &str = "posthaste-seed";

const WORDS: &[&str] = &[
    "shipped",
    "the",
    "new",
    "login",
    "page",
    "reviewed",
    "deploy",
    "pipeline",
    "tests",
    "green",
    "customer",
    "feedback",
    "dashboard",
    "metrics",
    "latency",
    "improved",
    "release",
    "notes",
    "draft",
    "design",
    "review",
    "tomorrow",
    "blocked",
    "on",
    "API",
    "keys",
    "migration",
    "done",
    "database",
    "index",
    "query",
    "faster",
    "onboarding",
    "docs",
    "updated",
    "meeting",
    "moved",
    "Thursday",
    "sprint",
    "planning",
    "bug",
    "fixed",
    "mobile",
    "layout",
    "search",
    "results",
    "cache",
    "warmed",
    "invoice",
    "export",
    "CSV",
    "support",
    "tickets",
    "triaged",
    "roadmap",
];

const TITLES: &[&str] = &[
    "Weekly update",
    "Release notes",
    "Design review",
    "Incident follow-up",
    "Planning for Q3",
    "Onboarding checklist",
    "Status",
    "Friday wins",
];

/// Adds `members` members and `posts` top-level posts, spread over the last months, in
/// batches. Returns (members created, posts created).
pub fn run(conn: &mut DbConn, post_count: usize, members: usize) -> anyhow::Result<(usize, usize)> {
    let hash = password::hash(&Password::parse(SEED_PASSWORD).map_err(anyhow::Error::msg)?)?;
    let mut rng = StdRng::seed_from_u64(42);
    let start: i64 = users::table.count().get_result(conn)?;
    let now = db::now();
    let rows: Vec<_> = (0..members)
        .map(|i| {
            let n = start as usize + i + 1;
            (
                users::username.eq(format!("member{n}")),
                users::email.eq(format!("member{n}@example.com")),
                users::display_name.eq(format!("{} {}", first(n), last(n))),
                users::password_hash.eq(hash.clone()),
                users::role.eq("member"),
                users::created_at.eq(now),
                users::updated_at.eq(now),
            )
        })
        .collect();
    for chunk in rows.chunks(500) {
        with_backend!(&mut *conn, |c| diesel::insert_into(users::table)
            .values(chunk)
            .execute(c))?;
    }
    let ids: Vec<i32> = users::table.select(users::id).load(conn)?;
    anyhow::ensure!(
        !ids.is_empty(),
        "no members to post as: use --members 1 or more"
    );
    let mut made = 0;
    let mut t = now - Duration::minutes(post_count as i64 * 7);
    while made < post_count {
        let batch = (post_count - made).min(500);
        let mut rows = Vec::with_capacity(batch);
        for _ in 0..batch {
            t += Duration::minutes(rng.random_range(1..14));
            let md = body(&mut rng);
            let (title, rest) = title::infer(&md);
            let html = markdown::to_html(rest);
            rows.push((
                posts::author_id.eq(ids[rng.random_range(0..ids.len())]),
                posts::thread_id.eq(0),
                posts::title.eq(title),
                posts::body_html.eq(html),
                posts::body_md.eq(md),
                posts::created_at.eq(t),
                posts::updated_at.eq(t),
            ));
        }
        conn.transaction(|conn| -> QueryResult<()> {
            with_backend!(&mut *conn, |c| diesel::insert_into(posts::table)
                .values(&rows)
                .execute(c))?;
            diesel::update(posts::table.filter(posts::thread_id.eq(0)))
                .set(posts::thread_id.eq(posts::id))
                .execute(conn)?;
            Ok(())
        })?;
        made += batch;
    }
    Ok((members, made))
}

fn first(n: usize) -> &'static str {
    [
        "Ana", "Ben", "Chloé", "Dev", "Eun-ji", "Femi", "Greta", "Hugo", "Ines", "Jun",
    ][n % 10]
}

fn last(n: usize) -> &'static str {
    [
        "Silva", "Okafor", "Martin", "Patel", "Kim", "Nowak", "Rossi", "Larsen", "Haddad",
        "Tanaka", "Müller",
    ][n % 11]
}

fn sentence(rng: &mut StdRng) -> String {
    let n = rng.random_range(6..18);
    let mut s: Vec<&str> = (0..n)
        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
        .collect();
    if rng.random_bool(0.2) {
        s.insert(rng.random_range(0..s.len()), "**important**");
    }
    let mut out = s.join(" ");
    if let Some(f) = out.get_mut(0..1) {
        f.make_ascii_uppercase();
    }
    out.push('.');
    out
}

fn body(rng: &mut StdRng) -> String {
    let mut md = String::new();
    if rng.random_bool(0.35) {
        md.push_str(TITLES[rng.random_range(0..TITLES.len())]);
        md.push('\n');
    }
    for p in 0..rng.random_range(1..4) {
        if p > 0 {
            md.push_str("\n\n");
        }
        md.push_str(&sentence(rng));
        if rng.random_bool(0.5) {
            md.push(' ');
            md.push_str(&sentence(rng));
        }
    }
    if rng.random_bool(0.2) {
        md.push_str("\n\n- ");
        md.push_str(&sentence(rng));
        md.push_str("\n- ");
        md.push_str(&sentence(rng));
    }
    if rng.random_bool(0.1) {
        md.push_str("\n\n```\ncargo test --features mysql\n```");
    }
    if rng.random_bool(0.15) {
        md.push_str("\n\nDetails: https://example.com/tickets/1234");
    }
    md
}
