//! Admin order list (filter by status) and order page with one-click status changes.
use maud::{html, Markup};

use super::page;
use crate::domain::ids::UserId;
use crate::domain::order::{Order, OrderStatus};
use crate::http::views::components::{csrf, customer, date, money, pagination, status_badge};
use crate::http::views::orders::{items, timeline};
use crate::http::views::Ctx;
use std::collections::HashMap;

pub struct AdminOrderList<'a> {
    pub orders: &'a [Order],
    pub status: Option<OrderStatus>,
    pub params: &'a [(String, String)],
    pub page: u64,
    pub pages: u64,
    pub count: u64,
    pub customers: &'a HashMap<UserId, String>,
}

pub fn list(ctx: &Ctx, view: &AdminOrderList) -> Markup {
    page(
        ctx,
        "Orders",
        html! {
            h1 { "Orders" }
            form.card.toolbar method="get" action="/admin/orders" hx-get="/admin/orders" hx-target="#admin-orders"
                hx-swap="outerHTML" hx-push-url="true" hx-trigger="change, submit" {
                label for="f-status" { "Status" }
                select #f-status name="status" {
                    option value="" { "All" }
                    @for status in OrderStatus::ALL {
                        option value=(status.as_str()) selected[view.status == Some(status)] { (status.as_str()) }
                    }
                }
                button.button.small type="submit" { "Filter" }
            }
            (list_section(ctx, view))
        },
    )
}

pub fn list_section(ctx: &Ctx, view: &AdminOrderList) -> Markup {
    html! {
        section #admin-orders .card .updated[ctx.htmx.partial()] {
            p.muted { (view.count) " order" @if view.count != 1 { "s" } }
            (order_table(None, view.orders, view.customers))
            (pagination("/admin/orders", view.params, view.page, view.pages, Some("admin-orders")))
        }
    }
}

/// Orders as the admin sees them in a list: number (a link), customer, date, total, status.
/// The dashboard's newest orders use the same table.
pub fn order_table(
    id: Option<&str>,
    orders: &[Order],
    customers: &HashMap<UserId, String>,
) -> Markup {
    html! {
        table.table id=[id] {
            thead { tr { th scope="col" { "Order" } th scope="col" { "Customer" } th scope="col" { "Placed" } th scope="col" { "Total" } th scope="col" { "Status" } } }
            tbody {
                @for order in orders {
                    tr data-order-id=(order.id) {
                        td data-label="Order" { a href={"/admin/orders/" (order.id)} { "#" (order.id) } }
                        td data-label="Customer" { (customer(order.user_id, customers)) }
                        td data-label="Placed" { (date(&order.created_at)) }
                        td data-label="Total" { (money(order.total_price())) }
                        td data-label="Status" { (status_badge(order.status)) }
                    }
                }
            }
        }
    }
}

pub fn detail(ctx: &Ctx, order: &Order, customers: &HashMap<UserId, String>) -> Markup {
    page(
        ctx,
        &format!("Order #{}", order.id),
        html! {
            nav.breadcrumb aria-label="Breadcrumb" { a href="/admin/orders" { "Orders" } " / #" (order.id) }
            h1 { "Order #" (order.id) }
            p.muted { "Customer: " (customer(order.user_id, customers)) " · placed " (date(&order.created_at)) " · total " (money(order.total_price())) }
            (live(ctx, order))
            (items(order))
        },
    )
}

/// Status, timeline and the actions the status allows; swapped after a click or a live event.
/// Not a live region: the page's announcer says the change once (app.js).
pub fn live(ctx: &Ctx, order: &Order) -> Markup {
    let url = format!("/admin/orders/{}", order.id);
    let actions: &[(OrderStatus, &str)] = match order.status {
        OrderStatus::Pending => &[
            (OrderStatus::Shipped, "Mark shipped"),
            (OrderStatus::Cancelled, "Cancel order"),
        ],
        OrderStatus::Shipped => &[(OrderStatus::Delivered, "Mark delivered")],
        _ => &[],
    };
    html! {
        section #admin-order .card .order-live .updated[ctx.htmx.partial()] data-status=(order.status.as_str())
            hx-get=(url) hx-trigger={"os-order-" (order.id) " from:body"} hx-swap="outerHTML" {
            p.order-status { "Status: " (status_badge(order.status)) }
            (timeline(order))
            div.actions {
                @for (next, label) in actions {
                    form method="post" action={(url) "/status"} hx-post={(url) "/status"} hx-target="#admin-order"
                        hx-swap="outerHTML" hx-disabled-elt="find button" {
                        (csrf(ctx))
                        input type="hidden" name="status" value=(next.as_str());
                        button.button .accent[*next != OrderStatus::Cancelled] .danger[*next == OrderStatus::Cancelled]
                            type="submit" data-action=(next.as_str()) { (label) }
                    }
                }
            }
        }
    }
}
