//! View models: what templates see. Built from domain rows; everything here is plain data.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;
use sha2::{Digest, Sha256};

use std::sync::Arc;

use super::{csrf, AppState};
use crate::error::AppResult;
use crate::hooks::{Filter, Slot, SlotViewer};
use crate::users::{Profile, Role, User};

/// A person as shown next to a post or in the header.
#[derive(Debug, Clone, Serialize, Hash)]
pub struct PersonView {
    /// Id.
    pub id: i32,
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// One or two letters for the avatar.
    pub initials: String,
    /// Gravatar URL (d=blank, drawn over the initials) when enabled.
    pub avatar_url: Option<String>,
    /// `hue-N` CSS class for the initials circle.
    pub avatar_class: String,
    /// Admin?
    pub is_admin: bool,
}

impl PersonView {
    /// Builds the view of a member.
    pub fn of(u: &Profile, gravatar: bool) -> Self {
        let hue = u
            .username
            .bytes()
            .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
            % 12;
        Self {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            initials: initials(&u.display_name),
            avatar_url: gravatar.then(|| {
                let digest = Sha256::digest(u.email.trim().to_lowercase().as_bytes());
                format!(
                    "https://www.gravatar.com/avatar/{}?s=80&d=blank",
                    hex::encode(digest)
                )
            }),
            avatar_class: format!("hue-{hue}"),
            is_admin: u.role() == Role::Admin,
        }
    }
}

fn initials(name: &str) -> String {
    let mut it = name
        .split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()));
    let s: String = it.by_ref().take(2).flat_map(char::to_uppercase).collect();
    if s.is_empty() {
        "?".into()
    } else {
        s
    }
}

#[derive(Serialize)]
struct Layout<'a> {
    site_title: &'a str,
    page_title: &'a str,
    asset_version: &'a str,
    csrf_token: String,
    current_user: Option<PersonView>,
    content: String,
    head_extra: String,
    sidebar: String,
}

#[derive(Serialize)]
struct PageCtx<'a, T: Serialize> {
    site_title: &'a str,
    page_title: &'a str,
    csrf_token: &'a str,
    current_user: Option<&'a PersonView>,
    #[serde(flatten)]
    body: &'a T,
}

/// Renders a full page: the page template first (seeing `csrf_token`, `current_user` and its
/// own fields, plus the titles), then `layout` around it. Two plain renders rather than a handlebars partial
/// block, which would deep-copy the whole page context on every view.
pub fn page<T: Serialize>(
    state: &AppState,
    session: Option<&Session>,
    viewer: Option<&User>,
    status: StatusCode,
    template: &str,
    page_title: &str,
    body: &T,
) -> AppResult<HttpResponse> {
    let csrf_token = session.map(csrf::token).unwrap_or_default();
    let current_user = viewer.map(|u| PersonView::of(&u.profile(), state.config.gravatar));
    let head_extra = slot(&state.hooks.page_head, template, viewer);
    let sidebar = slot(&state.hooks.sidebar, template, viewer);
    let content = state.renderer.render(
        template,
        &PageCtx {
            site_title: &state.config.site_title,
            page_title,
            csrf_token: &csrf_token,
            current_user: current_user.as_ref(),
            body,
        },
    )?;
    let html = state.renderer.render(
        "layout",
        &Layout {
            site_title: &state.config.site_title,
            page_title,
            asset_version: &state.renderer.asset_version,
            csrf_token,
            current_user,
            content,
            head_extra,
            sidebar,
        },
    )?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// A layout slot's HTML from its filters (empty, at no cost, when no plugin fills it).
fn slot(point: &Filter<Slot>, page: &str, viewer: Option<&User>) -> String {
    if !point.is_active() {
        return String::new();
    }
    point
        .apply(Slot {
            html: String::new(),
            page: page.to_string(),
            viewer: viewer.map(|u| {
                Arc::new(SlotViewer {
                    id: u.id,
                    username: u.username.clone(),
                    is_admin: u.role() == Role::Admin,
                })
            }),
        })
        .map(|s| s.html)
        .unwrap_or_default()
}

/// Renders a fragment (for htmx) without the layout.
pub fn fragment<T: Serialize>(
    state: &AppState,
    status: StatusCode,
    template: &str,
    ctx: &T,
) -> AppResult<HttpResponse> {
    let html = state.renderer.render(template, ctx)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_from_names() {
        assert_eq!(initials("Ana María López"), "AM");
        assert_eq!(initials("bob"), "B");
        assert_eq!(initials("  "), "?");
        assert_eq!(initials("(Ze) ünal"), "ZÜ");
    }
}
