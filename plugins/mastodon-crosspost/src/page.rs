//! `/mastodon`: a member sees whether their new posts are cross-posted and switches it.

use std::sync::Arc;

use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use posthaste::error::{AppError, AppResult};
use posthaste::web::extract::{CsrfForm, CurrentUser};
use posthaste::web::{views, AppState};
use serde::{Deserialize, Serialize};

use crate::settings::Account;
use crate::store;

/// The page's path.
pub const PATH: &str = "/mastodon";
/// The page's template.
pub const TEMPLATE: &str = "mastodon-crosspost/settings";

#[derive(Serialize)]
struct PageCtx<'a> {
    configured: bool,
    instance: &'a str,
    visibility: &'a str,
    can_post: bool,
    enabled: bool,
    saved: bool,
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

#[derive(Deserialize)]
pub struct Toggle {
    /// The checkbox: present when checked.
    crosspost: Option<String>,
}

/// `GET /mastodon`: whether this member's new posts are cross-posted, and the switch.
pub async fn show(
    account: Option<Arc<Account>>,
    state: web::Data<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    q: web::Query<SavedQuery>,
) -> AppResult<HttpResponse> {
    let account = account.as_deref();
    let id = user.id;
    let enabled = match account {
        Some(_) => state.db(move |c| Ok(store::opted_in(c, id)?)).await?,
        None => false,
    };
    let ctx = PageCtx {
        configured: account.is_some(),
        instance: account.map_or("", |a| a.instance.as_str()),
        visibility: account.map_or("", |a| a.visibility.as_str()),
        can_post: user.can_post(),
        enabled,
        saved: q.saved.is_some(),
    };
    views::page(
        &state,
        Some(&session),
        Some(&user),
        StatusCode::OK,
        TEMPLATE,
        "Mastodon",
        &ctx,
    )
}

/// `POST /mastodon`: switches cross-posting for this member.
pub async fn save(
    account: Option<Arc<Account>>,
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<Toggle>,
) -> AppResult<HttpResponse> {
    if account.is_none() {
        return Err(AppError::BadRequest(
            "Cross-posting to Mastodon is not set up on this site.".into(),
        ));
    }
    if !user.can_post() {
        return Err(AppError::Forbidden(
            "Guests can read but not post, so there is nothing to cross-post.".into(),
        ));
    }
    let (id, on) = (user.id, form.crosspost.is_some());
    state.db(move |c| Ok(store::set(c, id, on)?)).await?;
    tracing::info!(user = id, on, "mastodon-crosspost: preference saved");
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("{PATH}?saved=1")))
        .finish())
}
