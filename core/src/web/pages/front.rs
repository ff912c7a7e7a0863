//! The front page (posting box + posts with their threads) and publishing a post.

use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::hooks::{FrontQuery, Hooks};
use crate::posts::{self, Post, PostBody, PostId, MAX_BODY_CHARS, PAGE_SIZE};
use crate::users::User;
use crate::web::extract::{is_htmx, CsrfForm, CurrentUser};
use crate::web::thread_view::{RenderCtx, Replies};
use crate::web::{views, AppState};

/// `?before=ID`: the keyset cursor of list pages.
#[derive(Deserialize)]
pub struct PageQuery {
    before: Option<String>,
}

impl PageQuery {
    /// The cursor, or a 400 for a malformed one.
    pub fn cursor(&self) -> AppResult<Option<PostId>> {
        PostId::parse_cursor(self.before.as_deref()).map_err(AppError::BadRequest)
    }
}

#[derive(Serialize)]
struct Composer<'a> {
    body: &'a str,
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct FrontCtx<'a> {
    prompt: String,
    composer: Composer<'a>,
    posts_html: String,
    older_url: Option<String>,
    is_first_page: bool,
    max_len: usize,
}

/// Renders one front page: the page's posts with their authors (one query) and all their
/// replies (one query), whatever the number of threads or replies.
async fn render_front(
    state: &web::Data<AppState>,
    session: &Session,
    user: User,
    before: Option<PostId>,
    status: StatusCode,
    composer: Composer<'_>,
) -> AppResult<HttpResponse> {
    let shape = if state.hooks.front_query.is_active() {
        state
            .hooks
            .front_query
            .apply(FrontQuery {
                viewer: user.id,
                first_page: before.is_none(),
                ..FrontQuery::default()
            })
            .map_err(|e| AppError::BadRequest(e.to_string()))?
    } else {
        FrontQuery::default()
    };
    let (page, replies) = state
        .db(move |c| {
            let page = posts::front_page(c, before, PAGE_SIZE, &shape)?;
            let ids: Vec<i32> = page.posts.iter().map(|(p, _)| p.id).collect();
            let replies = posts::front_replies(c, &ids)?;
            Ok((page, replies))
        })
        .await?;
    let ctx = RenderCtx::new(state, &user);
    let front = FrontCtx {
        prompt: state
            .config
            .prompt
            .replace("{name}", first_name(&user.display_name)),
        composer,
        posts_html: ctx.render_posts(&page.posts, &replies)?,
        older_url: page.older.map(|o| format!("/?before={}", o.0)),
        is_first_page: before.is_none(),
        max_len: MAX_BODY_CHARS,
    };
    views::page(
        state,
        Some(session),
        Some(&user),
        status,
        "front",
        "",
        &front,
    )
}

fn first_name(display: &str) -> &str {
    display.split_whitespace().next().unwrap_or(display)
}

/// `GET /?before=ID`.
pub async fn index(
    state: web::Data<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let before = q.cursor()?;
    let composer = Composer {
        body: "",
        error: None,
    };
    render_front(&state, &session, user, before, StatusCode::OK, composer).await
}

/// A form with one Markdown `body` (new post, edit).
#[derive(Deserialize)]
pub struct PostForm {
    #[serde(default)]
    pub body: String,
}

#[derive(Serialize)]
struct ErrorFragment<'a> {
    error: &'a str,
}

/// An htmx answer that puts `msg` into the element `#target` (validation errors).
pub fn htmx_error(state: &AppState, target: &str, msg: &str) -> AppResult<HttpResponse> {
    let mut res = views::fragment(
        state,
        StatusCode::UNPROCESSABLE_ENTITY,
        "partials/composer_error",
        &ErrorFragment { error: msg },
    )?;
    let h = res.headers_mut();
    h.insert(
        header::HeaderName::from_static("hx-retarget"),
        header::HeaderValue::from_str(target).map_err(|e| AppError::Internal(e.into()))?,
    );
    h.insert(
        header::HeaderName::from_static("hx-reswap"),
        header::HeaderValue::from_static("innerHTML"),
    );
    Ok(res)
}

/// Parses a post's or reply's text and saves it with `save` (publish, edit). Invalid text and
/// a hook's refusal both come back as `Ok(Err(message))`, for the form to show with the text;
/// other failures are errors.
pub async fn save_text<F>(state: &AppState, raw: &str, save: F) -> AppResult<Result<Post, String>>
where
    F: FnOnce(&mut DbConn, &Hooks, PostBody) -> AppResult<Post> + Send + 'static,
{
    let body = match PostBody::parse(raw) {
        Ok(b) => b,
        Err(msg) => return Ok(Err(msg)),
    };
    let hooks = state.hooks.clone();
    match state.db(move |c| save(c, &hooks, body)).await {
        Err(AppError::Rejected(msg)) => Ok(Err(msg)),
        other => other.map(Ok),
    }
}

/// `POST /posts`: publishes, then redirects (plain form) or returns the post's HTML (htmx).
pub async fn create(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    CurrentUser(user): CurrentUser,
    form: CsrfForm<PostForm>,
) -> AppResult<HttpResponse> {
    let raw = form.0.body;
    let author = user.clone();
    let published = save_text(&state, &raw, move |c, hooks, body| {
        posts::publish(c, hooks, &author, &body)
    })
    .await?;
    let post = match published {
        Ok(p) => p,
        Err(msg) => {
            if is_htmx(&req) {
                return htmx_error(&state, "#composer-error", &msg);
            }
            let composer = Composer {
                body: &raw,
                error: Some(&msg),
            };
            return render_front(
                &state,
                &session,
                user,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                composer,
            )
            .await;
        }
    };
    if is_htmx(&req) {
        let ctx = RenderCtx::new(&state, &user);
        let html = ctx.render_post(&post, &user.profile(), &[], None, Replies::Latest)?;
        return Ok(HttpResponse::Created()
            .content_type("text/html; charset=utf-8")
            .body(html));
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/#p-{}", post.id)))
        .finish())
}
