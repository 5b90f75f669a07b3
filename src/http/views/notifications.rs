//! The notification list: every status change of the shopper's orders, newest first.
use maud::{html, Markup};

use super::components::{csrf, date, pagination, status_badge};
use super::{layout, Ctx};
use crate::domain::event::OrderEvent;

pub struct NotificationList<'a> {
    pub events: &'a [(OrderEvent, bool)],
    pub params: &'a [(String, String)],
    pub page: u64,
    pub pages: u64,
    pub unread: u64,
}

pub fn page(ctx: &Ctx, view: &NotificationList) -> Markup {
    layout::page(
        ctx,
        "Notifications",
        html! {
            h1 { "Notifications" }
            (section(ctx, view))
        },
    )
}

/// Refreshed live when a new event arrives.
/// What htmx swaps in: the list, and the unread badge out of band so both agree.
pub fn section_update(ctx: &Ctx, view: &NotificationList) -> Markup {
    html! { (section(ctx, view)) (layout::unread_badge(view.unread, true)) }
}

pub fn section(ctx: &Ctx, view: &NotificationList) -> Markup {
    html! {
        section #notifications .card .updated[ctx.htmx.partial()] hx-get="/notifications" hx-trigger="os-event from:body" hx-swap="outerHTML" {
            @if view.unread > 0 {
                form.toolbar method="post" action="/notifications/read-all" hx-post="/notifications/read-all"
                    hx-target="#notifications" hx-swap="outerHTML" {
                    (csrf(ctx))
                    button.button.small.secondary type="submit" { "Mark all as read" }
                }
            }
            @if view.events.is_empty() {
                p.empty-state { "Nothing yet. Updates to your orders will appear here." }
            }
            ul.notifications {
                @for (event, read) in view.events {
                    li.notification .unread[!read] data-event-id=(event.id) {
                        (status_badge(event.status))
                        div.notification-body {
                            a href={"/orders/" (event.order_id)} { (event.message()) }
                            p.muted { (date(&event.at)) }
                        }
                        @if !read {
                            form method="post" action={"/notifications/" (event.id) "/read"}
                                hx-post={"/notifications/" (event.id) "/read"} hx-target="#notifications" hx-swap="outerHTML" {
                                (csrf(ctx))
                                button.link type="submit" { "Mark read" }
                            }
                        }
                    }
                }
            }
            (pagination("/notifications", view.params, view.page, view.pages, None))
        }
    }
}
