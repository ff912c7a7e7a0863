//! A thread: the permalink page, replying, "show all replies", and inline edit and delete of
//! posts and replies. Every action works as a plain form with full pages, and as htmx
//! fragments in place.

use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::NoFields;
use super::front::{htmx_error, save_text, PostForm};
use crate::error::{AppError, AppResult};
use crate::posts::thread::{Node, Thread};
use crate::posts::{self, Post, PostBody, PostId};
use crate::users::{Profile, User};
use crate::web::extract::{is_htmx, CsrfForm, CurrentUser};
use crate::web::thread_view::{self, EditFormView, RenderCtx, Replies, ReplyFormView};
use crate::web::{csrf, views, AppState};

fn parse_id(raw: &str) -> AppResult<PostId> {
    raw.parse::<i32>()
        .map(PostId)
        .map_err(|_| AppError::NotFound)
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// A live top-level post with its author and every reply of its thread.
async fn load_thread(
    state: &AppState,
    id: PostId,
) -> AppResult<(Post, Profile, Vec<(Post, Profile)>)> {
    state
        .db(move |c| {
            let (post, author) = posts::find_visible(c, id)?.ok_or(AppError::NotFound)?;
            if post.parent_id.is_some() {
                return Err(AppError::NotFound);
            }
            let replies = posts::replies_of(c, &[post.id])?;
            Ok((post, author, replies))
        })
        .await
}

/// A live post or reply that `user` may modify (403 otherwise).
async fn load_own(state: &AppState, user: &User, id: PostId) -> AppResult<Post> {
    let (post, _) = state
        .db(move |c| Ok(posts::find_visible(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    if !posts::may_modify(user, &post) {
        return Err(AppError::Forbidden(
            "Only the author or an admin can change this.".into(),
        ));
    }
    Ok(post)
}

#[derive(Deserialize)]
pub struct PermalinkQuery {
    reply_to: Option<String>,
}

#[derive(Serialize)]
struct PermalinkCtx {
    post_html: String,
    reply_form_html: String,
}

struct FormState<'a> {
    reply_to: Option<i32>,
    body: &'a str,
    error: Option<&'a str>,
}

async fn render_permalink(
    state: &web::Data<AppState>,
    session: &Session,
    user: &User,
    id: PostId,
    form: FormState<'_>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let (post, author, replies) = state
        .db(move |c| {
            let (post, author) = posts::find_visible(c, id)?.ok_or(AppError::NotFound)?;
            // A reply's own address redirects to its place in the thread: no replies needed.
            let replies = match post.parent_id {
                None => posts::replies_of(c, &[post.id])?,
                Some(_) => Vec::new(),
            };
            Ok((post, author, replies))
        })
        .await?;
    if post.parent_id.is_some() {
        return Ok(see_other(&thread_view::reply_permalink(&post)));
    }
    let token = csrf::token(session);
    let ctx = RenderCtx::new(state, user);
    let post_html = ctx.render_post(&post, &author, &replies, None, Replies::All)?;
    let reply_form_html = if user.can_post() {
        // Answer the requested reply if it is live in this thread, else the post.
        let parent = form.reply_to.and_then(|r| {
            replies
                .iter()
                .find(|(p, _)| p.id == r && p.deleted_at.is_none())
        });
        let mut view = match parent {
            Some((p, a)) => ReplyFormView::new(post.id, p, &a.display_name, &token, false),
            None => ReplyFormView::new(post.id, &post, &author.display_name, &token, false),
        };
        view.body = form.body;
        view.error = form.error;
        state.renderer.render("partials/reply_form", &view)?
    } else {
        String::new()
    };
    let ctx = PermalinkCtx {
        post_html,
        reply_form_html,
    };
    views::page(
        state,
        Some(session),
        Some(user),
        status,
        "post",
        &post.headline(),
        &ctx,
    )
}

/// `GET /p/{id}`: a post with its whole thread (a reply's id redirects to its anchor).
pub async fn permalink(
    state: web::Data<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    id: web::Path<String>,
    q: web::Query<PermalinkQuery>,
) -> AppResult<HttpResponse> {
    let id = parse_id(&id)?;
    let reply_to = q.reply_to.as_deref().and_then(|r| r.parse().ok());
    let form = FormState {
        reply_to,
        body: "",
        error: None,
    };
    render_permalink(&state, &session, &user, id, form, StatusCode::OK).await
}

/// `GET /p/{id}/replies` (htmx): the thread's full replies section ("Show all N replies").
pub async fn all_replies(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (post, author, replies) = load_thread(&state, parse_id(&id)?).await?;
    let ctx = RenderCtx::new(&state, &user);
    let thread = Thread::new(&replies, &author.display_name);
    Ok(html(
        StatusCode::OK,
        ctx.render_replies(&post, &thread, Replies::All)?,
    ))
}

#[derive(Deserialize)]
pub struct ReplyFormQuery {
    parent: Option<String>,
}

/// `GET /p/{thread}/reply-form?parent=ID` (htmx): an inline reply form under that item.
pub async fn reply_form(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    CurrentUser(user): CurrentUser,
    thread: web::Path<String>,
    q: web::Query<ReplyFormQuery>,
) -> AppResult<HttpResponse> {
    let thread = parse_id(&thread)?;
    let parent = match q.parent.as_deref() {
        Some(p) => parse_id(p)?,
        None => thread,
    };
    if !is_htmx(&req) {
        return Ok(see_other(&format!(
            "/p/{}?reply_to={}#reply-form",
            thread.0, parent.0
        )));
    }
    if !user.can_post() {
        return Err(AppError::Forbidden("Guests can read but not reply.".into()));
    }
    let (post, author) = state
        .db(move |c| Ok(posts::find_visible(c, parent)?))
        .await?
        .ok_or(AppError::NotFound)?;
    if post.thread_id != thread.0 {
        return Err(AppError::NotFound);
    }
    let token = csrf::token(&session);
    let view = ReplyFormView::new(thread.0, &post, &author.display_name, &token, true);
    views::fragment(&state, StatusCode::OK, "partials/reply_form", &view)
}

#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    body: String,
}

fn reply_form_error_id(thread: PostId, parent: PostId) -> String {
    if thread == parent {
        format!("#reply-form-p-{}-error", parent.0)
    } else {
        format!("#reply-form-r-{}-error", parent.0)
    }
}

/// `POST /p/{thread}/replies`: publishes a reply to the post or to one of its replies.
pub async fn create_reply(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    CurrentUser(user): CurrentUser,
    thread: web::Path<String>,
    form: CsrfForm<ReplyForm>,
) -> AppResult<HttpResponse> {
    let thread = parse_id(&thread)?;
    let f = form.0;
    let parent = match f.parent_id.trim() {
        "" => thread,
        p => p.parse::<i32>().map(PostId).map_err(|_| {
            AppError::BadRequest("The reply form names no valid post to answer.".into())
        })?,
    };
    let htmx = is_htmx(&req);
    let body = match PostBody::parse(&f.body) {
        Ok(b) => b,
        Err(msg) if htmx => return htmx_error(&state, &reply_form_error_id(thread, parent), &msg),
        Err(msg) => {
            let form = FormState {
                reply_to: Some(parent.0),
                body: &f.body,
                error: Some(&msg),
            };
            return render_permalink(
                &state,
                &session,
                &user,
                thread,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let (author, hooks) = (user.clone(), state.hooks.clone());
    let created = state
        .db(move |c| posts::reply(c, &hooks, &author, thread, parent, &body))
        .await;
    let reply = match created {
        Ok(r) => r,
        Err(AppError::BadRequest(msg) | AppError::Rejected(msg)) if htmx => {
            return htmx_error(&state, &reply_form_error_id(thread, parent), &msg);
        }
        Err(e) => return Err(e),
    };
    if !htmx {
        return Ok(see_other(&thread_view::reply_permalink(&reply)));
    }
    // Render the new reply where the thread would show it, and tell htmx where that is.
    let (root, root_author, replies) = load_thread(&state, thread).await?;
    let t = Thread::new(&replies, &root_author.display_name);
    let (depth, container) = t.placement(root.id, parent.0, state.config.max_reply_depth);
    let parent_author = replies
        .iter()
        .find(|(p, _)| p.id == parent.0)
        .map_or(root_author.display_name.as_str(), |(_, a)| {
            a.display_name.as_str()
        });
    let node = Node {
        post: &reply,
        author: &user.profile(),
        deleted: false,
        depth,
        in_reply_to: (container.unwrap_or(root.id) != parent.0).then_some(parent_author),
        children: Vec::new(),
    };
    let ctx = RenderCtx::new(&state, &user);
    let target = match container {
        Some(c) => format!("#children-r-{c}"),
        None => format!("#children-p-{}", root.id),
    };
    Ok(HttpResponse::Created()
        .content_type("text/html; charset=utf-8")
        .insert_header(("HX-Retarget", target))
        .insert_header(("HX-Reswap", "beforeend"))
        .body(ctx.render_node(&node)?))
}

#[derive(Serialize)]
struct EditPage<'a> {
    form: EditFormView<'a>,
    kind: &'static str,
}

fn kind(p: &Post) -> &'static str {
    if p.parent_id.is_none() {
        "post"
    } else {
        "reply"
    }
}

/// `GET /p/{id}/edit`: the edit form, inline (htmx) or as a page.
pub async fn edit_form(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    CurrentUser(user): CurrentUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let post = load_own(&state, &user, parse_id(&id)?).await?;
    let token = csrf::token(&session);
    let form = EditFormView::new(&post, &post.body_md, None, &token);
    if is_htmx(&req) {
        return views::fragment(&state, StatusCode::OK, "partials/edit_form", &form);
    }
    let title = if post.parent_id.is_none() {
        "Edit post"
    } else {
        "Edit reply"
    };
    views::page(
        &state,
        Some(&session),
        Some(&user),
        StatusCode::OK,
        "edit",
        title,
        &EditPage {
            form,
            kind: kind(&post),
        },
    )
}

/// `POST /p/{id}/edit`: saves (author or admin), re-rendering the text now.
pub async fn save_edit(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    CurrentUser(user): CurrentUser,
    id: web::Path<String>,
    form: CsrfForm<PostForm>,
) -> AppResult<HttpResponse> {
    let id = parse_id(&id)?;
    let raw = form.0.body;
    let actor = user.clone();
    let saved = save_text(&state, &raw, move |c, hooks, body| {
        posts::edit(c, hooks, &actor, id, &body)
    })
    .await?;
    let post = match saved {
        Ok(p) => p,
        Err(msg) => {
            let post = load_own(&state, &user, id).await?;
            let token = csrf::token(&session);
            let form = EditFormView::new(&post, &raw, Some(&msg), &token);
            if is_htmx(&req) {
                let mut res = views::fragment(
                    &state,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "partials/edit_form",
                    &form,
                )?;
                let target = format!("#{}", thread_view::content_dom_id(&post));
                res.headers_mut().insert(
                    header::HeaderName::from_static("hx-retarget"),
                    header::HeaderValue::from_str(&target)
                        .map_err(|e| AppError::Internal(e.into()))?,
                );
                res.headers_mut().insert(
                    header::HeaderName::from_static("hx-reswap"),
                    header::HeaderValue::from_static("outerHTML"),
                );
                return Ok(res);
            }
            let title = if post.parent_id.is_none() {
                "Edit post"
            } else {
                "Edit reply"
            };
            let page = EditPage {
                form,
                kind: kind(&post),
            };
            return views::page(
                &state,
                Some(&session),
                Some(&user),
                StatusCode::UNPROCESSABLE_ENTITY,
                "edit",
                title,
                &page,
            );
        }
    };
    if is_htmx(&req) {
        return views::fragment(
            &state,
            StatusCode::OK,
            "partials/content",
            &thread_view::content_view(&post),
        );
    }
    Ok(see_other(&thread_view::permalink(&post)))
}

/// `GET /p/{id}/content` (htmx): the content block again ("Cancel" on an inline edit).
pub async fn content(
    state: web::Data<AppState>,
    CurrentUser(_user): CurrentUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = parse_id(&id)?;
    let (post, _) = state
        .db(move |c| Ok(posts::find_visible(c, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    views::fragment(
        &state,
        StatusCode::OK,
        "partials/content",
        &thread_view::content_view(&post),
    )
}

#[derive(Serialize)]
struct DeletePage {
    kind: &'static str,
    excerpt: String,
    action: String,
    cancel_url: String,
    has_children: bool,
}

/// `GET /p/{id}/delete`: asks for confirmation (the no-JavaScript path).
pub async fn confirm_delete(
    state: web::Data<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = parse_id(&id)?;
    let post = load_own(&state, &user, id).await?;
    let has_children = state
        .db(move |c| Ok(posts::has_live_replies(c, id)?))
        .await?;
    let page = DeletePage {
        kind: kind(&post),
        excerpt: post.headline(),
        action: format!("/p/{}/delete", post.id),
        cancel_url: thread_view::permalink(&post),
        has_children,
    };
    let title = if post.parent_id.is_none() {
        "Delete post"
    } else {
        "Delete reply"
    };
    views::page(
        &state,
        Some(&session),
        Some(&user),
        StatusCode::OK,
        "delete",
        title,
        &page,
    )
}

fn find_node<'t, 'a>(nodes: &'t [Node<'a>], id: i32) -> Option<&'t Node<'a>> {
    nodes.iter().find_map(|n| {
        if n.post.id == id {
            Some(n)
        } else {
            find_node(&n.children, id)
        }
    })
}

/// `POST /p/{id}/delete` (author or admin).
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    CurrentUser(user): CurrentUser,
    id: web::Path<String>,
    _form: CsrfForm<NoFields>,
) -> AppResult<HttpResponse> {
    let id = parse_id(&id)?;
    let actor = user.clone();
    let hooks = state.hooks.clone();
    let post = state
        .db(move |c| posts::delete(c, &hooks, &actor, id))
        .await?;
    let htmx = is_htmx(&req);
    if post.parent_id.is_none() {
        if !htmx {
            return Ok(see_other("/"));
        }
        // Deleted from its own page: nothing is left to show there, so go to the front page.
        let on_its_page = req
            .headers()
            .get("hx-current-url")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|u| {
                u.split(['?', '#'])
                    .next()
                    .unwrap_or("")
                    .ends_with(&format!("/p/{}", post.id))
            });
        let mut res = html(StatusCode::OK, String::new());
        if on_its_page {
            res.headers_mut().insert(
                header::HeaderName::from_static("hx-redirect"),
                header::HeaderValue::from_static("/"),
            );
        }
        return Ok(res);
    }
    if !htmx {
        return Ok(see_other(&format!("/p/{}", post.thread_id)));
    }
    // The reply's element becomes its stub (with its live replies), or goes away.
    let (root, root_author, replies) = load_thread(&state, PostId(post.thread_id)).await?;
    let t = Thread::new(&replies, &root_author.display_name);
    let tree = t.tree(root.id, state.config.max_reply_depth);
    let ctx = RenderCtx::new(&state, &user);
    let body = match find_node(&tree, post.id) {
        Some(n) => ctx.render_node(n)?,
        None => String::new(),
    };
    Ok(html(StatusCode::OK, body))
}
