//! First-run setup, sign in and sign out.

use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::users::{
    self, password, sessions::USER_ID_KEY, throttle, CreateUserError, DisplayName, Email, NewUser,
    Password, Role, User, Username,
};
use crate::web::extract::{client_ip, CsrfForm, Viewer};
use crate::web::{csrf, views, AppState};

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// Only same-site paths are followed after sign-in (no `//evil.example` or `https://…`).
fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok {
        next
    } else {
        "/"
    }
}

/// Marks the session as signed in, with a new session key and a new CSRF token.
pub(crate) fn sign_in(session: &Session, user: &User) -> AppResult<()> {
    session.renew();
    session
        .insert(USER_ID_KEY, user.id)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("session: {e}")))?;
    csrf::rotate(session);
    Ok(())
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Serialize)]
struct LoginCtx<'a> {
    next: &'a str,
    login: &'a str,
    error: Option<&'a str>,
}

/// `GET /login`.
pub async fn login_page(
    state: web::Data<AppState>,
    session: Session,
    viewer: Viewer,
    q: web::Query<NextQuery>,
) -> AppResult<HttpResponse> {
    if state.needs_setup().await? {
        return Ok(redirect("/setup"));
    }
    let next = safe_next(q.next.as_deref().unwrap_or("/"));
    if viewer.0.is_some() {
        return Ok(redirect(next));
    }
    let ctx = LoginCtx {
        next,
        login: "",
        error: None,
    };
    views::page(
        &state,
        Some(&session),
        None,
        StatusCode::OK,
        "login",
        "Sign in",
        &ctx,
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /login`: throttled per account and per IP.
pub async fn login(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    form: CsrfForm<LoginForm>,
) -> AppResult<HttpResponse> {
    let f = form.0;
    let ip = client_ip(&req, state.config.trust_proxy);
    let login = f.login.trim().to_string();
    let next = safe_next(&f.next).to_string();
    let (l, i) = (login.clone(), ip.clone());
    if state
        .db(move |c| Ok(throttle::is_throttled(c, &l, &i)?))
        .await?
    {
        tracing::warn!(%ip, "sign-in throttled");
        return Err(AppError::TooManyRequests(format!(
            "Too many failed sign-in attempts. Wait {} minutes and try again, or ask an admin to reset your password.",
            throttle::WINDOW_MINUTES
        )));
    }
    let l = login.clone();
    let user = state.db(move |c| Ok(users::find_by_login(c, &l)?)).await?;
    let pw = f.password;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let ok = web::block(move || match stored {
        Some(h) => password::verify(&pw, &h),
        None => {
            password::verify_dummy(&pw);
            false
        }
    })
    .await?;
    match user {
        Some(u) if ok => {
            let l = login.clone();
            state.db(move |c| Ok(throttle::clear(c, &l)?)).await?;
            sign_in(&session, &u)?;
            tracing::info!(user = u.id, "signed in");
            Ok(redirect(&next))
        }
        _ => {
            let (l, i) = (login.clone(), ip.clone());
            state
                .db(move |c| Ok(throttle::record_failure(c, &l, &i)?))
                .await?;
            tracing::info!(%ip, "sign-in failed");
            let ctx = LoginCtx {
                next: &next,
                login: &login,
                error: Some("Wrong username/email or password."),
            };
            views::page(
                &state,
                Some(&session),
                None,
                StatusCode::UNAUTHORIZED,
                "login",
                "Sign in",
                &ctx,
            )
        }
    }
}

#[derive(Deserialize)]
pub struct NoFields {}

/// `POST /logout`: deletes the server-side session.
pub async fn logout(session: Session, _form: CsrfForm<NoFields>) -> HttpResponse {
    session.purge();
    redirect("/login")
}

#[derive(Deserialize, Serialize, Default)]
pub struct SetupForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default, skip_serializing)]
    password: String,
    #[serde(default, skip_serializing)]
    password_confirm: String,
}

#[derive(Serialize)]
struct SetupCtx<'a> {
    form: &'a SetupForm,
    errors: Vec<String>,
}

/// `GET /setup`: only while there is no account.
pub async fn setup_page(state: web::Data<AppState>, session: Session) -> AppResult<HttpResponse> {
    if !state.needs_setup().await? {
        return Ok(redirect("/login"));
    }
    let form = SetupForm::default();
    let ctx = SetupCtx {
        form: &form,
        errors: vec![],
    };
    views::page(
        &state,
        Some(&session),
        None,
        StatusCode::OK,
        "setup",
        "Welcome",
        &ctx,
    )
}

/// `POST /setup`: creates the admin and signs them in.
pub async fn setup(
    state: web::Data<AppState>,
    session: Session,
    form: CsrfForm<SetupForm>,
) -> AppResult<HttpResponse> {
    if !state.needs_setup().await? {
        return Ok(redirect("/login"));
    }
    let f = form.0;
    let mut errors = Vec::new();
    let username = Username::parse(&f.username)
        .map_err(|e| errors.push(e))
        .ok();
    let display_name = DisplayName::parse(if f.display_name.trim().is_empty() {
        &f.username
    } else {
        &f.display_name
    })
    .map_err(|e| errors.push(e))
    .ok();
    let email = Email::parse(&f.email).map_err(|e| errors.push(e)).ok();
    let password = Password::parse_confirmed(&f.password, &f.password_confirm)
        .map_err(|e| errors.extend(e))
        .ok();
    // The form again, with what is wrong.
    let retry = |errors: Vec<String>| {
        views::page(
            &state,
            Some(&session),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "setup",
            "Welcome",
            &SetupCtx { form: &f, errors },
        )
    };
    let (Some(username), Some(display_name), Some(email), Some(password), true) =
        (username, display_name, email, password, errors.is_empty())
    else {
        return retry(errors);
    };
    let hash = web::block(move || password::hash(&password)).await??;
    let new = NewUser {
        username,
        email,
        display_name,
        role: Role::Admin,
    };
    let hooks = state.hooks.clone();
    let created = state
        .db(move |c| Ok(users::create(c, &hooks, &new, &hash, true)))
        .await?;
    match created {
        Ok(user) => {
            sign_in(&session, &user)?;
            tracing::info!(user = user.id, "first-run setup created the admin account");
            Ok(redirect("/"))
        }
        Err(CreateUserError::SetupDone) => Ok(redirect("/login")),
        Err(CreateUserError::Db(e)) => Err(e.into()),
        Err(e) => retry(vec![e.to_string()]),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_same_site_only() {
        assert_eq!(safe_next("/p/4"), "/p/4");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next(""), "/");
    }
}
