//! A member's email settings, and one-click unsubscribe from a notification mail (which works
//! without signing in: the link carries a signature only the server can make).

use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::mail;
use crate::users::{self, Notice, UserId};
use crate::web::extract::{CsrfForm, CurrentUser};
use crate::web::{views, AppState};

#[derive(Serialize)]
struct Choice {
    name: &'static str,
    label: &'static str,
    checked: bool,
}

#[derive(Serialize)]
struct SettingsCtx {
    choices: Vec<Choice>,
    saved: bool,
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

/// `GET /settings`.
pub async fn settings_page(
    state: web::Data<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    q: web::Query<SavedQuery>,
) -> AppResult<HttpResponse> {
    let choices = Notice::ALL
        .into_iter()
        .map(|n| Choice {
            name: n.as_str(),
            label: n.describe(),
            checked: user.wants(n),
        })
        .collect();
    let ctx = SettingsCtx {
        choices,
        saved: q.saved.is_some(),
    };
    views::page(
        &state,
        Some(&session),
        Some(&user),
        StatusCode::OK,
        "settings",
        "Settings",
        &ctx,
    )
}

#[derive(Deserialize)]
pub struct SettingsForm {
    mention: Option<String>,
    reply_post: Option<String>,
    reply_reply: Option<String>,
}

/// `POST /settings`: a checked box turns that kind of email on, an unchecked one off.
pub async fn save_settings(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    form: CsrfForm<SettingsForm>,
) -> AppResult<HttpResponse> {
    let f = form.0;
    let wanted = [
        (Notice::Mention, f.mention.is_some()),
        (Notice::ReplyPost, f.reply_post.is_some()),
        (Notice::ReplyReply, f.reply_reply.is_some()),
    ];
    let id = user.user_id();
    state
        .db(move |c| Ok(users::set_notices(c, id, &wanted)?))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/settings?saved=1"))
        .finish())
}

#[derive(Serialize)]
struct UnsubscribeCtx<'a> {
    what: &'a str,
    action: String,
    done: bool,
}

fn check(state: &AppState, path: &(i32, String, String)) -> AppResult<(UserId, Notice)> {
    let (user, notice, sig) = path;
    let notice = Notice::parse(notice).ok_or(AppError::NotFound)?;
    if !mail::verify_unsubscribe(&state.config, *user, notice, sig) {
        return Err(AppError::NotFound);
    }
    Ok((UserId(*user), notice))
}

/// `GET /unsubscribe/{user}/{kind}/{signature}`: asks to confirm (a link preview must not
/// unsubscribe anyone).
pub async fn unsubscribe_page(
    state: web::Data<AppState>,
    path: web::Path<(i32, String, String)>,
) -> AppResult<HttpResponse> {
    let (_, notice) = check(&state, &path)?;
    let (user, kind, sig) = path.into_inner();
    let ctx = UnsubscribeCtx {
        what: notice.describe(),
        action: format!("/unsubscribe/{user}/{kind}/{sig}"),
        done: false,
    };
    views::page(
        &state,
        None,
        None,
        StatusCode::OK,
        "unsubscribe",
        "Unsubscribe",
        &ctx,
    )
}

/// `POST /unsubscribe/{user}/{kind}/{signature}`: the confirmation button, and RFC 8058
/// one-click unsubscribe from mail clients. No CSRF token: the signed URL is the authority.
pub async fn unsubscribe(
    state: web::Data<AppState>,
    path: web::Path<(i32, String, String)>,
) -> AppResult<HttpResponse> {
    let (user, notice) = check(&state, &path)?;
    state
        .db(move |c| Ok(users::set_notice(c, user, notice, false)?))
        .await?;
    tracing::info!(user = user.0, kind = notice.as_str(), "unsubscribed");
    let ctx = UnsubscribeCtx {
        what: notice.describe(),
        action: String::new(),
        done: true,
    };
    views::page(
        &state,
        None,
        None,
        StatusCode::OK,
        "unsubscribe",
        "Unsubscribed",
        &ctx,
    )
}
