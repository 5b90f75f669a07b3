//! Admin pages: dashboard, categories, products, orders, backups, webhooks.
pub mod backups;
pub mod categories;
pub mod dashboard;
pub mod orders;
pub mod products;
pub mod webhooks;

use maud::{html, Markup};

use super::{layout, Ctx};

/// The admin layout: the page layout with the admin section tabs.
pub fn page(ctx: &Ctx, title: &str, content: Markup) -> Markup {
    let current = ctx.path.split('?').next().unwrap_or("");
    let tab = |href: &'static str, label: &'static str| {
        let active = if href == "/admin" {
            current == "/admin" || current == "/admin/"
        } else {
            current.starts_with(href)
        };
        html! { a href=(href) aria-current=[active.then_some("page")] { (label) } }
    };
    layout::page(
        ctx,
        title,
        html! {
            nav.tabs aria-label="Admin" {
                (tab("/admin", "Dashboard"))
                (tab("/admin/orders", "Orders"))
                (tab("/admin/products", "Products"))
                (tab("/admin/categories", "Categories"))
                (tab("/admin/backups", "Backups"))
                (tab("/admin/webhooks", "Webhooks"))
            }
            (content)
        },
    )
}
