//! Posts: validated bodies, title inference, publishing (rendered once, at write time) and
//! the front-page and permalink queries.

pub mod thread;
pub mod title;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{posts, users};
use crate::db::{self, DbConn, LiteralLimitDsl};
use crate::error::{AppError, AppResult};
use crate::hooks::{self, ActionEvent, Change, Content, FrontQuery, Hooks, SavedPost};
use crate::jobs;
use crate::mentions;
use crate::users::{Notice, Profile, User};

/// The longest post or reply, in characters.
pub const MAX_BODY_CHARS: usize = 20_000;
/// Posts per front page.
pub const PAGE_SIZE: i64 = 20;

/// A post's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PostId(pub i32);

impl PostId {
    /// A page cursor (`?before=ID`): absent or empty means the first page.
    pub fn parse_cursor(raw: Option<&str>) -> Result<Option<Self>, String> {
        match raw {
            None | Some("") => Ok(None),
            Some(s) => s
                .parse::<i32>()
                .map(|id| Some(PostId(id)))
                .map_err(|_| "That page link is broken: `before` must be a post number.".into()),
        }
    }
}

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

/// Inserts a post or reply and records whom it mentions; returns its id. Call inside the
/// write transaction.
fn insert(conn: &mut DbConn, row: &NewPostRow<'_>, mentioned: &[i32]) -> QueryResult<i32> {
    diesel::insert_into(posts::table)
        .values(row)
        .execute(conn)?;
    let id = db::last_insert_id(conn)?;
    mentions::record(conn, PostId(id), mentioned, row.created_at)?;
    Ok(id)
}

/// Renders Markdown to stored HTML through the `post_content` hook chain (core's Markdown,
/// mention and autolink filters plus the plugins'). A filter's rejection becomes
/// [`AppError::Rejected`] and nothing is stored.
fn render(
    hooks: &Hooks,
    markdown: &str,
    mentioned: &mentions::Resolved,
    is_reply: bool,
) -> AppResult<String> {
    hooks::content::render(
        hooks,
        Content {
            markdown: markdown.into(),
            events: Vec::new(),
            mentions: Arc::new(mentioned.links.clone()),
            is_reply,
        },
    )
    .map_err(AppError::Rejected)
}

/// Finishes a change inside its transaction: reads the post back as stored, runs the
/// `post_saved` hooks and queues the after-commit actions (`events` plus the change's own).
fn saved(
    conn: &mut DbConn,
    hooks: &Hooks,
    id: i32,
    change: Change,
    mut events: Vec<ActionEvent>,
) -> QueryResult<Post> {
    let post = posts::table
        .find(id)
        .select(Post::as_select())
        .get_result(conn)?;
    events.push(match (change, post.parent_id) {
        (Change::Published, None) => ActionEvent::PostPublished { post: id },
        (Change::Published, Some(_)) => ActionEvent::ReplyPublished { post: id },
        (Change::Edited, _) => ActionEvent::PostEdited { post: id },
        (Change::Deleted, _) => ActionEvent::PostDeleted { post: id },
    });
    let post = SavedPost { post, change };
    hooks.post_saved.notify(conn, &post);
    hooks.queue(conn, events)?;
    Ok(post.post)
}

/// The `mention_recorded` event for members newly mentioned, if any.
fn mention_event(post: i32, users: &[i32]) -> Vec<ActionEvent> {
    if users.is_empty() {
        return Vec::new();
    }
    vec![ActionEvent::MentionRecorded {
        post,
        users: users.to_vec(),
    }]
}

