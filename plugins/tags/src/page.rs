//! `GET /t/{tag}`: the live posts and replies carrying a tag, newest first (members only).

use actix_session::Session;
use actix_web::{web, HttpResponse};

use posthaste::error::{AppError, AppResult};
use posthaste::posts::PAGE_SIZE;
use posthaste::web::extract::CurrentUser;
use posthaste::web::pages::front::PageQuery;
use posthaste::web::pages::people::{list_page, with_headlines, List};
use posthaste::web::AppState;

use crate::parse::{normalize, tag_path};
use crate::store;

/// The tag page, rendered with core's list template (like `/u/{username}`): one query for
/// the page's rows with their authors, one for the headlines of the replies' threads.
pub async fn tag_page(
    state: web::Data<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    tag: web::Path<String>,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let before = q.cursor()?;
    let tag = normalize(&tag.into_inner()).ok_or(AppError::NotFound)?;
    let limit = PAGE_SIZE as u32 + 1;
    let rows = {
        let tag = tag.clone();
        state
            .db(move |c| {
                let rows = store::tagged(c, &tag, before, limit)?;
                with_headlines(c, rows)
            })
            .await?
    };
    let base_url = tag_path(&tag);
    let heading = format!("#{tag}");
    let empty = format!("No posts tagged #{tag} yet.");
    let list = List {
        person: None,
        heading: &heading,
        empty: &empty,
        base_url: &base_url,
        first_page: before.is_none(),
    };
    list_page(&state, &session, &user, list, rows).await
}
