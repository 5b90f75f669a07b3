//! The dashboard: counts by status and the newest orders, both live.
use maud::{html, Markup};

use super::orders::order_table;
use super::page;
use crate::domain::ids::UserId;
use crate::domain::order::{Order, OrderStatus};
use crate::http::views::{icons, Ctx};
use std::collections::HashMap;

pub struct Dashboard<'a> {
    pub counts: &'a [(OrderStatus, u64)],
    pub recent: &'a [Order],
    pub customers: &'a HashMap<UserId, String>,
}

pub fn render(ctx: &Ctx, view: &Dashboard) -> Markup {
    page(
        ctx,
        "Dashboard",
        html! {
            h1 { "Dashboard" }
            (live(ctx, view))
        },
    )
}

/// Swapped whenever any order is placed or changes status.
pub fn live(ctx: &Ctx, view: &Dashboard) -> Markup {
    html! {
        div #dashboard .updated[ctx.htmx.partial()] hx-get="/admin" hx-trigger="os-event from:body" hx-swap="outerHTML" {
            ul.stats aria-label="Orders by status" {
                @for (status, count) in view.counts {
                    li class={"stat stat-" (status.as_str())} data-status=(status.as_str()) {
                        a href={"/admin/orders?status=" (status.as_str())} {
                            span.stat-icon { (icons::status(*status)) }
                            span.stat-count { (count) }
                            span.stat-label { (status.as_str()) }
                        }
                    }
                }
            }
            section.card {
                h2 { "Newest orders" }
                @if view.recent.is_empty() {
                    p.empty-state { "No orders yet." }
                } @else {
                    (order_table(Some("recent-orders"), view.recent, view.customers))
                }
            }
        }
    }
}