/// Publishes a top-level post by `author`: infers the title, renders the body once and stores
/// both.
pub fn publish(
    conn: &mut DbConn,
    hooks: &Hooks,
    author: &User,
    body: &PostBody,
) -> AppResult<Post> {
    if !author.can_post() {
        return Err(AppError::Forbidden("Guests can read but not post.".into()));
    }
    // Mentions are looked up before the write transaction (SQLite: reads first would have to
    // upgrade to a write lock); a member added in between is simply not linked.
    let mentioned = mentions::resolve(conn, body.as_str())?;
    let (title, rest) = title::infer(body.as_str());
    let html = render(hooks, rest, &mentioned, false)?;
    let now = db::now();
    let post = conn.transaction(|conn| -> QueryResult<Post> {
        let row = NewPostRow {
            author_id: author.id,
            parent_id: None,
            thread_id: 0,
            title: title.as_deref(),
            body_md: body.as_str(),
            body_html: &html,
            created_at: now,
            updated_at: now,
        };
        let notify = mentioned.others(author.id);
        let id = insert(conn, &row, &notify)?;
        // A top-level post is its own thread, so a whole thread loads by one indexed column.
        diesel::update(posts::table.find(id))
            .set(posts::thread_id.eq(id))
            .execute(conn)?;
        jobs::enqueue(conn, &mention_mails(id, &notify))?;
        saved(
            conn,
            hooks,
            id,
            Change::Published,
            mention_event(id, &notify),
        )
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
pub fn front_page(
    conn: &mut DbConn,
    before: Option<PostId>,
    limit: i64,
    shape: &FrontQuery,
) -> QueryResult<FrontPage> {
    if !shape.hide.is_empty() || !shape.pin.is_empty() {
        return shaped_front_page(conn, before, limit, shape);
    }
    let base = posts::table
        .inner_join(users::table)
        .filter(posts::parent_id.is_null())
        .filter(posts::deleted_at.is_null())
        .order(posts::id.desc())
        .select((Post::as_select(), Profile::as_select()));
    let n = u32::try_from(limit + 1).unwrap_or(u32::MAX);
    let posts = match before {
        None => base.literal_limit(n).load::<(Post, Profile)>(conn)?,
        Some(b) => base
            .filter(posts::id.lt(b.0))
            .literal_limit(n)
            .load::<(Post, Profile)>(conn)?,
    };
    Ok(paged(posts, limit, Vec::new()))
}

/// Cuts one extra row off into the "older" cursor, with `pinned` on top.
fn paged(mut posts: Vec<(Post, Profile)>, limit: i64, pinned: Vec<(Post, Profile)>) -> FrontPage {
    let older = if posts.len() as i64 > limit {
        posts.truncate(limit as usize);
        posts.last().map(|(p, _)| PostId(p.id))
    } else {
        None
    };
    let mut all = pinned;
    all.extend(posts);
    FrontPage { posts: all, older }
}

/// The front page when `front_query` filters hide or pin posts: hidden and pinned posts are
/// left out of the listing; pinned ones come first on the first page, in the given order.
fn shaped_front_page(
    conn: &mut DbConn,
    before: Option<PostId>,
    limit: i64,
    shape: &FrontQuery,
) -> QueryResult<FrontPage> {
    let mut exclude: Vec<i32> = shape.hide.iter().chain(&shape.pin).copied().collect();
    exclude.sort_unstable();
    exclude.dedup();
    let mut q = posts::table
        .inner_join(users::table)
        .filter(posts::parent_id.is_null())
        .filter(posts::deleted_at.is_null())
        .filter(posts::id.ne_all(exclude))
        .order(posts::id.desc())
        .select((Post::as_select(), Profile::as_select()))
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(posts::id.lt(b.0));
    }
    let posts = q.limit(limit + 1).load::<(Post, Profile)>(conn)?;
    let pins: Vec<i32> = shape
        .pin
        .iter()
        .copied()
        .filter(|id| !shape.hide.contains(id))
        .collect();
    let pinned = if before.is_none() && shape.first_page && !pins.is_empty() {
        let mut found: Vec<(Post, Profile)> = posts::table
            .inner_join(users::table)
            .filter(posts::id.eq_any(&pins))
            .filter(posts::parent_id.is_null())
            .filter(posts::deleted_at.is_null())
            .select((Post::as_select(), Profile::as_select()))
            .load(conn)?;
        found.sort_by_key(|(p, _)| pins.iter().position(|&id| id == p.id));
        found
    } else {
        Vec::new()
    };
    Ok(paged(posts, limit, pinned))
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

/// Every reply (deleted ones included, for the thread's shape) of the given threads, with
/// authors, grouped by thread and oldest first within each: one indexed query.
pub fn replies_of(conn: &mut DbConn, thread_ids: &[i32]) -> QueryResult<Vec<(Post, Profile)>> {
    if thread_ids.is_empty() {
        return Ok(Vec::new());
    }
    posts::table
        .inner_join(users::table)
        .filter(posts::thread_id.eq_any(thread_ids))
        .filter(posts::parent_id.is_not_null())
        .order((posts::thread_id.asc(), posts::id.asc()))
        .select((Post::as_select(), Profile::as_select()))
        .load(conn)
}

/// The replies a front page shows for its threads.
pub struct PageReplies {
    /// Loaded replies with authors, grouped by thread, oldest first: all of a short thread;
    /// of a long one only the newest [`thread::COLLAPSED_SHOWS`] live replies and their parents.
    pub rows: Vec<(Post, Profile)>,
    /// Live replies per thread (whole thread, also when only part of it is loaded).
    pub live: HashMap<i32, usize>,
}

/// Loads what a page of collapsed threads shows, in two queries whatever the threads' sizes:
/// first every reply's shape (ids, parent, deleted: no text), then the full rows of just the
/// replies that will be displayed.
pub fn front_replies(conn: &mut DbConn, thread_ids: &[i32]) -> QueryResult<PageReplies> {
    let mut live: HashMap<i32, usize> = HashMap::new();
    if thread_ids.is_empty() {
        return Ok(PageReplies {
            rows: Vec::new(),
            live,
        });
    }
    let shape: Vec<(i32, i32, Option<i32>, bool)> = posts::table
        .filter(posts::thread_id.eq_any(thread_ids))
        .filter(posts::parent_id.is_not_null())
        .order((posts::thread_id.asc(), posts::id.asc()))
        .select((
            posts::thread_id,
            posts::id,
            posts::parent_id,
            posts::deleted_at.is_not_null(),
        ))
        .load(conn)?;
    for (thread, _, _, deleted) in &shape {
        if !deleted {
            *live.entry(*thread).or_default() += 1;
        }
    }
    let mut wanted: Vec<i32> = Vec::new();
    let mut start = 0;
    while start < shape.len() {
        let thread = shape[start].0;
        let end = start + shape[start..].partition_point(|r| r.0 == thread);
        let rows = &shape[start..end];
        if live.get(&thread).copied().unwrap_or(0) <= thread::COLLAPSE_OVER {
            wanted.extend(rows.iter().map(|r| r.1));
        } else {
            for r in rows
                .iter()
                .rev()
                .filter(|r| !r.3)
                .take(thread::COLLAPSED_SHOWS)
            {
                wanted.push(r.1);
                if let Some(parent) = r.2.filter(|&p| p != thread) {
                    wanted.push(parent);
                }
            }
        }
        start = end;
    }
    wanted.sort_unstable();
    wanted.dedup();
    let rows = if wanted.is_empty() {
        Vec::new()
    } else {
        posts::table
            .inner_join(users::table)
            .filter(posts::id.eq_any(&wanted))
            .order((posts::thread_id.asc(), posts::id.asc()))
            .select((Post::as_select(), Profile::as_select()))
            .load(conn)?
    };
    Ok(PageReplies { rows, live })
}

/// A member's live posts and replies, newest first, older than `before`.
pub fn by_author(
    conn: &mut DbConn,
    author: i32,
    before: Option<PostId>,
    limit: u32,
) -> QueryResult<Vec<(Post, Profile)>> {
    let q = posts::table
        .inner_join(users::table)
        .filter(posts::author_id.eq(author))
        .filter(posts::deleted_at.is_null())
        .order(posts::id.desc())
        .select((Post::as_select(), Profile::as_select()));
    match before {
        None => q.literal_limit(limit).load(conn),
        Some(b) => q.filter(posts::id.lt(b.0)).literal_limit(limit).load(conn),
    }
}

/// Headlines (title, or first words) of the given top-level posts, for "reply in …" lines.
pub fn headlines(conn: &mut DbConn, ids: &[i32]) -> QueryResult<HashMap<i32, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i32, Option<String>, String)> = posts::table
        .filter(posts::id.eq_any(ids))
        .select((posts::id, posts::title, posts::body_md))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, t, md)| (id, t.unwrap_or_else(|| title::excerpt(&md, 8))))
        .collect())
}

