//! Admin webhooks: list and create (the secret shown once), delete, send a test event, and one
//! webhook's recent deliveries with "retry now".
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::form_errors;
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::domain::webhook::{Webhook, WebhookInput as DraftInput};
use crate::error::AppError;
use crate::http::extract::path_id;
use crate::http::pages::ctx::AdminPage;
use crate::http::pages::{html, redirect};
use crate::http::views::admin::webhooks::{self, WebhookInput, WebhooksView};
use crate::services::Services;

/// Deliveries shown on a webhook's page (the API pages through all of them).
const RECENT: u64 = 50;

/// The create form: `events` comes once per ticked box, which `web::Form` cannot collect.
fn parse_form(body: &[u8]) -> Result<WebhookInput, AppError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| AppError::BadRequest("the form could not be read".into()))?;
    let mut input = WebhookInput::default();
    for (key, value) in pairs {
        match key.as_str() {
            "url" => input.url = value,
            "description" => input.description = value,
            "events" => input.events.push(value),
            "parallel" => input.parallel = value == "on" || value == "true",
            _ => {}
        }
    }
    Ok(input)
}

fn render_list(
    admin: &AdminPage,
    hooks: &[Webhook],
    status: StatusCode,
    create: WebhookInput,
    created: Option<&Webhook>,
) -> HttpResponse {
    let view = WebhooksView {
        hooks,
        create,
        created,
    };
    html(status, webhooks::list(&admin.ctx, &view))
}

pub async fn list(
    admin: AdminPage,
    services: web::Data<Services>,
) -> Result<HttpResponse, AppError> {
    let hooks = services.webhooks.list().await?;
    Ok(render_list(
        &admin,
        &hooks,
        StatusCode::OK,
        WebhookInput::default(),
        None,
    ))
}

/// Answers with the page itself (not a redirect): the secret is shown in this answer only.
pub async fn create(
    admin: AdminPage,
    services: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let mut input = parse_form(&body)?;
    let raw = DraftInput {
        url: Some(&input.url),
        events: Some(&input.events),
        active: Some(true),
        description: Some(&input.description),
        parallel: Some(input.parallel),
    };
    let created = match services.webhooks.draft(raw, None) {
        Ok(draft) => services.webhooks.create(draft).await,
        Err(e) => Err(e),
    };
    let hooks = services.webhooks.list().await?;
    match created {
        Ok(hook) => Ok(render_list(
            &admin,
            &hooks,
            StatusCode::CREATED,
            WebhookInput::default(),
            Some(&hook),
        )),
        Err(e) => {
            input.errors = form_errors(e)?;
            Ok(render_list(
                &admin,
                &hooks,
                StatusCode::UNPROCESSABLE_ENTITY,
                input,
                None,
            ))
        }
    }
}

pub async fn delete(
    admin: AdminPage,
    services: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    services.webhooks.delete(path_id(&id)?).await?;
    Ok(redirect(admin.ctx.htmx.request, "/admin/webhooks"))
}

pub async fn detail(
    admin: AdminPage,
    services: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: WebhookId = path_id(&id)?;
    let hook = services.webhooks.get(id).await?;
    let recent = services.webhooks.deliveries(id, 0, RECENT).await?;
    Ok(html(
        StatusCode::OK,
        webhooks::detail(&admin.ctx, &hook, &recent.deliveries),
    ))
}

/// Sends a ping and shows the webhook's page, where the attempt is the newest row.
pub async fn test(
    admin: AdminPage,
    services: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: WebhookId = path_id(&id)?;
    services.webhooks.ping(id).await?;
    Ok(redirect(
        admin.ctx.htmx.request,
        &format!("/admin/webhooks/{id}"),
    ))
}

pub async fn retry(
    admin: AdminPage,
    services: web::Data<Services>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, delivery) = path.into_inner();
    let id: WebhookId = path_id(&id)?;
    let delivery: DeliveryId = path_id(&delivery)?;
    services.webhooks.retry(id, delivery).await?;
    Ok(redirect(
        admin.ctx.htmx.request,
        &format!("/admin/webhooks/{id}"),
    ))
}
