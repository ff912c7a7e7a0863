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
/// batches. Returns (members created, posts created). See [`replies`] and [`threads`] for
/// threads.
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

/// A top-level post to grow a thread under: its id and time.
type Root = (i32, chrono::NaiveDateTime);

/// One reply, inserted on its own so its id can parent later replies.
fn insert_reply(
    conn: &mut DbConn,
    rng: &mut StdRng,
    author: i32,
    thread: i32,
    parent: i32,
    at: chrono::NaiveDateTime,
) -> QueryResult<i32> {
    let md = sentence(rng);
    let html = markdown::to_html(&md);
    diesel::insert_into(posts::table)
        .values((
            posts::author_id.eq(author),
            posts::parent_id.eq(Some(parent)),
            posts::thread_id.eq(thread),
            posts::body_md.eq(md),
            posts::body_html.eq(html),
            posts::created_at.eq(at),
            posts::updated_at.eq(at),
        ))
        .execute(conn)?;
    db::last_insert_id(conn)
}

/// Adds `count` replies under one thread: about half answer the post, the rest an earlier
/// reply (so threads nest), never deeper than `max_depth`.
fn grow_thread(
    conn: &mut DbConn,
    rng: &mut StdRng,
    members: &[i32],
    root: Root,
    count: usize,
    max_depth: usize,
) -> QueryResult<()> {
    let (root_id, mut t) = root;
    let mut placed: Vec<(i32, usize)> = Vec::with_capacity(count);
    for _ in 0..count {
        let (parent, depth) = if placed.is_empty() || rng.random_bool(0.5) {
            (root_id, 1)
        } else {
            let (p, d) = placed[rng.random_range(0..placed.len())];
            if d >= max_depth {
                (root_id, 1)
            } else {
                (p, d + 1)
            }
        };
        t += Duration::seconds(rng.random_range(30..3600));
        let author = members[rng.random_range(0..members.len())];
        let id = insert_reply(conn, rng, author, root_id, parent, t)?;
        placed.push((id, depth));
    }
    Ok(())
}

fn members_and_roots(
    conn: &mut DbConn,
    threads: Option<usize>,
) -> QueryResult<(Vec<i32>, Vec<Root>)> {
    let members: Vec<i32> = users::table.select(users::id).load(conn)?;
    let q = posts::table
        .filter(posts::parent_id.is_null())
        .order(posts::id.desc())
        .select((posts::id, posts::created_at));
    let roots = match threads {
        Some(n) => q.limit(n as i64).load(conn)?,
        None => q.load(conn)?,
    };
    Ok((members, roots))
}

/// Adds about `total` replies over the existing posts with a realistic spread: most threads
/// get none or a few, some get dozens, and replies nest up to 6 levels.
pub fn replies(conn: &mut DbConn, total: usize) -> anyhow::Result<usize> {
    let mut rng = StdRng::seed_from_u64(7);
    let (members, roots) = members_and_roots(conn, None)?;
    anyhow::ensure!(!members.is_empty() && !roots.is_empty(), "seed posts first");
    // Weights of thread sizes: none, 1–2, 3–6, 7–15, 16–40 replies.
    let buckets = [
        (0.40, 0, 0),
        (0.30, 1, 2),
        (0.20, 3, 6),
        (0.08, 7, 15),
        (0.02, 16, 40),
    ];
    let mean: f64 = buckets
        .iter()
        .map(|(w, lo, hi)| w * f64::from(lo + hi) / 2.0)
        .sum();
    let share = total as f64 / (roots.len() as f64 * mean);
    let mut made = 0;
    for chunk in roots.chunks(200) {
        conn.transaction(|conn| -> QueryResult<()> {
            for &root in chunk {
                if made >= total {
                    break;
                }
                let x: f64 = rng.random();
                let mut acc = 0.0;
                let (mut lo, mut hi) = (0u32, 0u32);
                for (w, l, h) in buckets {
                    acc += w;
                    if x < acc {
                        (lo, hi) = (l, h);
                        break;
                    }
                }
                let n = ((f64::from(rng.random_range(lo..=hi)) * share).round() as usize)
                    .min(total - made);
                grow_thread(conn, &mut rng, &members, root, n, 6)?;
                made += n;
            }
            Ok(())
        })?;
    }
    Ok(made)
}

/// Gives the newest `threads` posts exactly `per_thread` more replies each, nesting up to
/// `max_depth` levels (exact shapes for tests and the threaded front-page benchmark). Adds
/// posts first if there are fewer than `threads`.
pub fn threads(
    conn: &mut DbConn,
    threads: usize,
    per_thread: usize,
    max_depth: usize,
) -> anyhow::Result<()> {
    let existing: i64 = posts::table
        .filter(posts::parent_id.is_null())
        .count()
        .get_result(conn)?;
    if (existing as usize) < threads {
        let members: i64 = users::table.count().get_result(conn)?;
        run(
            conn,
            threads - existing as usize,
            if members == 0 { 5 } else { 0 },
        )?;
    }
    let mut rng = StdRng::seed_from_u64(11);
    let (members, roots) = members_and_roots(conn, Some(threads))?;
    conn.transaction(|conn| -> QueryResult<()> {
        for &root in &roots {
            grow_thread(conn, &mut rng, &members, root, per_thread, max_depth)?;
        }
        Ok(())
    })?;
    Ok(())
}
