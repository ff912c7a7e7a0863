//! People and mentions: a member's page (`/u/{username}`), "mentions me" (`/mentions`), and
//! the member lookup behind @-autocomplete (`/api/members`).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::db;
use crate::error::{AppError, AppResult};
use crate::mentions;
use crate::posts::{self, Post, PAGE_SIZE};
use crate::render::time;
use crate::users::{self, Profile, User};
use crate::web::extract::CurrentUser;
use crate::web::pages::front::PageQuery;
use crate::web::thread_view;
use crate::web::views::{self, PersonView};
use crate::web::AppState;

/// One post or reply in a list, with where it belongs.
#[derive(Serialize, Hash)]
struct ItemView<'a> {
    id: i32,
    kind: &'static str,
    permalink: String,
    title: Option<&'a str>,
    body_html: &'a str,
    created_iso: String,
    created_exact: String,
    created_relative: String,
    author: PersonView,
    context_title: Option<&'a str>,
    context_url: Option<String>,
}

/// Renders a page of list items (each loaded with its author) plus the "older" cursor.
/// `rows` holds up to one more than [`PAGE_SIZE`]: the extra row only tells that there is an
/// older page.
async fn render_items(
    state: &AppState,
    rows: Vec<(Post, Profile)>,
    headlines: std::collections::HashMap<i32, String>,
    base_url: &str,
) -> AppResult<(String, Option<String>)> {
    let limit = PAGE_SIZE as usize;
    let older = (rows.len() > limit).then(|| format!("{base_url}?before={}", rows[limit - 1].0.id));
    let now = db::now();
    let mut html = String::new();
    for (p, a) in rows.iter().take(limit) {
        let is_reply = p.parent_id.is_some();
        let view = ItemView {
            id: p.id,
            kind: if is_reply { "reply" } else { "post" },
            permalink: thread_view::permalink(p),
            title: p.title.as_deref(),
            body_html: &p.body_html,
            created_iso: time::iso(p.created_at),
            created_exact: time::exact(p.created_at),
            created_relative: time::relative(p.created_at, now),
            author: PersonView::of(a, state.config.gravatar),
            context_title: if is_reply {
                headlines.get(&p.thread_id).map(String::as_str)
            } else {
                None
            },
            context_url: is_reply.then(|| format!("/p/{}", p.thread_id)),
        };
        html.push_str(&state.renderer.render_cached("partials/item", p.id, &view)?);
    }
    Ok((html, older))
}

/// The rows of a list page and the headlines of the threads its replies belong to.
pub type ListRows = (Vec<(Post, Profile)>, std::collections::HashMap<i32, String>);

/// Adds the headlines of the threads the rows' replies belong to (one query).
pub fn with_headlines(c: &mut db::DbConn, rows: Vec<(Post, Profile)>) -> AppResult<ListRows> {
    let mut threads: Vec<i32> = rows
        .iter()
        .filter(|(p, _)| p.parent_id.is_some())
        .map(|(p, _)| p.thread_id)
        .collect();
    threads.sort_unstable();
    threads.dedup();
    let headlines = posts::headlines(c, &threads)?;
    Ok((rows, headlines))
}

/// What a list page is about; its items come from the rows given to [`list_page`].
pub struct List<'a> {
    /// The member whose page this is, if any (shown instead of `heading`).
    pub person: Option<PersonView>,
    /// The page's heading and title.
    pub heading: &'a str,
    /// What the first page says when there is nothing to list.
    pub empty: &'a str,
    /// The list's own URL (the "Newest" link, and the base of "Older").
    pub base_url: &'a str,
    /// Whether this is the first page.
    pub first_page: bool,
}

#[derive(Serialize)]
struct ListCtx<'a> {
    person: Option<PersonView>,
    heading: &'a str,
    empty: &'a str,
    items_html: String,
    older_url: Option<String>,
    is_first_page: bool,
    base_url: &'a str,
}

/// Renders a list page (`list.hbs`) of posts and replies, newest first, from rows loaded with
/// [`with_headlines`] (up to [`PAGE_SIZE`] + 1: the extra row only tells that there is an older
/// page). `/mentions`, `/u/{username}` and plugins' lists (`/t/{tag}`) share it.
pub async fn list_page(
    state: &AppState,
    session: &Session,
    viewer: &User,
    list: List<'_>,
    (rows, headlines): ListRows,
) -> AppResult<HttpResponse> {
    let (items_html, older_url) = render_items(state, rows, headlines, list.base_url).await?;
    let ctx = ListCtx {
        person: list.person,
        heading: list.heading,
        empty: list.empty,
        items_html,
        older_url,
        is_first_page: list.first_page,
        base_url: list.base_url,
    };
    views::page(
        state,
        Some(session),
        Some(viewer),
        StatusCode::OK,
        "list",
        list.heading,
        &ctx,
    )
}

/// `GET /mentions`: posts and replies that mention the signed-in member, newest first.
pub async fn mentions_page(
    state: web::Data<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let before = q.cursor()?;
    let me = user.id;
    let rows = state
        .db(move |c| {
            let rows = mentions::of_user(c, me, before, PAGE_SIZE as u32 + 1)?;
            with_headlines(c, rows)
        })
        .await?;
    let list = List {
        person: None,
        heading: "Mentions",
        empty: "Nobody has mentioned you yet. When someone writes @ and your username, it shows up here.",
        base_url: "/mentions",
        first_page: before.is_none(),
    };
    list_page(&state, &session, &user, list, rows).await
}

/// `GET /u/{username}`: a member's posts and replies, newest first.
pub async fn person_page(
    state: web::Data<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    name: web::Path<String>,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let before = q.cursor()?;
    let name = name.into_inner();
    if name.contains('@') {
        return Err(AppError::NotFound);
    }
    let (person, rows, headlines) = state
        .db(move |c| {
            let person: User = users::find_by_login(c, &name)?.ok_or(AppError::NotFound)?;
            let rows = posts::by_author(c, person.id, before, PAGE_SIZE as u32 + 1)?;
            let (rows, headlines) = with_headlines(c, rows)?;
            Ok((person, rows, headlines))
        })
        .await?;
    let base_url = format!("/u/{}", person.username);
    let list = List {
        person: Some(PersonView::of(&person.profile(), state.config.gravatar)),
        heading: &person.display_name,
        empty: "No posts or replies yet.",
        base_url: &base_url,
        first_page: before.is_none(),
    };
    list_page(&state, &session, &user, list, (rows, headlines)).await
}

#[derive(Deserialize)]
pub struct MembersQuery {
    #[serde(default)]
    q: String,
}

#[derive(Serialize)]
struct MemberMatch {
    username: String,
    display_name: String,
}

/// `GET /api/members?q=an` (signed-in members only): up to 8 members whose username or
/// display name starts with `q`, for @-autocomplete.
pub async fn members_api(
    state: web::Data<AppState>,
    CurrentUser(_user): CurrentUser,
    q: web::Query<MembersQuery>,
) -> AppResult<HttpResponse> {
    let prefix: String =
        q.q.trim()
            .trim_start_matches('@')
            .chars()
            .take(30)
            .collect();
    if prefix.is_empty() {
        return Ok(HttpResponse::Ok().json(Vec::<MemberMatch>::new()));
    }
    let found = state
        .db(move |c| Ok(users::search_prefix(c, &prefix, 8)?))
        .await?;
    let out: Vec<MemberMatch> = found
        .into_iter()
        .map(|p| MemberMatch {
            username: p.username,
            display_name: p.display_name,
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}
