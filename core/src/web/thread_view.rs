//! Posts and their threads as HTML: view models for a post, its replies and their forms, and
//! the rendering that nests replies (children first, so each template gets its children as a
//! ready string: a handlebars `{{> partial}}` inside `{{#each}}` deep-copies each item's
//! context and costs more than the rest of the page together).

use chrono::NaiveDateTime;
use serde::Serialize;

use super::views::PersonView;
use super::AppState;
use crate::error::AppResult;
use crate::posts::thread::{Node, Thread, COLLAPSED_SHOWS, COLLAPSE_OVER};
use crate::posts::{self, PageReplies, Post, MAX_BODY_CHARS};
use crate::render::{time, NESTED_MARKER};
use crate::users::{Profile, User};

/// How much of a thread to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replies {
    /// Everything, nested (permalink page, "Show all").
    All,
    /// Collapsed when long (front page).
    Latest,
}

/// What every item on a page needs to know about who is looking.
pub struct RenderCtx<'a> {
    /// The app.
    pub state: &'a AppState,
    /// The signed-in member.
    pub viewer: &'a User,
    /// Render time, for relative times.
    pub now: NaiveDateTime,
}

impl<'a> RenderCtx<'a> {
    /// Rendering for `viewer`, now.
    pub fn new(state: &'a AppState, viewer: &'a User) -> Self {
        Self {
            state,
            viewer,
            now: crate::db::now(),
        }
    }
}

/// The editable block of a post or reply (`partials/content`).
#[derive(Serialize)]
pub struct ContentView<'a> {
    dom_id: String,
    title: Option<&'a str>,
    permalink: String,
    body_html: &'a str,
    edited: bool,
    edited_exact: Option<String>,
}

/// A reply's permalink: its thread's page, at its anchor.
pub fn reply_permalink(p: &Post) -> String {
    format!("/p/{}#r-{}", p.thread_id, p.id)
}

/// A post's or reply's permalink.
pub fn permalink(p: &Post) -> String {
    if p.parent_id.is_none() {
        format!("/p/{}", p.id)
    } else {
        reply_permalink(p)
    }
}

/// The DOM id of an item's content block.
pub fn content_dom_id(p: &Post) -> String {
    if p.parent_id.is_none() {
        format!("content-p-{}", p.id)
    } else {
        format!("content-r-{}", p.id)
    }
}

/// The view of an item's content block.
pub fn content_view(p: &Post) -> ContentView<'_> {
    ContentView {
        dom_id: content_dom_id(p),
        title: p.title.as_deref(),
        permalink: permalink(p),
        body_html: &p.body_html,
        edited: p.edited_at.is_some(),
        edited_exact: p.edited_at.map(time::exact),
    }
}

/// Holds nothing viewer-specific beyond the permission flags: rendered HTML is shared through
/// [`Renderer::render_cached`](crate::render::Renderer::render_cached).
#[derive(Serialize, Hash)]
struct PostView<'a> {
    id: i32,
    permalink: String,
    title: Option<&'a str>,
    body_html: &'a str,
    created_iso: String,
    created_exact: String,
    created_relative: String,
    author: PersonView,
    edited: bool,
    edited_exact: Option<String>,
    can_reply: bool,
    can_edit: bool,
    can_delete: bool,
    reply_form_url: String,
    reply_nojs_url: String,
    edit_url: String,
    delete_url: String,
    /// Always [`NESTED_MARKER`]: the replies are spliced into the cached HTML.
    replies_section_html: &'static str,
}

/// Like [`PostView`], shared between viewers with the same permissions.
#[derive(Serialize, Hash)]
struct ReplyView<'a> {
    id: i32,
    thread_id: i32,
    permalink: String,
    deleted: bool,
    body_html: &'a str,
    created_iso: String,
    created_exact: String,
    created_relative: String,
    author: PersonView,
    edited: bool,
    edited_exact: Option<String>,
    in_reply_to: Option<&'a str>,
    depth: u8,
    can_reply: bool,
    can_edit: bool,
    can_delete: bool,
    reply_form_url: String,
    reply_nojs_url: String,
    edit_url: String,
    delete_url: String,
    /// Always [`NESTED_MARKER`]: the children are spliced into the cached HTML.
    children_html: &'static str,
}

