//! The payloads of the hook points (what each registered function receives).

use std::collections::HashMap;
use std::sync::Arc;

use pulldown_cmark::Event;
use serde::{Deserialize, Serialize};

use crate::posts::Post;
use crate::users::Profile;

/// `post_content` (filter, at save time): a post or reply being rendered. Core's Markdown
/// filter (priority [`content::MARKDOWN`](super::content::MARKDOWN)) parses `markdown` into
/// `events`; later filters rewrite the events (core links mentions and bare URLs); the result
/// is turned into HTML and sanitized once, then stored.
#[derive(Debug, Clone)]
pub struct Content {
    /// The Markdown as written (a post's inferred title line removed).
    pub markdown: Arc<str>,
    /// The document as pulldown-cmark events (empty before the Markdown filter).
    pub events: Vec<Event<'static>>,
    /// Mentioned names that are members: lowercased name as written → username.
    pub mentions: Arc<HashMap<String, String>>,
    /// A reply rather than a top-level post.
    pub is_reply: bool,
}

/// `outgoing_mail` (filter, in the worker just before sending). A `Reject` means "do not
/// send this mail" (the job still counts as done).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// What the mail is: `mention`, `reply_post`, `reply_reply`, `reset` or `invite`.
    pub kind: &'static str,
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// Who is looking at a page (for the page slots).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotViewer {
    /// Member id.
    pub id: i32,
    /// Login name.
    pub username: String,
    /// Admin?
    pub is_admin: bool,
}

/// `page_head` and `sidebar` (filters, on every full page render): HTML for a slot of the
/// layout. What a filter returns is emitted unescaped: escape anything you add (handlebars'
/// `escape` or your own templates do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// The slot's HTML so far.
    pub html: String,
    /// The page's template (`front`, `post`, `list`, …).
    pub page: String,
    /// The signed-in member, if any.
    pub viewer: Option<Arc<SlotViewer>>,
}

/// `front_query` (filter, before the front page loads): which posts the front page hides or
/// pins. Filters run on the request path and must not touch the database: keep what you need
/// in memory (refresh it from `tick`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrontQuery {
    /// The member looking.
    pub viewer: i32,
    /// Whether this is the first page (pinned posts show only there).
    pub first_page: bool,
    /// Top-level post ids not to show.
    pub hide: Vec<i32>,
    /// Top-level post ids to show first on the first page (in this order), and not again below.
    pub pin: Vec<i32>,
}

/// What changed, for [`SavedPost`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// A new post or reply.
    Published,
    /// Its text changed.
    Edited,
    /// It was deleted (soft: the row stays with `deleted_at` set).
    Deleted,
}

/// `post_saved` (action, inside the write transaction of the change): for a plugin's own rows
/// that must agree with the post (the tags plugin's index). Keep it quick.
#[derive(Debug, Clone)]
pub struct SavedPost {
    /// The post or reply as stored.
    pub post: Post,
    /// What happened to it.
    pub change: Change,
}

/// `post_published`, `reply_published`, `post_edited`, `post_deleted` (actions, in the job
/// worker after the change committed).
#[derive(Debug, Clone)]
pub struct PostEvent {
    /// The post or reply as it is now (an edit or deletion since may show).
    pub post: Post,
    /// Its author.
    pub author: Profile,
    /// The absolute link to it (`https://site/p/1#r-5` for a reply).
    pub url: String,
}

/// `user_registered` (action, in the job worker): a new member.
#[derive(Debug, Clone)]
pub struct UserEvent {
    /// The member.
    pub user: Profile,
}

/// `mention_recorded` (action, in the job worker): a post or reply newly mentions members.
#[derive(Debug, Clone)]
pub struct MentionEvent {
    /// Where and by whom.
    pub source: PostEvent,
    /// The members newly mentioned (never the author).
    pub mentioned: Vec<Profile>,
}

/// `tick` (action, on every node every few seconds, and once at start): refresh in-memory
/// state that filters read (they must not query the database on the request path).
#[derive(Debug, Clone, Copy)]
pub struct Tick {
    /// True on the first tick after start.
    pub first: bool,
}

/// An action to run later, stored in a job row in the transaction of the change (the outbox):
/// actions run after commit, in the worker, and a crash loses none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ActionEvent {
    /// `post_published`.
    PostPublished {
        /// The post.
        post: i32,
    },
    /// `reply_published`.
    ReplyPublished {
        /// The reply.
        post: i32,
    },
    /// `post_edited` (posts and replies).
    PostEdited {
        /// The post or reply.
        post: i32,
    },
    /// `post_deleted` (posts and replies).
    PostDeleted {
        /// The post or reply.
        post: i32,
    },
    /// `user_registered`.
    UserRegistered {
        /// The member.
        user: i32,
    },
    /// `mention_recorded`.
    MentionRecorded {
        /// The post or reply.
        post: i32,
        /// The members newly mentioned.
        users: Vec<i32>,
    },
}
