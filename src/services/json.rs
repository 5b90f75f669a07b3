//! The API's JSON shapes (API.md). Services produce them so cached bytes and fresh answers match.
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::domain::catalog::{Category, Product};
use crate::domain::event::OrderEvent;
use crate::domain::money::Money;
use crate::domain::order::{Order, OrderStatus};
use crate::domain::user::User;

fn rfc3339(t: &OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[derive(Serialize, ToSchema)]
pub struct UserJson {
    #[schema(minimum = 1)]
    pub id: u64,
    pub email: String,
    pub name: String,
    pub phone: String,
    pub address: String,
    pub is_admin: bool,
    #[schema(format = DateTime, example = "2026-01-02T03:04:05.123456Z")]
    pub date_joined: String,
    /// Whether the user gets an email when an order is placed and when its status changes
    /// (sent only when the server has a mail server set up).
    pub order_emails: bool,
}

impl From<&User> for UserJson {
    fn from(u: &User) -> Self {
        UserJson {
            id: u.id.get(),
            email: u.email.as_str().to_owned(),
            name: u.name.clone(),
            phone: u.phone.clone(),
            address: u.address.clone(),
            is_admin: u.is_admin,
            date_joined: rfc3339(&u.date_joined),
            order_emails: u.order_emails,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub count: u64,
    #[schema(format = "uri")]
    pub next: Option<String>,
    #[schema(format = "uri")]
    pub previous: Option<String>,
    pub results: Vec<T>,
}

#[derive(Serialize, ToSchema)]
pub struct CategoryJson {
    #[schema(minimum = 1)]
    pub id: u64,
    pub name: String,
    pub description: String,
    pub product_count: u64,
}

impl CategoryJson {
    pub fn new(c: &Category, product_count: u64) -> Self {
        CategoryJson {
            id: c.id.get(),
            name: c.name.clone(),
            description: c.description.clone(),
            product_count,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CategoryRef {
    #[schema(minimum = 1)]
    pub id: u64,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProductJson {
    #[schema(minimum = 1)]
    pub id: u64,
    pub name: String,
    pub description: String,
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$", example = "19.99")]
    pub price: Money,
    pub stock: u32,
    pub in_stock: bool,
    pub category: CategoryRef,
    #[schema(format = DateTime, example = "2026-01-02T03:04:05.123456Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2026-01-02T03:04:05.123456Z")]
    pub updated_at: String,
}

impl ProductJson {
    pub fn new(p: &Product, category_name: String) -> Self {
        ProductJson {
            id: p.id.get(),
            name: p.name.clone(),
            description: p.description.clone(),
            price: p.price,
            stock: p.stock,
            in_stock: p.stock > 0,
            category: CategoryRef {
                id: p.category_id.get(),
                name: category_name,
            },
            created_at: rfc3339(&p.created_at),
            updated_at: rfc3339(&p.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CartProductJson {
    #[schema(minimum = 1)]
    pub id: u64,
    pub name: String,
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$", example = "19.99")]
    pub price: Money,
    pub stock: u32,
}

#[derive(Serialize, ToSchema)]
pub struct CartLineJson {
    pub product: CartProductJson,
    pub quantity: u32,
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$", example = "19.99")]
    pub line_total: Money,
}

#[derive(Serialize, ToSchema)]
pub struct CartJson {
    pub items: Vec<CartLineJson>,
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$", example = "19.99")]
    pub total: Money,
}

#[derive(Serialize, ToSchema)]
pub struct OrderItemJson {
    #[schema(minimum = 1)]
    pub product_id: u64,
    pub name: String,
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$", example = "19.99")]
    pub unit_price: Money,
    pub quantity: u32,
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$", example = "19.99")]
    pub line_total: Money,
}

#[derive(Serialize, ToSchema)]
pub struct HistoryJson {
    pub status: OrderStatus,
    #[schema(format = DateTime, example = "2026-01-02T03:04:05.123456Z")]
    pub at: String,
}

#[derive(Serialize, ToSchema)]
pub struct OrderJson {
    #[schema(minimum = 1)]
    pub id: u64,
    #[schema(minimum = 1)]
    pub user_id: u64,
    pub status: OrderStatus,
    pub items: Vec<OrderItemJson>,
    #[schema(value_type = String, pattern = r"^[0-9]+\.[0-9]{2}$", example = "19.99")]
    pub total_price: Money,
    pub history: Vec<HistoryJson>,
    #[schema(format = DateTime, example = "2026-01-02T03:04:05.123456Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2026-01-02T03:04:05.123456Z")]
    pub updated_at: String,
}

impl From<&Order> for OrderJson {
    fn from(o: &Order) -> Self {
        OrderJson {
            id: o.id.get(),
            user_id: o.user_id.get(),
            status: o.status,
            items: o
                .items
                .iter()
                .map(|i| OrderItemJson {
                    product_id: i.product_id.get(),
                    name: i.name.clone(),
                    unit_price: i.unit_price,
                    quantity: i.quantity,
                    line_total: i.line_total(),
                })
                .collect(),
            total_price: o.total_price(),
            history: o
                .history
                .iter()
                .map(|h| HistoryJson {
                    status: h.status,
                    at: rfc3339(&h.at),
                })
                .collect(),
            created_at: rfc3339(&o.created_at),
            updated_at: rfc3339(&o.updated_at),
        }
    }
}

/// The live event as sent over WebSocket and SSE.
#[derive(Serialize, ToSchema)]
pub struct EventJson {
    #[schema(minimum = 1)]
    pub id: u64,
    #[serde(rename = "type")]
    #[schema(value_type = String, pattern = r"^order\.(created|status)$", example = "order.status")]
    pub kind: &'static str,
    #[schema(minimum = 1)]
    pub order_id: u64,
    #[schema(minimum = 1)]
    pub user_id: u64,
    pub status: OrderStatus,
    pub previous: Option<OrderStatus>,
    #[schema(format = DateTime, example = "2026-01-02T03:04:05.123456Z")]
    pub at: String,
}

impl From<&OrderEvent> for EventJson {
    fn from(e: &OrderEvent) -> Self {
        EventJson {
            id: e.id.get(),
            kind: e.kind.as_str(),
            order_id: e.order_id.get(),
            user_id: e.user_id.get(),
            status: e.status,
            previous: e.previous,
            at: rfc3339(&e.at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NotificationJson {
    #[schema(minimum = 1)]
    pub id: u64,
    #[schema(value_type = String, pattern = r"^order\.(created|status)$", example = "order.status")]
    pub kind: &'static str,
    #[schema(minimum = 1)]
    pub order_id: u64,
    pub status: OrderStatus,
    pub message: String,
    #[schema(format = DateTime, example = "2026-01-02T03:04:05.123456Z")]
    pub created_at: String,
    pub read: bool,
}

impl NotificationJson {
    pub fn new(e: &OrderEvent, read: bool) -> Self {
        NotificationJson {
            id: e.id.get(),
            kind: e.kind.as_str(),
            order_id: e.order_id.get(),
            status: e.status,
            message: e.message(),
            created_at: rfc3339(&e.at),
            read,
        }
    }
}

/// Where a paginated answer lives, so `next` and `previous` keep every other query parameter.
#[derive(Debug, Clone)]
pub struct PageLinks {
    /// Absolute URL of the list, without query.
    pub base: String,
    /// The query parameters other than `page`, in a stable order.
    pub params: Vec<(String, String)>,
}

impl PageLinks {
    pub fn url_for(&self, page: u64) -> String {
        let mut query: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{}={}", urlencoding::encode(k), urlencoding::encode(v)))
            .collect();
        query.push(format!("page={page}"));
        format!("{}?{}", self.base, query.join("&"))
    }

    pub fn page<T>(
        &self,
        page: crate::domain::catalog::PageRequest,
        count: u64,
        results: Vec<T>,
    ) -> Page<T> {
        let last = count.div_ceil(page.size).max(1);
        Page {
            count,
            next: (page.page < last).then(|| self.url_for(page.page + 1)),
            previous: (page.page > 1).then(|| self.url_for((page.page - 1).min(last))),
            results,
        }
    }

    /// A cache key part that names this list exactly.
    pub fn cache_key(&self, page: u64) -> String {
        self.url_for(page)
    }
}
