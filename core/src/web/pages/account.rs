//! Getting in without a password: password reset by email, accepting an invitation; and the
//! admin page (inviting people, failed jobs with a retry button).

use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::jobs;
use crate::users::{
    self, password, DisplayName, Email, InviteError, Password, Role, User, Username,
};
use crate::web::extract::{CsrfForm, CurrentUser};
use crate::web::{views, AppState};

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

#[derive(Serialize)]
struct MessageCtx<'a> {
    title: &'a str,
    message: &'a str,
    link: &'a str,
    link_text: &'a str,
}

fn message(
    state: &AppState,
    session: Option<&Session>,
    status: StatusCode,
    ctx: &MessageCtx<'_>,
) -> AppResult<HttpResponse> {
    views::page(state, session, None, status, "message", ctx.title, ctx)
}

#[derive(Serialize)]
struct ResetRequestCtx<'a> {
    email: &'a str,
}

/// `GET /reset`: ask for a reset link.
pub async fn reset_request_page(
    state: web::Data<AppState>,
    session: Session,
) -> AppResult<HttpResponse> {
    views::page(
        &state,
        Some(&session),
        None,
        StatusCode::OK,
        "reset_request",
        "Reset your password",
        &ResetRequestCtx { email: "" },
    )
}

#[derive(Deserialize)]
pub struct ResetRequestForm {
    #[serde(default)]
    email: String,
}

/// `POST /reset`: the same answer whether or not the address has an account.
pub async fn reset_request(
    state: web::Data<AppState>,
    session: Session,
    form: CsrfForm<ResetRequestForm>,
) -> AppResult<HttpResponse> {
    let email = form.0.email;
    if Email::parse(&email).is_ok() {
        state
            .db(move |c| Ok(users::request_reset(c, &email)?))
            .await?;
    }
    message(
        &state,
        Some(&session),
        StatusCode::OK,
        &MessageCtx {
            title: "Check your email",
            message: "If an account exists for that address, we have sent it a link to choose a new password. The link works once, for one hour.",
            link: "/login",
            link_text: "Back to sign in",
        },
    )
}

#[derive(Serialize)]
struct ResetCtx<'a> {
    action: String,
    errors: &'a [String],
}

fn invalid_link(state: &AppState, session: &Session, what: &str) -> AppResult<HttpResponse> {
    message(
        state,
        Some(session),
        StatusCode::GONE,
        &MessageCtx {
            title: "This link no longer works",
            message: what,
            link: "/login",
            link_text: "Sign in",
        },
    )
}

