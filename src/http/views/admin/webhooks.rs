//! Admin webhooks: the list with a create form (the new secret shown once), and one webhook's
//! recent deliveries with "send test event" and "retry now".
use maud::{html, Markup};

use super::page;
use crate::domain::webhook::{Webhook, WebhookEvent};
use crate::domain::webhook_delivery::{Delivery, DeliveryStatus};
use crate::http::views::components::{csrf, date, field_error, form_errors, Field};
use crate::http::views::{Ctx, Errors};

/// The create form as typed.
#[derive(Default)]
pub struct WebhookInput {
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    /// "Allow parallel delivery" ticked.
    pub parallel: bool,
    pub errors: Errors,
}

pub struct WebhooksView<'a> {
    pub hooks: &'a [Webhook],
    pub create: WebhookInput,
    /// The webhook just created, whose secret is shown this once.
    pub created: Option<&'a Webhook>,
}

pub fn list(ctx: &Ctx, view: &WebhooksView) -> Markup {
    page(
        ctx,
        "Webhooks",
        html! {
            h1 { "Webhooks" }
            @if let Some(hook) = view.created {
                section.card #new-secret aria-labelledby="new-secret-title" {
                    h2 #new-secret-title { "Signing secret" }
                    p { "Webhook " (hook.url.as_str()) " was created. Copy its secret now: it is not shown again." }
                    p { code data-secret { (hook.secret.as_str()) } }
                }
            }
            section.card {
                h2 { "New webhook" }
                (create_form(ctx, &view.create))
            }
            section.card {
                h2 { "All webhooks" }
                @if view.hooks.is_empty() { p.empty-state { "No webhooks yet." } }
                @else {
                    table.table {
                        thead { tr { th scope="col" { "URL" } th scope="col" { "Events" } th scope="col" { "Active" } th scope="col" { "Actions" } } }
                        tbody {
                            @for hook in view.hooks { (row(ctx, hook)) }
                        }
                    }
                }
            }
        },
    )
}

fn create_form(ctx: &Ctx, input: &WebhookInput) -> Markup {
    let errors = &input.errors;
    let events_error = errors.get("events");
    html! {
        form.grid-form method="post" action="/admin/webhooks" {
            (csrf(ctx))
            (form_errors(errors))
            (Field::new("url", "URL", "url", &input.url).required().render(errors))
            (Field::new("description", "Description", "text", &input.description).render(errors))
            fieldset.field .invalid[events_error.is_some()] aria-describedby=[events_error.map(|_| "f-events-error")] {
                legend { "Events" }
                @for event in WebhookEvent::ALL.into_iter().filter(|e| *e != WebhookEvent::Ping) {
                    @let id = format!("f-event-{}", event.as_str().replace('.', "-"));
                    label for=(id) {
                        input id=(id) type="checkbox" name="events" value=(event.as_str())
                            checked[input.events.iter().any(|e| e == event.as_str())];
                        " " (event.as_str())
                    }
                }
                (field_error("f-events-error", events_error))
            }
            div.field {
                label for="f-parallel" {
                    input #f-parallel type="checkbox" name="parallel" value="on" checked[input.parallel] aria-describedby="f-parallel-hint";
                    " Allow parallel delivery"
                }
                p.muted #f-parallel-hint { "Several events at once, not necessarily in order. Leave it off for strict event order." }
            }
            button.button type="submit" { "Create webhook" }
        }
    }
}

fn row(ctx: &Ctx, hook: &Webhook) -> Markup {
    let id = hook.id;
    let events: Vec<&str> = hook.events.iter().map(|e| e.as_str()).collect();
    html! {
        tr data-webhook-id=(id) {
            td data-label="URL" { a href={"/admin/webhooks/" (id)} { (hook.url.as_str()) } }
            td data-label="Events" { (events.join(", ")) }
            td data-label="Active" { @if hook.active { "yes" } @else { "no" } @if hook.parallel { " (parallel)" } }
            td data-label="Actions" {
                div.actions {
                    form.inline method="post" action={"/admin/webhooks/" (id) "/test"} {
                        (csrf(ctx))
                        button.button.small type="submit" aria-label={"Send test event to " (hook.url.as_str())} { "Send test event" }
                    }
                    form.inline method="post" action={"/admin/webhooks/" (id) "/delete"}
                        hx-post={"/admin/webhooks/" (id) "/delete"} hx-confirm={"Delete the webhook to " (hook.url.as_str()) "?"} {
                        (csrf(ctx))
                        button.link.danger type="submit" aria-label={"Delete the webhook to " (hook.url.as_str())} { "Delete" }
                    }
                }
            }
        }
    }
}

pub fn detail(ctx: &Ctx, hook: &Webhook, deliveries: &[Delivery]) -> Markup {
    let id = hook.id;
    page(
        ctx,
        &format!("Webhook {id}"),
        html! {
            nav.breadcrumb aria-label="Breadcrumb" { a href="/admin/webhooks" { "Webhooks" } " / " (id) }
            h1 { "Webhook " (id) }
            section.card {
                p { "Sends to " code { (hook.url.as_str()) } }
                @if !hook.description.is_empty() { p.muted { (hook.description) } }
                form.inline method="post" action={"/admin/webhooks/" (id) "/test"} {
                    (csrf(ctx))
                    button.button type="submit" { "Send test event" }
                }
            }
            section.card #deliveries {
                h2 { "Recent deliveries" }
                @if deliveries.is_empty() { p.empty-state { "Nothing sent yet." } }
                @else {
                    table.table {
                        thead { tr {
                            th scope="col" { "When" } th scope="col" { "Event" } th scope="col" { "Attempt" }
                            th scope="col" { "Status" } th scope="col" { "Answer" } th scope="col" { "Next try" } th scope="col" { "Actions" }
                        } }
                        tbody { @for d in deliveries { (delivery_row(ctx, d)) } }
                    }
                }
            }
        },
    )
}

fn delivery_row(ctx: &Ctx, d: &Delivery) -> Markup {
    let answer = match (&d.error, d.response_code) {
        (None, Some(code)) => format!("HTTP {code}"),
        (Some(error), _) => error.clone(),
        (None, None) => String::new(),
    };
    html! {
        tr data-delivery-id=(d.id) data-status=(d.status.as_str()) {
            td data-label="When" { (date(&d.created_at)) }
            td data-label="Event" {
                (d.kind.as_str())
                @if let Some(event) = d.event_id { " #" (event) }
            }
            td data-label="Attempt" { (d.attempt) }
            td data-label="Status" { strong { (d.status.as_str()) } }
            td data-label="Answer" { (answer) " · " (d.duration_ms) " ms" }
            td data-label="Next try" { @if let Some(at) = &d.next_attempt_at { (date(at)) } }
            td data-label="Actions" {
                @if d.status != DeliveryStatus::Succeeded {
                    form.inline method="post" action={"/admin/webhooks/" (d.webhook_id) "/deliveries/" (d.id) "/retry"} {
                        (csrf(ctx))
                        button.button.small type="submit" aria-label={"Retry now, delivery " (d.id)} { "Retry now" }
                    }
                }
            }
        }
    }
}
