//! `GET /healthz`: is the database reachable?

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::web::AppState;

/// 200 with the backend name when a query succeeds, 503 otherwise.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let backend = state.config.database.backend();
    match state.db(|c| Ok(crate::db::ping(c)?)).await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ok", "database": backend })),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "unavailable", "database": backend }))
        }
    }
}
