//! The one page layout: head with the embedded assets, navigation, flash area, main content.
use maud::{html, Markup, DOCTYPE};

use super::{icons, Ctx};
use crate::domain::cart::{MAX_CART_LINES, MAX_LINE_QUANTITY};
use crate::http::assets;

/// htmx settings: no injected inline styles (strict CSP), no eval, no history snapshots in
/// localStorage, and 4xx answers (validation errors, "only 2 left") are swapped in place.
const HTMX_CONFIG: &str = r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"historyCacheSize":0,"refreshOnHistoryMiss":true,"historyRestoreAsHxRequest":false,"selfRequestsOnly":true,"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"[45]..","swap":true}]}"#;

pub fn page(ctx: &Ctx, title: &str, content: Markup) -> Markup {
    let headers = format!(r#"{{"X-CSRF-Token":"{}"}}"#, ctx.csrf);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="htmx-config" content=(HTMX_CONFIG);
                title { (title) " · OrderStream" }
                link rel="icon" type="image/svg+xml" href=(assets::url("icons/favicon.svg"));
                link rel="stylesheet" href=(assets::url("app.css"));
                script src=(assets::url("htmx.min.js")) defer {}
                script src=(assets::url("storage.js")) defer {}
                script src=(assets::url("app.js")) defer {}
            }
            body hx-headers=(headers)
                data-live=[ctx.user.as_ref().map(|_| "on")]
                data-guest=[ctx.user.is_none().then_some("on")]
                data-last-event-id=(ctx.last_event_id)
                // The cart's limits reach the scripts from the one place that sets them.
                data-cart-max-lines=(MAX_CART_LINES)
                data-cart-max-quantity=(MAX_LINE_QUANTITY) {
                a.skip-link href="#main" { "Skip to content" }
                (nav(ctx))
                div #flash .flash-area role="status" aria-live="polite" {
                    @if let Some(message) = &ctx.flash { (flash(message)) }
                }
                main #main { (content) }
                div #announcer .sr-only role="status" aria-live="polite" {}
                footer.footer { "OrderStream · orders, live" }
            }
        }
    }
}

pub fn flash(message: &str) -> Markup {
    html! { p.flash { (message) } }
}

/// The flash message as an out-of-band swap, for htmx answers that also update other parts.
pub fn flash_oob(message: &str) -> Markup {
    html! { div #flash .flash-area role="status" aria-live="polite" hx-swap-oob="true" { (flash(message)) } }
}

pub fn cart_badge(count: u32, oob: bool) -> Markup {
    html! {
        span #cart-count .badge .empty[count == 0] hx-swap-oob=[oob.then_some("true")] {
            (count) span.sr-only { " items" }
        }
    }
}

pub fn unread_badge(count: u64, oob: bool) -> Markup {
    html! {
        span #unread-badge .badge .alert[count > 0] .empty[count == 0] hx-swap-oob=[oob.then_some("true")]
            hx-get="/notifications/badge" hx-trigger="os-event from:body" hx-swap="outerHTML" {
            (count) span.sr-only { " unread" }
        }
    }
}

fn nav(ctx: &Ctx) -> Markup {
    let current = ctx.path.split('?').next().unwrap_or("/");
    let link = |href: &'static str, label: &'static str| {
        let active = if href == "/" {
            current == "/"
        } else {
            current.starts_with(href)
        };
        // app.js points the catalog link at the filters this browser used last.
        let catalog = (href == "/").then_some("");
        html! { a href=(href) aria-current=[active.then_some("page")] data-catalog-link=[catalog] { (label) } }
    };
    let cart_active = current.starts_with("/cart").then_some("page");
    html! {
        header.topbar {
            a.brand href="/" data-catalog-link { span.brand-mark {} "OrderStream" }
            nav.nav aria-label="Main" {
                (link("/", "Catalog"))
                @if let Some(user) = &ctx.user {
                    a href="/cart" aria-current=[cart_active] {
                        (icons::cart()) " Cart " (cart_badge(ctx.cart_count, false))
                    }
                    (link("/orders", "Orders"))
                    a href="/notifications" aria-current=[current.starts_with("/notifications").then_some("page")] {
                        (icons::bell()) span.sr-only { "Notifications" } " " (unread_badge(ctx.unread, false))
                    }
                    @if user.is_admin { (link("/admin", "Admin")) }
                    a href="/account" title=(user.email) aria-current=[current.starts_with("/account").then_some("page")] {
                        @if user.name.is_empty() { "Account" } @else { (user.name) }
                    }
                    form.inline method="post" action="/logout" {
                        input type="hidden" name="csrf" value=(ctx.csrf);
                        button.link type="submit" { "Log out" }
                    }
                } @else {
                    // A visitor's cart lives in this browser (app.js fills in the count).
                    a href="/cart" aria-current=[cart_active] {
                        (icons::cart()) " Cart " (cart_badge(0, false))
                    }
                    (link("/login", "Log in"))
                    a.button.small href="/register" { "Register" }
                }
            }
        }
    }
}
