//! Order history and the order page, whose status and timeline update live.
use maud::{html, Markup};

use super::components::{csrf, date, iso, money, pagination, status_badge};
use super::{icons, layout, Ctx};
use crate::domain::order::{Order, OrderStatus};

pub struct OrderList<'a> {
    pub orders: &'a [Order],
    pub params: &'a [(String, String)],
    pub page: u64,
    pub pages: u64,
}

pub fn list(ctx: &Ctx, view: &OrderList) -> Markup {
    layout::page(
        ctx,
        "Orders",
        html! {
            h1 { "Your orders" }
            (list_section(ctx, view))
        },
    )
}

/// Refreshed when any of the shopper's orders changes.
pub fn list_section(ctx: &Ctx, view: &OrderList) -> Markup {
    html! {
        section #orders .card .updated[ctx.htmx.partial()] hx-get=(ctx.path) hx-trigger="os-event from:body" hx-swap="outerHTML" {
            @if view.orders.is_empty() {
                p.empty-state { "No orders yet. " a href="/" { "Start shopping" } "." }
            } @else {
                table.table {
                    thead { tr { th scope="col" { "Order" } th scope="col" { "Placed" } th scope="col" { "Items" } th scope="col" { "Total" } th scope="col" { "Status" } } }
                    tbody {
                        @for order in view.orders {
                            tr data-order-id=(order.id) {
                                td data-label="Order" { a href={"/orders/" (order.id)} { "#" (order.id) } }
                                td data-label="Placed" { (date(&order.created_at)) }
                                td data-label="Items" { (order.items.iter().map(|i| i.quantity).sum::<u32>()) }
                                td data-label="Total" { (money(order.total_price())) }
                                td data-label="Status" { (status_badge(order.status)) }
                            }
                        }
                    }
                }
                (pagination("/orders", view.params, view.page, view.pages, None))
            }
        }
    }
}

pub fn detail(ctx: &Ctx, order: &Order) -> Markup {
    layout::page(
        ctx,
        &format!("Order #{}", order.id),
        html! {
            nav.breadcrumb aria-label="Breadcrumb" { a href="/orders" { "Orders" } " / #" (order.id) }
            h1 { "Order #" (order.id) }
            (live(ctx, order))
            (items(order))
        },
    )
}

/// The status, timeline and actions of one order: swapped whenever its status changes. Not a
/// live region: the page's announcer says the change once (app.js), instead of re-reading all this.
pub fn live(ctx: &Ctx, order: &Order) -> Markup {
    let url = format!("/orders/{}", order.id);
    html! {
        section #order-live .card .order-live .updated[ctx.htmx.partial()] data-live-order=(order.id)
            data-status=(order.status.as_str())
            hx-get=(url) hx-trigger={"os-order-" (order.id) " from:body"} hx-swap="outerHTML" {
            p.order-status { "Status: " (status_badge(order.status)) }
            (timeline(order))
            @if order.status == OrderStatus::Pending {
                form method="post" action={(url) "/cancel"} hx-post={(url) "/cancel"} hx-target="#order-live"
                    hx-swap="outerHTML" hx-confirm="Cancel this order?" {
                    (csrf(ctx))
                    button.button.secondary.danger type="submit" { "Cancel order" }
                }
            }
        }
    }
}

/// pending → shipped → delivered, or pending → cancelled; each reached step with its time.
pub fn timeline(order: &Order) -> Markup {
    let steps: &[OrderStatus] = if order.status == OrderStatus::Cancelled {
        &[OrderStatus::Pending, OrderStatus::Cancelled]
    } else {
        &[
            OrderStatus::Pending,
            OrderStatus::Shipped,
            OrderStatus::Delivered,
        ]
    };
    html! {
        ol.timeline aria-label="Order progress" {
            @for step in steps {
                @let reached = order.history.iter().find(|h| h.status == *step);
                @let class = format!(
                    "step step-{}{}{}",
                    step.as_str(),
                    if reached.is_some() { " done" } else { "" },
                    if order.status == *step { " current" } else { "" }
                );
                li class=(class)
                    aria-current=[(order.status == *step).then_some("step")] {
                    span.step-icon { (icons::status(*step)) }
                    span.step-label { (step.as_str()) }
                    @if let Some(change) = reached {
                        time.step-time datetime=(iso(&change.at)) { (date(&change.at)) }
                    } @else {
                        span.step-time { "—" }
                    }
                }
            }
        }
    }
}

pub fn items(order: &Order) -> Markup {
    html! {
        section.card {
            h2 { "Items" }
            table.table {
                thead { tr { th scope="col" { "Product" } th scope="col" { "Unit price" } th scope="col" { "Quantity" } th scope="col" { "Total" } } }
                tbody {
                    @for item in &order.items {
                        tr {
                            td data-label="Product" { a href={"/products/" (item.product_id)} { (item.name) } }
                            td data-label="Unit price" { (money(item.unit_price)) }
                            td data-label="Quantity" { (item.quantity) }
                            td data-label="Total" { (money(item.line_total())) }
                        }
                    }
                }
                tfoot { tr { th scope="row" colspan="3" { "Total" } td { (money(order.total_price())) } } }
            }
            p.muted { "Placed " (date(&order.created_at)) }
        }
    }
}