/// Whether a post or reply has live replies of its own.
pub fn has_live_replies(conn: &mut DbConn, id: PostId) -> QueryResult<bool> {
    let n: i64 = posts::table
        .filter(posts::parent_id.eq(id.0))
        .filter(posts::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The mail jobs telling `users` that post `post` mentions them.
fn mention_mails(post: i32, users: &[i32]) -> Vec<jobs::Job> {
    users
        .iter()
        .map(|&user| jobs::Job::MentionMail { post, user })
        .collect()
}

/// The mail jobs for a new reply `id` by `replier` to `parent`: its author hears of a reply to
/// their post or reply, and the thread's author of a reply in their thread. Nobody hears of
/// their own reply, and whoever the reply mentions gets only the mention mail.
fn reply_mails(
    id: i32,
    replier: i32,
    parent: &Post,
    root_author: i32,
    mentioned: &[i32],
) -> Vec<jobs::Job> {
    let parent_notice = if parent.parent_id.is_none() {
        Notice::ReplyPost
    } else {
        Notice::ReplyReply
    };
    let mut out: Vec<jobs::Job> = Vec::new();
    for (user, notice) in [
        (parent.author_id, parent_notice),
        (root_author, Notice::ReplyPost),
    ] {
        let already = out
            .iter()
            .any(|j| matches!(j, jobs::Job::ReplyMail { user: u, .. } if *u == user));
        if user != replier && !mentioned.contains(&user) && !already {
            out.push(jobs::Job::ReplyMail {
                post: id,
                user,
                notice,
            });
        }
    }
    out
}

/// Whether `actor` may edit or delete `post`: its author, or an admin. Guests never.
pub fn may_modify(actor: &User, post: &Post) -> bool {
    actor.can_post() && (actor.id == post.author_id || actor.role() == crate::users::Role::Admin)
}

/// Why a reply was refused.
fn refused(why: &str) -> AppError {
    AppError::BadRequest(why.to_string())
}

/// Takes the write lock on a live post's row first (SQLite: the database write lock, so the
/// reads that follow cannot go stale; MySQL: the row lock) and returns the post.
fn lock_live(conn: &mut DbConn, id: PostId) -> AppResult<Post> {
    let touched = diesel::update(posts::table.find(id.0).filter(posts::deleted_at.is_null()))
        .set(posts::updated_at.eq(db::now()))
        .execute(conn)?;
    if touched == 0 {
        return Err(AppError::NotFound);
    }
    Ok(posts::table
        .find(id.0)
        .select(Post::as_select())
        .get_result(conn)?)
}

/// Publishes a reply by `author` to `parent` (the thread's post or one of its replies) in
/// `thread`. A missing, deleted, or other-thread parent, or a deleted thread, is refused and
/// nothing is stored.
pub fn reply(
    conn: &mut DbConn,
    hooks: &Hooks,
    author: &User,
    thread: PostId,
    parent: PostId,
    body: &PostBody,
) -> AppResult<Post> {
    if !author.can_post() {
        return Err(AppError::Forbidden("Guests can read but not reply.".into()));
    }
    let mentioned = mentions::resolve(conn, body.as_str())?;
    let html = render(hooks, body.as_str(), &mentioned, true)?;
    let post = conn.transaction(|conn| -> AppResult<Post> {
        let parent_post = lock_live(conn, parent).map_err(|e| match e {
            AppError::NotFound => {
                refused("The post or reply you are answering does not exist any more.")
            }
            e => e,
        })?;
        if parent_post.thread_id != thread.0 {
            return Err(refused("That reply belongs to another thread."));
        }
        let root_author = if parent_post.parent_id.is_some() {
            posts::table
                .find(thread.0)
                .filter(posts::deleted_at.is_null())
                .select(posts::author_id)
                .get_result::<i32>(conn)
                .optional()?
                .ok_or_else(|| refused("This thread was deleted."))?
        } else {
            parent_post.author_id
        };
        let now = db::now();
        let row = NewPostRow {
            author_id: author.id,
            parent_id: Some(parent.0),
            thread_id: thread.0,
            title: None,
            body_md: body.as_str(),
            body_html: &html,
            created_at: now,
            updated_at: now,
        };
        let notify = mentioned.others(author.id);
        let id = insert(conn, &row, &notify)?;
        let mut mails = mention_mails(id, &notify);
        mails.extend(reply_mails(
            id,
            author.id,
            &parent_post,
            root_author,
            &notify,
        ));
        jobs::enqueue(conn, &mails)?;
        Ok(saved(
            conn,
            hooks,
            id,
            Change::Published,
            mention_event(id, &notify),
        )?)
    })?;
    tracing::info!(
        reply = post.id,
        thread = thread.0,
        author = author.id,
        "reply published"
    );
    Ok(post)
}

/// Replaces the text of a post or reply (author or admin), re-rendering it now.
pub fn edit(
    conn: &mut DbConn,
    hooks: &Hooks,
    actor: &User,
    id: PostId,
    body: &PostBody,
) -> AppResult<Post> {
    let mentioned = mentions::resolve(conn, body.as_str())?;
    let post = conn.transaction(|conn| -> AppResult<Post> {
        let old = lock_live(conn, id)?;
        if !may_modify(actor, &old) {
            return Err(AppError::Forbidden(
                "Only the author or an admin can edit this.".into(),
            ));
        }
        let (title, rest) = if old.parent_id.is_none() {
            title::infer(body.as_str())
        } else {
            (None, body.as_str())
        };
        let html = render(hooks, rest, &mentioned, old.parent_id.is_some())?;
        let now = db::now();
        diesel::update(posts::table.find(id.0))
            .set((
                posts::title.eq(title.as_deref()),
                posts::body_md.eq(body.as_str()),
                posts::body_html.eq(html),
                posts::edited_at.eq(Some(now)),
                posts::updated_at.eq(now),
            ))
            .execute(conn)?;
        // Only members mentioned now and not before are notified.
        let added = mentions::replace(conn, id, &mentioned.others(old.author_id), now)?;
        jobs::enqueue(conn, &mention_mails(id.0, &added))?;
        Ok(saved(
            conn,
            hooks,
            id.0,
            Change::Edited,
            mention_event(id.0, &added),
        )?)
    })?;
    tracing::info!(post = post.id, actor = actor.id, "post edited");
    Ok(post)
}

/// Deletes a post or reply (author or admin). A deleted post takes its thread off the front
/// page; a deleted reply stays as a stub while it holds live replies. Rows are kept (soft
/// delete) so the thread keeps its shape.
pub fn delete(conn: &mut DbConn, hooks: &Hooks, actor: &User, id: PostId) -> AppResult<Post> {
    let post = conn.transaction(|conn| -> AppResult<Post> {
        let old = lock_live(conn, id)?;
        if !may_modify(actor, &old) {
            return Err(AppError::Forbidden(
                "Only the author or an admin can delete this.".into(),
            ));
        }
        let now = db::now();
        diesel::update(posts::table.find(id.0))
            .set((posts::deleted_at.eq(Some(now)), posts::updated_at.eq(now)))
            .execute(conn)?;
        Ok(saved(conn, hooks, id.0, Change::Deleted, Vec::new())?)
    })?;
    tracing::info!(post = post.id, actor = actor.id, "post deleted");
    Ok(post)
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
