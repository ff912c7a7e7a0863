//! The front page (posting box + posts), publishing, and the permalink page.

use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::db;
use crate::error::{AppError, AppResult};
use crate::posts::{self, PostBody, PostId, MAX_BODY_CHARS, PAGE_SIZE};
use crate::users::User;
use crate::web::extract::{is_htmx, CsrfForm, CurrentUser};
use crate::web::views::{self, PostView};
use crate::web::AppState;

#[derive(Deserialize)]
pub struct FrontQuery {
    before: Option<String>,
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

/// Loads one front page with its authors: one query whatever the page.
async fn load_front(
    state: &AppState,
    before: Option<PostId>,
) -> AppResult<(Vec<PostView>, Option<PostId>)> {
    let gravatar = state.config.gravatar;
    state
        .db(move |c| {
            let page = posts::front_page(c, before, PAGE_SIZE)?;
            Ok((
                views::post_views(&page.posts, gravatar, db::now()),
                page.older,
            ))
        })
        .await
}

#[allow(clippy::too_many_arguments)]
fn render_front(
    state: &AppState,
    session: &Session,
    user: &User,
    status: StatusCode,
    posts: Vec<PostView>,
    older: Option<PostId>,
    is_first_page: bool,
    composer: Composer<'_>,
) -> AppResult<HttpResponse> {
    let ctx = FrontCtx {
        prompt: state
            .config
            .prompt
            .replace("{name}", first_name(&user.display_name)),
        composer,
        posts_html: views::render_each(state, "partials/post", &posts)?,
        older_url: older.map(|o| format!("/?before={}", o.0)),
        is_first_page,
        max_len: MAX_BODY_CHARS,
    };
    views::page(state, Some(session), Some(user), status, "front", "", &ctx)
}

fn first_name(display: &str) -> &str {
    display.split_whitespace().next().unwrap_or(display)
}

/// `GET /?before=ID`.
pub async fn index(
    state: web::Data<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    q: web::Query<FrontQuery>,
) -> AppResult<HttpResponse> {
    let before = match q.before.as_deref() {
        None | Some("") => None,
        Some(s) => Some(PostId(s.parse::<i32>().map_err(|_| {
            AppError::BadRequest("That page link is broken: `before` must be a post number.".into())
        })?)),
    };
    let (posts, older) = load_front(&state, before).await?;
    let composer = Composer {
        body: "",
        error: None,
    };
    render_front(
        &state,
        &session,
        &user,
        StatusCode::OK,
        posts,
        older,
        before.is_none(),
        composer,
    )
}

#[derive(Deserialize)]
pub struct PostForm {
    #[serde(default)]
    body: String,
}

#[derive(Serialize)]
struct ErrorFragment<'a> {
    error: &'a str,
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
    let body = match PostBody::parse(&raw) {
        Ok(b) => b,
        Err(msg) => {
            if is_htmx(&req) {
                let mut res = views::fragment(
                    &state,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "partials/composer_error",
                    &ErrorFragment { error: &msg },
                )?;
                res.headers_mut().insert(
                    header::HeaderName::from_static("hx-retarget"),
                    header::HeaderValue::from_static("#composer-error"),
                );
                res.headers_mut().insert(
                    header::HeaderName::from_static("hx-reswap"),
                    header::HeaderValue::from_static("innerHTML"),
                );
                return Ok(res);
            }
            let (posts, older) = load_front(&state, None).await?;
            let composer = Composer {
                body: &raw,
                error: Some(&msg),
            };
            return render_front(
                &state,
                &session,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                posts,
                older,
                true,
                composer,
            );
        }
    };
    let author = user.clone();
    let post = state.db(move |c| posts::publish(c, &author, &body)).await?;
    if is_htmx(&req) {
        let view = views::post_view(&post, &user.profile(), state.config.gravatar, db::now());
        return views::fragment(&state, StatusCode::CREATED, "partials/post", &view);
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/#p-{}", post.id)))
        .finish())
}

#[derive(Serialize)]
struct PermalinkCtx {
    post: PostView,
}

/// `GET /p/{id}`.
pub async fn permalink(
    state: web::Data<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = PostId(id.parse::<i32>().map_err(|_| AppError::NotFound)?);
    let gravatar = state.config.gravatar;
    let (post, title) = state
        .db(move |c| {
            let (post, author) = posts::find_visible(c, id)?.ok_or(AppError::NotFound)?;
            Ok((
                views::post_view(&post, &author, gravatar, db::now()),
                post.headline(),
            ))
        })
        .await?;
    views::page(
        &state,
        Some(&session),
        Some(&user),
        StatusCode::OK,
        "post",
        &title,
        &PermalinkCtx { post },
    )
}
