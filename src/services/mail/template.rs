//! The words and the look of an order email: one plain-text and one HTML body (maud), in the
//! site's palette (deep blue, light gray, teal accent). Inline styles and tables, because mail
//! clients drop style sheets and SVG; the status icon is a glyph in a coloured circle, hidden
//! from screen readers, with the status written out beside it.
use maud::{html, Markup, DOCTYPE};

use crate::domain::order::{Order, OrderStatus};

const BLUE: &str = "#3F51B5";
const GRAY: &str = "#F5F5F5";
const TEAL: &str = "#009688";
const INK: &str = "#212121";

/// What one email says, before it becomes text and HTML.
pub struct OrderMail<'a> {
    pub order: &'a Order,
    /// The status the email is about (pending = "placed").
    pub status: OrderStatus,
    pub name: &'a str,
    /// `{public_url}/orders/{id}`.
    pub link: &'a str,
}

impl OrderMail<'_> {
    pub fn subject(&self) -> String {
        format!("Order #{}: {}", self.order.id, self.headline_short())
    }

    fn headline_short(&self) -> &'static str {
        match self.status {
            OrderStatus::Pending => "we have your order",
            OrderStatus::Shipped => "on its way",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    fn sentence(&self) -> String {
        let id = self.order.id;
        match self.status {
            OrderStatus::Pending => format!("Thank you: order #{id} was placed."),
            OrderStatus::Shipped => format!("Order #{id} has shipped."),
            OrderStatus::Delivered => format!("Order #{id} was delivered."),
            OrderStatus::Cancelled => format!("Order #{id} was cancelled."),
        }
    }

    fn greeting(&self) -> String {
        match self.name.trim() {
            "" => "Hello,".to_owned(),
            name => format!("Hello {name},"),
        }
    }

    pub fn text(&self) -> String {
        let mut out = format!("{}\n\n{}\n\n", self.greeting(), self.sentence());
        for item in &self.order.items {
            out += &format!(
                "  {} x {}  {}\n",
                item.quantity,
                item.name,
                item.line_total()
            );
        }
        out += &format!(
            "  Total: {}\n\nSee the order: {}\n\nYou can turn these emails off on your account page.\n",
            self.order.total_price(),
            self.link
        );
        out
    }

    pub fn html(&self) -> Markup {
        let (glyph, colour) = icon(self.status);
        let cell = format!("padding:6px 0;border-bottom:1px solid {GRAY};");
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.subject()) }
                }
                body style={"margin:0;padding:24px 12px;background:" (GRAY) ";color:" (INK) ";font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"} {
                    table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;margin:0 auto;background:#fff;border-radius:8px;" {
                        tr { td style={"background:" (BLUE) ";color:#fff;padding:16px 24px;border-radius:8px 8px 0 0;font-weight:600;"} { "OrderStream" } }
                        tr { td style="padding:24px;" {
                            p style="margin:0 0 16px;" { (self.greeting()) }
                            h1 style="font-size:20px;margin:0 0 16px;" {
                                span aria-hidden="true" style={"display:inline-block;width:28px;height:28px;line-height:28px;text-align:center;border-radius:50%;color:#fff;background:" (colour) ";margin-right:8px;"} { (glyph) }
                                (self.sentence())
                            }
                            table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="margin:0 0 16px;" {
                                @for item in &self.order.items {
                                    tr {
                                        td style=(cell) { (item.quantity) " × " (item.name) }
                                        td style={(cell) "text-align:right;"} { (item.line_total()) }
                                    }
                                }
                                tr {
                                    td style="padding:8px 0;font-weight:600;" { "Total" }
                                    td style="padding:8px 0;font-weight:600;text-align:right;" { (self.order.total_price()) }
                                }
                            }
                            p style="margin:0 0 24px;" {
                                a href=(self.link) style={"display:inline-block;background:" (TEAL) ";color:#fff;text-decoration:none;padding:10px 18px;border-radius:4px;font-weight:600;"} {
                                    "See order #" (self.order.id)
                                }
                            }
                            p style="margin:0;font-size:13px;color:#5f6368;" {
                                "You can turn these emails off on your account page. The order is at " (self.link) "."
                            }
                        } }
                    }
                }
            }
        }
    }
}

/// The status glyph and its circle's colour.
fn icon(status: OrderStatus) -> (&'static str, &'static str) {
    match status {
        OrderStatus::Pending => ("✓", BLUE),
        OrderStatus::Shipped => ("➜", TEAL),
        OrderStatus::Delivered => ("✓", TEAL),
        OrderStatus::Cancelled => ("✕", "#757575"),
    }
}
