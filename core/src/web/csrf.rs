//! CSRF protection: a per-session token in every form, checked on every state-changing
//! request, plus a same-origin check of `Origin` / `Sec-Fetch-Site`.

use actix_session::Session;
use actix_web::HttpRequest;
use base64::Engine;
use subtle::ConstantTimeEq;

use crate::config::Config;
use crate::error::{AppError, AppResult};

const KEY: &str = "csrf";
/// The form field carrying the token.
pub const FIELD: &str = "csrf_token";
/// The request header carrying the token (htmx requests; see assets/app.js).
pub const HEADER: &str = "x-csrf-token";

/// The session's token, created on first use.
pub fn token(session: &Session) -> String {
    if let Ok(Some(t)) = session.get::<String>(KEY) {
        return t;
    }
    rotate(session)
}

/// Replaces the session's token (at sign-in, so a token seen before sign-in is useless after).
pub fn rotate(session: &Session) -> String {
    let bytes: [u8; 32] = rand::random();
    let t = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    // Inserting a String cannot fail to serialize.
    let _ = session.insert(KEY, &t);
    t
}

/// Refuses the request unless it comes from this site and carries the session's token.
pub fn verify(
    req: &HttpRequest,
    config: &Config,
    session: &Session,
    submitted: Option<&str>,
) -> AppResult<()> {
    let refuse = |why: &str| {
        tracing::warn!(path = req.path(), why, "CSRF check failed");
        AppError::Forbidden(
            "This form has expired or came from another site. Go back, reload the page and try again."
                .into(),
        )
    };
    if req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return Err(refuse("cross-site fetch"));
    }
    if let Some(origin) = req.headers().get("origin").and_then(|v| v.to_str().ok()) {
        if !same_origin(req, config, origin) {
            return Err(refuse("foreign origin"));
        }
    }
    let expected = session.get::<String>(KEY).ok().flatten();
    match (expected, submitted) {
        (Some(e), Some(s)) if !e.is_empty() && bool::from(e.as_bytes().ct_eq(s.as_bytes())) => {
            Ok(())
        }
        _ => Err(refuse("missing or wrong token")),
    }
}

fn same_origin(req: &HttpRequest, config: &Config, origin: &str) -> bool {
    if origin == "null" {
        return false;
    }
    if let Some(public) = &config.public_url {
        if origin.eq_ignore_ascii_case(public) {
            return true;
        }
    }
    let host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(origin);
    let conn = req.connection_info();
    host.eq_ignore_ascii_case(conn.host())
}
