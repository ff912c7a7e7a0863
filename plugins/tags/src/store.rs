//! The `post_tags` index: which live post or reply carries which tag.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use posthaste::db::schema::{posts, users};
use posthaste::db::{DbConn, LiteralLimitDsl};
use posthaste::posts::{Post, PostId};
use posthaste::users::Profile;

diesel::table! {
    /// One row per (post or reply, tag): tags lowercased, deleted posts' rows removed.
    post_tags (post_id, tag) {
        /// The post or reply.
        post_id -> Integer,
        /// The tag, lowercased, without `#`.
        tag -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(post_tags, posts);
diesel::allow_tables_to_appear_in_same_query!(post_tags, users);

/// Rows per INSERT statement when indexing a post with many tags.
const INSERT_CHUNK: usize = 100;

/// Makes `post`'s rows exactly `tags` (distinct, lowercased). Inside the post's transaction.
pub fn replace(conn: &mut DbConn, post: &Post, tags: &[String], fresh: bool) -> QueryResult<()> {
    if !fresh {
        remove(conn, post.id)?;
    }
    let rows: Vec<_> = tags
        .iter()
        .map(|t| (post_tags::post_id.eq(post.id), post_tags::tag.eq(t)))
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        posthaste::with_backend!(&mut *conn, |c| diesel::insert_into(post_tags::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Removes a post's rows (it was deleted).
pub fn remove(conn: &mut DbConn, post_id: i32) -> QueryResult<usize> {
    diesel::delete(post_tags::table.filter(post_tags::post_id.eq(post_id))).execute(conn)
}

/// Live posts and replies tagged `tag`, newest first, older than `before`, each with its
/// author: one indexed query (`post_tags (tag, post_id)`).
pub fn tagged(
    conn: &mut DbConn,
    tag: &str,
    before: Option<PostId>,
    limit: u32,
) -> QueryResult<Vec<(Post, Profile)>> {
    let q = post_tags::table
        .inner_join(posts::table.on(posts::id.eq(post_tags::post_id)))
        .inner_join(users::table.on(users::id.eq(posts::author_id)))
        .filter(post_tags::tag.eq(tag))
        .filter(posts::deleted_at.is_null())
        .order(post_tags::post_id.desc())
        .select((Post::as_select(), Profile::as_select()));
    match before {
        None => q.literal_limit(limit).load(conn),
        Some(b) => q
            .filter(post_tags::post_id.lt(b.0))
            .literal_limit(limit)
            .load(conn),
    }
}

/// A tag and how many of the recent posts carry it.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct TagCount {
    /// The tag.
    #[diesel(sql_type = Text)]
    pub tag: String,
    /// Posts and replies among the recent ones.
    #[diesel(sql_type = BigInt)]
    pub uses: i64,
}

/// The `limit` most-used tags among the newest `window` tag rows (by post), most used first,
/// then alphabetically.
pub fn top_recent(conn: &mut DbConn, window: u32, limit: u32) -> QueryResult<Vec<TagCount>> {
    diesel::sql_query(format!(
        "SELECT recent.tag AS tag, COUNT(*) AS uses \
         FROM (SELECT tag FROM post_tags ORDER BY post_id DESC LIMIT {window}) recent \
         GROUP BY recent.tag ORDER BY uses DESC, recent.tag ASC LIMIT {limit}"
    ))
    .load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;

    /// An in-memory database with core's and this plugin's schema, one member and `n` posts
    /// (ids 1..=n, each its own thread).
    fn db_with_posts(n: i32) -> DbConn {
        let mut c = DbConn::establish(":memory:").unwrap();
        posthaste::db::run_migrations(&mut c).unwrap();
        posthaste::db::run_embedded_migrations(
            &mut c,
            crate::SQLITE_MIGRATIONS,
            crate::MYSQL_MIGRATIONS,
        )
        .unwrap();
        c.batch_execute(
            "INSERT INTO users (id, username, email, display_name, password_hash, role, created_at, updated_at) \
             VALUES (1, 'ana', 'ana@example.com', 'Ana', 'x', 'member', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
        )
        .unwrap();
        for id in 1..=n {
            c.batch_execute(&format!(
                "INSERT INTO posts (id, author_id, parent_id, thread_id, title, body_md, body_html, created_at, updated_at) \
                 VALUES ({id}, 1, NULL, {id}, NULL, 'post {id}', '<p>post {id}</p>', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            ))
            .unwrap();
        }
        c
    }

    fn post(c: &mut DbConn, id: i32) -> Post {
        posts::table
            .find(id)
            .select(Post::as_select())
            .get_result(c)
            .unwrap()
    }

    fn ids(rows: &[(Post, Profile)]) -> Vec<i32> {
        rows.iter().map(|(p, _)| p.id).collect()
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn replace_remove_and_list() {
        let mut c = db_with_posts(3);
        for id in 1..=3 {
            let p = post(&mut c, id);
            replace(&mut c, &p, &strings(&["release", "ops"]), true).unwrap();
        }
        assert_eq!(
            ids(&tagged(&mut c, "release", None, 10).unwrap()),
            vec![3, 2, 1]
        );
        assert_eq!(
            ids(&tagged(&mut c, "release", Some(PostId(3)), 10).unwrap()),
            vec![2, 1]
        );
        assert_eq!(ids(&tagged(&mut c, "release", None, 1).unwrap()), vec![3]);
        // An edit replaces the post's tags.
        let p2 = post(&mut c, 2);
        replace(&mut c, &p2, &strings(&["ops"]), false).unwrap();
        assert_eq!(
            ids(&tagged(&mut c, "release", None, 10).unwrap()),
            vec![3, 1]
        );
        assert_eq!(
            ids(&tagged(&mut c, "ops", None, 10).unwrap()),
            vec![3, 2, 1]
        );
        // Deleting removes its rows; a soft-deleted post is not listed even with rows left.
        assert_eq!(remove(&mut c, 3).unwrap(), 2);
        c.batch_execute("UPDATE posts SET deleted_at = '2026-01-02 00:00:00' WHERE id = 1")
            .unwrap();
        assert_eq!(ids(&tagged(&mut c, "ops", None, 10).unwrap()), vec![2]);
        assert!(tagged(&mut c, "nothing", None, 10).unwrap().is_empty());
    }

    #[test]
    fn many_tags_insert_in_chunks() {
        let mut c = db_with_posts(1);
        let p = post(&mut c, 1);
        let many: Vec<String> = (0..INSERT_CHUNK * 2 + 7).map(|i| format!("t{i}")).collect();
        replace(&mut c, &p, &many, true).unwrap();
        assert_eq!(remove(&mut c, 1).unwrap(), many.len());
    }

    #[test]
    fn top_recent_counts_the_newest_rows() {
        let mut c = db_with_posts(4);
        let tags: [&[&str]; 4] = [&["old"], &["b", "a"], &["a", "c"], &["a", "b"]];
        for (i, t) in tags.iter().enumerate() {
            let p = post(&mut c, i as i32 + 1);
            replace(&mut c, &p, &strings(t), true).unwrap();
        }
        let top = top_recent(&mut c, 100, 10).unwrap();
        let got: Vec<(&str, i64)> = top.iter().map(|t| (t.tag.as_str(), t.uses)).collect();
        assert_eq!(got, vec![("a", 3), ("b", 2), ("c", 1), ("old", 1)]);
        // Only the newest 6 rows (posts 4, 3, 2) and the top 2.
        let top = top_recent(&mut c, 6, 2).unwrap();
        let got: Vec<(&str, i64)> = top.iter().map(|t| (t.tag.as_str(), t.uses)).collect();
        assert_eq!(got, vec![("a", 3), ("b", 2)]);
        assert!(top_recent(&mut c, 6, 10)
            .unwrap()
            .iter()
            .all(|t| t.tag != "old"));
    }
}
