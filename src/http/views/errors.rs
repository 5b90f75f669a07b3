//! Error pages (404, 403, 500, …) in the style of the others, and the htmx error fragment.
use maud::{html, Markup};

use super::{layout, Ctx};

pub fn page(ctx: &Ctx, status: u16, title: &str, message: &str) -> Markup {
    layout::page(
        ctx,
        title,
        html! {
            section.card.narrow.error-page data-status=(status) {
                p.error-code { (status) }
                h1 { (title) }
                p { (message) }
                p { a.button href="/" { "Back to the catalog" } }
            }
        },
    )
}

/// What an htmx request gets instead of a page: a message in the flash area.
pub fn fragment(message: &str) -> Markup {
    html! { p.flash.error role="alert" { (message) } }
}