/// `GET /reset/{token}`: the new-password form, if the link is still good.
pub async fn reset_page(
    state: web::Data<AppState>,
    session: Session,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let t = token.into_inner();
    let tk = t.clone();
    let ok = state
        .db(move |c| Ok(users::tokens::find(c, users::tokens::Purpose::Reset, &tk)?.is_some()))
        .await?;
    if !ok {
        return invalid_link(&state, &session, "Password reset links work once, for one hour. Ask for a new one from the sign-in page.");
    }
    let ctx = ResetCtx {
        action: format!("/reset/{t}"),
        errors: &[],
    };
    views::page(
        &state,
        Some(&session),
        None,
        StatusCode::OK,
        "reset",
        "Choose a new password",
        &ctx,
    )
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// `POST /reset/{token}`: sets the password, ends every other session, uses up the link.
pub async fn reset(
    state: web::Data<AppState>,
    session: Session,
    token: web::Path<String>,
    form: CsrfForm<NewPasswordForm>,
) -> AppResult<HttpResponse> {
    let t = token.into_inner();
    let f = form.0;
    let mut errors = Vec::new();
    let pw = Password::parse_confirmed(&f.password, &f.password_confirm)
        .map_err(|e| errors.extend(e))
        .ok();
    let (Some(pw), true) = (pw, errors.is_empty()) else {
        let ctx = ResetCtx {
            action: format!("/reset/{t}"),
            errors: &errors,
        };
        return views::page(
            &state,
            Some(&session),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "reset",
            "Choose a new password",
            &ctx,
        );
    };
    let hash = web::block(move || password::hash(&pw)).await??;
    let user = state
        .db(move |c| users::reset_password(c, &t, &hash))
        .await?;
    match user {
        None => invalid_link(&state, &session, "Password reset links work once, for one hour. Ask for a new one from the sign-in page."),
        Some(u) => {
            tracing::info!(user = u.id, "password reset; sessions ended");
            message(
                &state,
                Some(&session),
                StatusCode::OK,
                &MessageCtx {
                    title: "Password changed",
                    message: "Your new password is set, and every session that was signed in with the old one has ended.",
                    link: "/login",
                    link_text: "Sign in",
                },
            )
        }
    }
}

#[derive(Serialize, Default)]
struct InviteCtx {
    action: String,
    email: String,
    username: String,
    display_name: String,
    errors: Vec<String>,
}

/// `GET /invite/{token}`: the new-account form for an invitation.
pub async fn invite_page(
    state: web::Data<AppState>,
    session: Session,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let t = token.into_inner();
    let tk = t.clone();
    let email = state.db(move |c| Ok(users::invitation(c, &tk)?)).await?;
    let Some(email) = email else {
        return invalid_link(
            &state,
            &session,
            "Invitations work once, for seven days. Ask an admin for a new one.",
        );
    };
    let ctx = InviteCtx {
        action: format!("/invite/{t}"),
        email,
        ..InviteCtx::default()
    };
    views::page(
        &state,
        Some(&session),
        None,
        StatusCode::OK,
        "invite",
        "Join",
        &ctx,
    )
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// `POST /invite/{token}`: creates the account and signs the new member in.
pub async fn accept_invite(
    state: web::Data<AppState>,
    session: Session,
    token: web::Path<String>,
    form: CsrfForm<InviteForm>,
) -> AppResult<HttpResponse> {
    let t = token.into_inner();
    let f = form.0;
    let tk = t.clone();
    let Some(email) = state.db(move |c| Ok(users::invitation(c, &tk)?)).await? else {
        return invalid_link(
            &state,
            &session,
            "Invitations work once, for seven days. Ask an admin for a new one.",
        );
    };
    let mut errors = Vec::new();
    let username = Username::parse(&f.username)
        .map_err(|e| errors.push(e))
        .ok();
    let shown = if f.display_name.trim().is_empty() {
        &f.username
    } else {
        &f.display_name
    };
    let display = DisplayName::parse(shown).map_err(|e| errors.push(e)).ok();
    let pw = Password::parse_confirmed(&f.password, &f.password_confirm)
        .map_err(|e| errors.extend(e))
        .ok();
    let retry = |errors: Vec<String>| {
        let ctx = InviteCtx {
            action: format!("/invite/{t}"),
            email: email.clone(),
            username: f.username.clone(),
            display_name: f.display_name.clone(),
            errors,
        };
        views::page(
            &state,
            Some(&session),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invite",
            "Join",
            &ctx,
        )
    };
    let (Some(username), Some(display), Some(pw), true) =
        (username, display, pw, errors.is_empty())
    else {
        return retry(errors);
    };
    let hash = web::block(move || password::hash(&pw)).await??;
    let (tk, hooks) = (t.clone(), state.hooks.clone());
    let created = state
        .db(move |c| {
            Ok(users::accept_invite(
                c, &hooks, &tk, username, display, &hash,
            ))
        })
        .await?;
    match created {
        Ok(user) => {
            super::auth::sign_in(&session, &user)?;
            tracing::info!(user = user.id, "invitation accepted");
            Ok(see_other("/"))
        }
        Err(InviteError::Invalid) => invalid_link(
            &state,
            &session,
            "Invitations work once, for seven days. Ask an admin for a new one.",
        ),
        Err(InviteError::Create(users::CreateUserError::Db(e))) => Err(e.into()),
        Err(InviteError::Create(e)) => retry(vec![e.to_string()]),
    }
}

#[derive(Serialize)]
struct FailedJob {
    id: i32,
    kind: String,
    attempts: i32,
    last_error: String,
    updated: String,
}

#[derive(Serialize)]
struct AdminCtx<'a> {
    notice: Option<&'a str>,
    failed: Vec<FailedJob>,
    plugins: Vec<crate::hooks::PluginInfo>,
}

#[derive(Deserialize)]
pub struct AdminQuery {
    notice: Option<String>,
}

fn require_admin(user: &User) -> AppResult<()> {
    if user.role() == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only admins can open the admin page.".into(),
        ))
    }
}

