//! Request extractors: the signed-in member, CSRF-checked forms, the client IP.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use super::{csrf, AppState};
use crate::error::{AppError, AppResult};
use crate::users::{self, sessions::USER_ID_KEY, User, UserId};

fn state(req: &HttpRequest) -> AppResult<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState missing")))
}

/// The signed-in member, if any.
pub struct Viewer(pub Option<User>);

async fn load_viewer(req: &HttpRequest) -> AppResult<Option<User>> {
    let session = req.get_session();
    let Some(id) = session.get::<i32>(USER_ID_KEY).ok().flatten() else {
        return Ok(None);
    };
    let user = state(req)?
        .db(move |c| Ok(users::find(c, UserId(id))?))
        .await?;
    if user.is_none() {
        session.purge();
    }
    Ok(user)
}

impl FromRequest for Viewer {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = AppResult<Self>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(Viewer(load_viewer(&req).await?)) })
    }
}

/// A signed-in member; anyone else is sent to sign in (or to first-run setup).
pub struct CurrentUser(pub User);

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = AppResult<Self>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if let Some(u) = load_viewer(&req).await? {
                return Ok(CurrentUser(u));
            }
            let location = if state(&req)?.needs_setup().await? {
                "/setup".to_string()
            } else if req.method() == actix_web::http::Method::GET && req.path() != "/" {
                let next = match req.query_string() {
                    "" => req.path().to_string(),
                    q => format!("{}?{q}", req.path()),
                };
                format!(
                    "/login?{}",
                    serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
                )
            } else {
                "/login".to_string()
            };
            Err(AppError::SignInRequired { location })
        })
    }
}

/// A url-encoded form whose `csrf_token` matched the session's and whose request came from
/// this site. Use it for every state-changing request.
pub struct CsrfForm<T>(pub T);

/// The largest form body accepted (a 20,000-character post, url-encoded, fits with room).
const MAX_FORM_BYTES: usize = 512 * 1024;

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = AppResult<Self>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let bytes = body
                .await
                .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
            if bytes.len() > MAX_FORM_BYTES {
                return Err(AppError::BadRequest("That form is too large.".into()));
            }
            let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
            // The form field, or (htmx requests without a form, e.g. "Delete") the header
            // app.js adds from the page's meta tag.
            let header = req
                .headers()
                .get(csrf::HEADER)
                .and_then(|v| v.to_str().ok());
            let token = fields
                .iter()
                .find(|(k, _)| k == csrf::FIELD)
                .map(|(_, v)| v.as_str())
                .or(header);
            let session: Session = req.get_session();
            csrf::verify(&req, &state(&req)?.config, &session, token)?;
            let value = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
                AppError::BadRequest(format!("The form is missing something: {e}."))
            })?;
            Ok(CsrfForm(value))
        })
    }
}

/// The client's IP: the peer address, or `X-Forwarded-For` when `trust_proxy` is set.
pub fn client_ip(req: &HttpRequest, trust_proxy: bool) -> String {
    if trust_proxy {
        if let Some(ip) = req.connection_info().realip_remote_addr() {
            return ip.to_string();
        }
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Whether htmx sent this request (so a fragment, not a page, is wanted).
pub fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().get("hx-request").is_some_and(|v| v == "true")
}