#[derive(Serialize, Hash)]
struct RepliesView {
    thread_id: i32,
    reply_count: usize,
    hidden_count: usize,
    show_all_url: Option<String>,
    permalink: String,
    /// Always [`NESTED_MARKER`]: the replies are spliced into the cached HTML.
    replies_html: &'static str,
}

/// The reply form (`partials/reply_form`).
#[derive(Serialize)]
pub struct ReplyFormView<'a> {
    /// DOM id.
    pub form_id: String,
    /// POST target.
    pub action: String,
    /// The post or reply answered.
    pub parent_id: i32,
    /// Its author, when answering a reply.
    pub replying_to: Option<&'a str>,
    /// Text typed so far.
    pub body: &'a str,
    /// Validation message.
    pub error: Option<&'a str>,
    /// Inserted under an item by htmx (vs. the permanent form on the permalink page).
    pub inline: bool,
    /// Where "Cancel" goes without JavaScript.
    pub cancel_url: String,
    /// CSRF token.
    pub csrf_token: &'a str,
    /// Longest body.
    pub max_len: usize,
}

impl<'a> ReplyFormView<'a> {
    /// A form answering `parent` (a post or reply) in `thread_id`.
    pub fn new(
        thread_id: i32,
        parent: &Post,
        parent_author: &'a str,
        csrf_token: &'a str,
        inline: bool,
    ) -> Self {
        let is_root = parent.parent_id.is_none();
        Self {
            form_id: if is_root {
                format!("reply-form-p-{}", parent.id)
            } else {
                format!("reply-form-r-{}", parent.id)
            },
            action: format!("/p/{thread_id}/replies"),
            parent_id: parent.id,
            replying_to: (!is_root).then_some(parent_author),
            body: "",
            error: None,
            inline,
            cancel_url: format!("/p/{thread_id}"),
            csrf_token,
            max_len: MAX_BODY_CHARS,
        }
    }
}

/// The inline edit form (`partials/edit_form`).
#[derive(Serialize)]
pub struct EditFormView<'a> {
    dom_id: String,
    action: String,
    body: &'a str,
    error: Option<&'a str>,
    cancel_url: String,
    permalink: String,
    csrf_token: &'a str,
    max_len: usize,
}

impl<'a> EditFormView<'a> {
    /// The form editing `p`, holding `body` (its text, or what was typed) and an error.
    pub fn new(p: &Post, body: &'a str, error: Option<&'a str>, csrf_token: &'a str) -> Self {
        Self {
            dom_id: content_dom_id(p),
            action: format!("/p/{}/edit", p.id),
            body,
            error,
            cancel_url: format!("/p/{}/content", p.id),
            permalink: permalink(p),
            csrf_token,
            max_len: MAX_BODY_CHARS,
        }
    }
}

/// `html` with its [`NESTED_MARKER`] replaced by `nested`.
fn splice(html: &str, nested: &str) -> String {
    match html.split_once(NESTED_MARKER) {
        Some((before, after)) => {
            let mut out = String::with_capacity(html.len() + nested.len());
            out.push_str(before);
            out.push_str(nested);
            out.push_str(after);
            out
        }
        // A theme template that leaves out the nested content.
        None => html.to_string(),
    }
}

impl<'c> RenderCtx<'c> {
    fn person(&self, a: &Profile) -> PersonView {
        PersonView::of(a, self.state.config.gravatar)
    }

    fn reply_view<'n>(&self, n: &'n Node<'_>) -> ReplyView<'n>
    where
        'c: 'n,
    {
        let p = n.post;
        let may = !n.deleted && posts::may_modify(self.viewer, p);
        ReplyView {
            id: p.id,
            thread_id: p.thread_id,
            permalink: reply_permalink(p),
            deleted: n.deleted,
            body_html: if n.deleted { "" } else { &p.body_html },
            created_iso: time::iso(p.created_at),
            created_exact: time::exact(p.created_at),
            created_relative: time::relative(p.created_at, self.now),
            author: self.person(n.author),
            edited: p.edited_at.is_some(),
            edited_exact: p.edited_at.map(time::exact),
            in_reply_to: n.in_reply_to,
            depth: n.depth,
            can_reply: !n.deleted && self.viewer.can_post(),
            can_edit: may,
            can_delete: may,
            reply_form_url: format!("/p/{}/reply-form?parent={}", p.thread_id, p.id),
            reply_nojs_url: format!("/p/{}?reply_to={}#reply-form", p.thread_id, p.id),
            edit_url: format!("/p/{}/edit", p.id),
            delete_url: format!("/p/{}/delete", p.id),
            children_html: NESTED_MARKER,
        }
    }

