//! Error pages in the site's layout for every 4xx/5xx response that does not already carry
//! its own HTML (our `AppError`s and actix's plain-text errors alike).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::{views, AppState};
use crate::error::ErrorPage;

/// The middleware.
pub fn handlers<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(render)
}

#[derive(Serialize)]
struct ErrorCtx<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

fn render<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let status = res.status();
    let page = res.response().extensions().get::<ErrorPage>().cloned();
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if (page.is_none() && is_html) || status.is_redirection() || status.is_success() {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let page = page.unwrap_or_else(|| generic(status.as_u16()));
    let Some(state) = res.request().app_data::<web::Data<AppState>>().cloned() else {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    };
    let ctx = ErrorCtx {
        status: status.as_u16(),
        title: page.title,
        message: &page.message,
    };
    let body = views::page(&state, None, None, status, "error", page.title, &ctx)
        .map(|r| r.into_body())
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "error page failed to render");
            BoxBody::new(format!("{} {}", status.as_u16(), page.title))
        });
    let (req, old) = res.into_parts();
    let mut new = HttpResponse::build(status);
    new.content_type("text/html; charset=utf-8");
    for (name, value) in old.headers() {
        if name == header::RETRY_AFTER || name == header::ALLOW {
            new.insert_header((name.clone(), value.clone()));
        }
    }
    let new = new.body(body);
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, new).map_into_right_body(),
    ))
}

fn generic(status: u16) -> ErrorPage {
    let (title, message) = match status {
        400 => ("That did not work", "The request was not understood."),
        401 | 403 => ("Not allowed", "You are not allowed to do that."),
        404 => ("Not found", "There is nothing here."),
        405 => ("Not allowed", "That action is not available here."),
        413 => ("Too large", "That was too large to accept."),
        429 => (
            "Slow down",
            "Too many requests; wait a minute and try again.",
        ),
        s if s >= 500 => (
            "Something went wrong",
            "An unexpected error happened and has been logged.",
        ),
        _ => ("That did not work", "The request could not be completed."),
    };
    ErrorPage {
        title,
        message: message.into(),
    }
}
