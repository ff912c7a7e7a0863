//! Posts: validated bodies, title inference, publishing (rendered once, at write time) and
//! the front-page and permalink queries.

pub mod title;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{posts, users};
use crate::db::{self, DbConn, LiteralLimitDsl};
use crate::error::{AppError, AppResult};
use crate::render::markdown;
use crate::users::{Profile, User};

/// The longest post or reply, in characters.
pub const MAX_BODY_CHARS: usize = 20_000;
/// Posts per front page.
pub const PAGE_SIZE: i64 = 20;

/// A post's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PostId(pub i32);

/// A post or reply body as typed: non-blank, at most [`MAX_BODY_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostBody(String);

impl PostBody {
    /// Validates a body; the message is shown inline to the author.
    pub fn parse(raw: &str) -> Result<Self, String> {
        // Normalize line endings so title inference and storage agree across browsers.
        let text = raw.replace("\r\n", "\n").replace('\r', "\n");
        let text = text.trim_end();
        if text.trim().is_empty() {
            return Err("Write something first: an empty post can't be published.".into());
        }
        let n = text.chars().count();
        if n > MAX_BODY_CHARS {
            return Err(format!(
                "That is {n} characters; posts can be at most {MAX_BODY_CHARS}. Please shorten it or split it into a reply."
            ));
        }
        // Leading blank lines carry no meaning; leading spaces can (code blocks).
        Ok(Self(text.trim_start_matches('\n').to_string()))
    }
    /// The Markdown text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored post or reply.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = posts)]
pub struct Post {
    /// Row id.
    pub id: i32,
    /// Who wrote it.
    pub author_id: i32,
    /// The post or reply this answers (None for a top-level post).
    pub parent_id: Option<i32>,
    /// The top-level post of the thread (its own id for a top-level post).
    pub thread_id: i32,
    /// Inferred title, if any.
    pub title: Option<String>,
    /// The Markdown as written.
    pub body_md: String,
    /// Sanitized HTML rendered at save time.
    pub body_html: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last change of any kind.
    pub updated_at: NaiveDateTime,
    /// When the text was last edited.
    pub edited_at: Option<NaiveDateTime>,
    /// Soft-deletion time.
    pub deleted_at: Option<NaiveDateTime>,
}

impl Post {
    /// The title, or the first words of the body with "…", for lists, mail and `<title>`.
    pub fn headline(&self) -> String {
        match &self.title {
            Some(t) => t.clone(),
            None => title::excerpt(&self.body_md, 8),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = posts)]
struct NewPostRow<'a> {
    author_id: i32,
    parent_id: Option<i32>,
    thread_id: i32,
    title: Option<&'a str>,
    body_md: &'a str,
    body_html: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Publishes a top-level post by `author`: infers the title, renders the body once and stores
/// both.
pub fn publish(conn: &mut DbConn, author: &User, body: &PostBody) -> AppResult<Post> {
    if !author.can_post() {
        return Err(AppError::Forbidden("Guests can read but not post.".into()));
    }
    let (title, rest) = title::infer(body.as_str());
    let html = markdown::to_html(rest);
    let now = db::now();
    let post = conn.transaction(|conn| -> QueryResult<Post> {
        diesel::insert_into(posts::table)
            .values(NewPostRow {
                author_id: author.id,
                parent_id: None,
                thread_id: 0,
                title: title.as_deref(),
                body_md: body.as_str(),
                body_html: &html,
                created_at: now,
                updated_at: now,
            })
            .execute(conn)?;
        let id = db::last_insert_id(conn)?;
        // A top-level post is its own thread, so a whole thread loads by one indexed column.
        diesel::update(posts::table.find(id))
            .set(posts::thread_id.eq(id))
            .execute(conn)?;
        posts::table.find(id).select(Post::as_select()).first(conn)
    })?;
    tracing::info!(post = post.id, author = author.id, "post published");
    Ok(post)
}

/// One page of the front page: visible top-level posts with their authors, newest first.
pub struct FrontPage {
    /// The posts on this page, each with its author.
    pub posts: Vec<(Post, Profile)>,
    /// The cursor for the next (older) page, if there is one.
    pub older: Option<PostId>,
}

/// Loads a front page in one indexed query (posts joined with their authors), strictly older
/// than `before`: keyset pagination, so the cost does not grow with the page number.
///
/// The first page has no cursor at all rather than `id < MAX`, and the page size is a literal:
/// SQLite re-plans a prepared statement whenever a value bound in a range condition (with
/// STAT4) or a LIMIT changes, which would cost a full re-parse on every view of the busiest
/// page. See [`db::LiteralLimit`].
pub fn front_page(conn: &mut DbConn, before: Option<PostId>, limit: i64) -> QueryResult<FrontPage> {
    let base = posts::table
        .inner_join(users::table)
        .filter(posts::parent_id.is_null())
        .filter(posts::deleted_at.is_null())
        .order(posts::id.desc())
        .select((Post::as_select(), Profile::as_select()));
    let n = u32::try_from(limit + 1).unwrap_or(u32::MAX);
    let mut posts = match before {
        None => base.literal_limit(n).load::<(Post, Profile)>(conn)?,
        Some(b) => base
            .filter(posts::id.lt(b.0))
            .literal_limit(n)
            .load::<(Post, Profile)>(conn)?,
    };
    let older = if posts.len() as i64 > limit {
        posts.truncate(limit as usize);
        posts.last().map(|(p, _)| PostId(p.id))
    } else {
        None
    };
    Ok(FrontPage { posts, older })
}

/// A visible (not deleted) post or reply by id, with its author.
pub fn find_visible(conn: &mut DbConn, id: PostId) -> QueryResult<Option<(Post, Profile)>> {
    posts::table
        .inner_join(users::table)
        .filter(posts::id.eq(id.0))
        .filter(posts::deleted_at.is_null())
        .select((Post::as_select(), Profile::as_select()))
        .get_result(conn)
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        assert!(PostBody::parse("").is_err());
        assert!(PostBody::parse(" \n\t \r\n ").is_err());
        assert_eq!(
            PostBody::parse("\n\nhi\r\nthere  \n").unwrap().as_str(),
            "hi\nthere"
        );
        assert!(PostBody::parse(&"é".repeat(MAX_BODY_CHARS)).is_ok());
        let e = PostBody::parse(&"a".repeat(MAX_BODY_CHARS + 1)).unwrap_err();
        assert!(e.contains("20000"), "{e}");
        assert_eq!(PostBody::parse("    code").unwrap().as_str(), "    code");
    }
}
