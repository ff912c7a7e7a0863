//! The one application error and how it becomes an HTTP response.
//!
//! `AppError` carries what the person should see; the cause chain goes to the log only.
//! Its response holds an [`ErrorPage`] in the response extensions, which the error-page
//! middleware (`web::errors`) renders inside the site's layout.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

/// What an error page shows.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    /// Heading.
    pub title: &'static str,
    /// One or two sentences for the person.
    pub message: String,
}

/// Every failure a request can end in.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 404.
    #[error("not found")]
    NotFound,
    /// 403 with a reason for the person.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Not signed in: redirect to the sign-in (or first-run setup) page.
    #[error("sign-in required")]
    SignInRequired {
        /// Where to send the browser.
        location: String,
    },
    /// 400 with a message.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 422: a hook refused the content, with its message for the author.
    #[error("rejected: {0}")]
    Rejected(String),
    /// 429 with a message.
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    /// A database error (500).
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    /// Could not get a pooled connection (503).
    #[error("database unavailable: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    /// Anything else (500).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

impl From<handlebars::RenderError> for AppError {
    fn from(e: handlebars::RenderError) -> Self {
        Self::Internal(anyhow::anyhow!("template: {e}"))
    }
}

impl AppError {
    /// The page a person sees for this error.
    pub fn page(&self) -> ErrorPage {
        let (title, message) = match self {
            Self::NotFound => (
                "Not found",
                "There is nothing here. It may have been deleted, or the link is mistyped."
                    .to_string(),
            ),
            Self::Forbidden(why) => ("Not allowed", why.clone()),
            Self::SignInRequired { .. } => ("Please sign in", "Sign in to continue.".into()),
            Self::BadRequest(why) => ("That did not work", why.clone()),
            Self::Rejected(why) => ("Not saved", why.clone()),
            Self::TooManyRequests(why) => ("Slow down", why.clone()),
            Self::Pool(_) => (
                "Temporarily unavailable",
                "The database is not answering right now. Nothing was changed; please try again in a moment."
                    .into(),
            ),
            Self::Database(_) | Self::Internal(_) => (
                "Something went wrong",
                "An unexpected error happened on our side and has been logged. Nothing was changed; please try again."
                    .into(),
            ),
        };
        ErrorPage { title, message }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::SignInRequired { .. } => StatusCode::SEE_OTHER,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Pool(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            // The cause chain goes to the log, never to the person.
            tracing::error!(error = ?self, "request failed");
        }
        if let Self::SignInRequired { location } = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location.as_str()))
                .insert_header(("HX-Redirect", location.as_str()))
                .finish();
        }
        let mut res = HttpResponse::build(status);
        if let Self::TooManyRequests(_) = self {
            res.insert_header((header::RETRY_AFTER, "60"));
        }
        let mut res = res.finish();
        res.extensions_mut().insert(self.page());
        res
    }
}

/// Shorthand for handler and domain results.
pub type AppResult<T> = Result<T, AppError>;