    /// One reply and everything displayed inside it.
    pub fn render_node(&self, n: &Node<'_>) -> AppResult<String> {
        let mut children = String::new();
        for c in &n.children {
            children.push_str(&self.render_node(c)?);
        }
        let html =
            self.state
                .renderer
                .render_cached("partials/reply", n.post.id, &self.reply_view(n))?;
        Ok(splice(&html, &children))
    }

    /// A post's replies section: the whole thread, or (front page) its newest replies when long.
    pub fn render_replies(
        &self,
        root: &Post,
        thread: &Thread<'_>,
        mode: Replies,
    ) -> AppResult<String> {
        let live = thread.live_count();
        let collapse = mode == Replies::Latest && live > COLLAPSE_OVER;
        let nodes = if collapse {
            thread.latest(COLLAPSED_SHOWS)
        } else {
            thread.tree(root.id, self.state.config.max_reply_depth)
        };
        let mut html = String::new();
        for n in &nodes {
            html.push_str(&self.render_node(n)?);
        }
        let view = RepliesView {
            thread_id: root.id,
            reply_count: live,
            hidden_count: if collapse { live - nodes.len() } else { 0 },
            show_all_url: collapse.then(|| format!("/p/{}/replies", root.id)),
            permalink: format!("/p/{}", root.id),
            replies_html: NESTED_MARKER,
        };
        let section = self
            .state
            .renderer
            .render_cached("partials/replies", root.id, &view)?;
        Ok(splice(&section, &html))
    }

    /// A top-level post with its replies section. `replies` are the thread's loaded replies;
    /// `live` the thread's live reply count when only part of it was loaded.
    pub fn render_post(
        &self,
        p: &Post,
        author: &Profile,
        replies: &[(Post, Profile)],
        live: Option<usize>,
        mode: Replies,
    ) -> AppResult<String> {
        let mut thread = Thread::new(replies, &author.display_name);
        if let Some(n) = live {
            thread = thread.with_live_count(n);
        }
        let may = posts::may_modify(self.viewer, p);
        let view = PostView {
            id: p.id,
            permalink: format!("/p/{}", p.id),
            title: p.title.as_deref(),
            body_html: &p.body_html,
            created_iso: time::iso(p.created_at),
            created_exact: time::exact(p.created_at),
            created_relative: time::relative(p.created_at, self.now),
            author: self.person(author),
            edited: p.edited_at.is_some(),
            edited_exact: p.edited_at.map(time::exact),
            can_reply: self.viewer.can_post(),
            can_edit: may,
            can_delete: may,
            reply_form_url: format!("/p/{0}/reply-form?parent={0}", p.id),
            reply_nojs_url: format!("/p/{0}?reply_to={0}#reply-form", p.id),
            edit_url: format!("/p/{}/edit", p.id),
            delete_url: format!("/p/{}/delete", p.id),
            replies_section_html: NESTED_MARKER,
        };
        let html = self
            .state
            .renderer
            .render_cached("partials/post", p.id, &view)?;
        Ok(splice(&html, &self.render_replies(p, &thread, mode)?))
    }

    /// A page of posts, each with its (collapsed when long) thread from
    /// [`posts::front_replies`].
    pub fn render_posts(
        &self,
        items: &[(Post, Profile)],
        replies: &PageReplies,
    ) -> AppResult<String> {
        let rows = &replies.rows;
        let mut html = String::with_capacity(items.len() * 1500);
        for (p, a) in items {
            let start = rows.partition_point(|(r, _)| r.thread_id < p.id);
            let end = start + rows[start..].partition_point(|(r, _)| r.thread_id == p.id);
            let live = replies.live.get(&p.id).copied().unwrap_or(0);
            html.push_str(&self.render_post(
                p,
                a,
                &rows[start..end],
                Some(live),
                Replies::Latest,
            )?);
        }
        Ok(html)
    }
}
