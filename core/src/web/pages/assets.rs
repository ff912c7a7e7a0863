//! `GET /assets/{path}`: embedded (or theme) static files, cached for a year because every
//! URL carries the asset version.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::error::{AppError, AppResult};
use crate::web::AppState;

/// Serves one asset.
pub async fn asset(state: web::Data<AppState>, path: web::Path<String>) -> AppResult<HttpResponse> {
    let (bytes, mime) = state.renderer.asset(&path).ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, mime))
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(bytes.into_owned()))
}