/// `GET /admin`: invite people; see failed jobs and retry them.
pub async fn admin_page(
    state: web::Data<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    q: web::Query<AdminQuery>,
) -> AppResult<HttpResponse> {
    require_admin(&user)?;
    let rows = state.db(|c| Ok(jobs::failed(c, 100)?)).await?;
    let failed = rows
        .into_iter()
        .map(|j| FailedJob {
            id: j.id,
            // A plugin's task says whose it is.
            kind: match j.job::<jobs::Job>() {
                Ok(jobs::Job::Plugin { plugin, .. }) => format!("{plugin} (plugin)"),
                _ => j.kind,
            },
            attempts: j.attempts,
            last_error: j.last_error.unwrap_or_default(),
            updated: crate::render::time::exact(j.updated_at),
        })
        .collect();
    let notice = match q.notice.as_deref() {
        Some("invited") => Some("Invitation queued: it will be emailed in a moment."),
        Some("retried") => Some("The job is back in the queue."),
        Some("plugin-on") => Some("Plugin switched on (other servers follow within seconds)."),
        Some("plugin-off") => Some("Plugin switched off (other servers follow within seconds)."),
        _ => None,
    };
    views::page(
        &state,
        Some(&session),
        Some(&user),
        StatusCode::OK,
        "admin",
        "Admin",
        &AdminCtx {
            notice,
            failed,
            plugins: state.hooks.plugins(),
        },
    )
}

#[derive(Deserialize)]
pub struct InviteRequest {
    #[serde(default)]
    email: String,
}

/// `POST /admin/invites`.
pub async fn invite(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    form: CsrfForm<InviteRequest>,
) -> AppResult<HttpResponse> {
    let email = Email::parse(&form.0.email).map_err(AppError::BadRequest)?;
    state.db(move |c| users::invite(c, &user, &email)).await?;
    Ok(see_other("/admin?notice=invited"))
}

/// `POST /admin/jobs/{id}/retry`.
pub async fn retry_job(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    id: web::Path<i32>,
    _form: CsrfForm<super::auth::NoFields>,
) -> AppResult<HttpResponse> {
    require_admin(&user)?;
    let id = id.into_inner();
    if !state.db(move |c| Ok(jobs::retry_failed(c, id)?)).await? {
        return Err(AppError::NotFound);
    }
    Ok(see_other("/admin?notice=retried"))
}

#[derive(Deserialize)]
pub struct PluginSwitch {
    #[serde(default)]
    on: String,
}

/// `POST /admin/plugins/{name}` (`on=1` or `on=0`): switches a plugin on or off now, on this
/// server, and stores the choice so it survives restarts and reaches the other servers on
/// their next tick.
pub async fn switch_plugin(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    name: web::Path<String>,
    form: CsrfForm<PluginSwitch>,
) -> AppResult<HttpResponse> {
    require_admin(&user)?;
    let name = name.into_inner();
    if !state.hooks.plugins().iter().any(|p| p.name == name) {
        return Err(AppError::NotFound);
    }
    let on = match form.0.on.as_str() {
        "1" => true,
        "0" => false,
        _ => {
            return Err(AppError::BadRequest(
                "Say whether to switch the plugin on (1) or off (0).".into(),
            ))
        }
    };
    let stored = name.clone();
    state
        .db(move |c| Ok(crate::hooks::switches::save(c, &stored, on)?))
        .await?;
    state.hooks.set_on(&name, on);
    tracing::info!(plugin = %name, on, admin = user.id, "plugin switched by an admin");
    Ok(see_other(if on {
        "/admin?notice=plugin-on"
    } else {
        "/admin?notice=plugin-off"
    }))
}
