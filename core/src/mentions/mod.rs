//! @mentions: finding them in a post (`parse`), resolving them to members, recording them
//! with the post, and the "mentions me" list.

pub mod parse;

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{mentions, posts, users};
use crate::db::{DbConn, LiteralLimitDsl};
use crate::posts::{Post, PostId};
use crate::users::Profile;
use crate::with_backend;

/// Names that mention every member.
pub const EVERYONE: [&str; 2] = ["all", "team"];

/// The members a post's text mentions.
#[derive(Debug, Default)]
pub struct Resolved {
    /// Lowercased name as written → username, for the names that are members.
    pub links: HashMap<String, String>,
    /// Members mentioned, ascending (the author may be among them: see [`Resolved::others`]).
    pub user_ids: Vec<i32>,
}

impl Resolved {
    /// The mentioned members other than `author`: nobody is mentioned by their own post.
    pub fn others(&self, author: i32) -> Vec<i32> {
        self.user_ids
            .iter()
            .copied()
            .filter(|&u| u != author)
            .collect()
    }

    /// The username a (lowercased) mentioned name links to, if it is a member.
    pub fn link(&self, name: &str) -> Option<String> {
        self.links.get(name).cloned()
    }
}

/// Looks up the members `markdown` mentions (one query; none when it mentions nobody).
/// `@all` / `@team` mention every member.
pub fn resolve(conn: &mut DbConn, markdown: &str) -> QueryResult<Resolved> {
    let names = parse::extract(markdown);
    if names.is_empty() {
        return Ok(Resolved::default());
    }
    let everyone = names.iter().any(|n| EVERYONE.contains(&n.as_str()));
    let found: Vec<(i32, String)> = if everyone {
        users::table
            .select((users::id, users::username))
            .load(conn)?
    } else {
        users::table
            .filter(users::username.eq_any(&names))
            .select((users::id, users::username))
            .load(conn)?
    };
    let mut links = HashMap::new();
    let mut user_ids = Vec::new();
    for (id, username) in found {
        if everyone || names.contains(&username) {
            if names.contains(&username) {
                links.insert(username.clone(), username);
            }
            user_ids.push(id);
        }
    }
    user_ids.sort_unstable();
    Ok(Resolved { links, user_ids })
}

/// Records that `post` mentions `user_ids` (call inside the post's transaction).
pub fn record(
    conn: &mut DbConn,
    post: PostId,
    user_ids: &[i32],
    now: NaiveDateTime,
) -> QueryResult<()> {
    let rows: Vec<_> = user_ids
        .iter()
        .map(|&u| {
            (
                mentions::post_id.eq(post.0),
                mentions::user_id.eq(u),
                mentions::created_at.eq(now),
            )
        })
        .collect();
    for chunk in rows.chunks(500) {
        with_backend!(&mut *conn, |c| diesel::insert_into(mentions::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Makes `post`'s recorded mentions exactly `user_ids` after an edit; returns the members
/// mentioned now who were not before (the only ones to notify).
pub fn replace(
    conn: &mut DbConn,
    post: PostId,
    user_ids: &[i32],
    now: NaiveDateTime,
) -> QueryResult<Vec<i32>> {
    let before: Vec<i32> = mentions::table
        .filter(mentions::post_id.eq(post.0))
        .select(mentions::user_id)
        .load(conn)?;
    let gone: Vec<i32> = before
        .iter()
        .copied()
        .filter(|u| !user_ids.contains(u))
        .collect();
    if !gone.is_empty() {
        diesel::delete(
            mentions::table
                .filter(mentions::post_id.eq(post.0))
                .filter(mentions::user_id.eq_any(&gone)),
        )
        .execute(conn)?;
    }
    let added: Vec<i32> = user_ids
        .iter()
        .copied()
        .filter(|u| !before.contains(u))
        .collect();
    record(conn, post, &added, now)?;
    Ok(added)
}

/// Live posts and replies that mention `user`, newest first, older than `before`.
pub fn of_user(
    conn: &mut DbConn,
    user: i32,
    before: Option<PostId>,
    limit: u32,
) -> QueryResult<Vec<(Post, Profile)>> {
    let q = mentions::table
        .inner_join(posts::table.inner_join(users::table))
        .filter(mentions::user_id.eq(user))
        .filter(posts::deleted_at.is_null())
        .order(mentions::post_id.desc())
        .select((Post::as_select(), Profile::as_select()));
    match before {
        None => q.literal_limit(limit).load(conn),
        Some(b) => q
            .filter(mentions::post_id.lt(b.0))
            .literal_limit(limit)
            .load(conn),
    }
}
