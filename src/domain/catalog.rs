use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ids::{CategoryId, ProductId};
use super::money::Money;
use super::search::Search;
use super::validation::{bounded_text, required_text};
use super::ValidationError;

pub const MAX_CATEGORY_NAME: usize = 100;
pub const MAX_PRODUCT_NAME: usize = 200;
pub const MAX_DESCRIPTION: usize = 5_000;
pub const MAX_STOCK: u32 = 1_000_000_000;
pub const MAX_SEARCH_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    pub description: String,
}

/// A category with the number of products in it.
#[derive(Debug, Clone)]
pub struct CategoryWithCount {
    pub category: Category,
    pub product_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub stock: u32,
    pub category_id: CategoryId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A validated category body.
#[derive(Debug, Clone)]
pub struct CategoryDraft {
    pub name: String,
    pub description: String,
}

impl CategoryDraft {
    pub fn parse_name(raw: &str) -> Result<String, ValidationError> {
        required_text("name", raw, MAX_CATEGORY_NAME)
    }
    pub fn parse_description(raw: &str) -> Result<String, ValidationError> {
        bounded_text("description", raw, MAX_DESCRIPTION)
    }
}

/// A validated product body (all fields present).
#[derive(Debug, Clone)]
pub struct ProductDraft {
    pub name: String,
    pub description: String,
    pub price: Money,
    pub stock: u32,
    pub category_id: CategoryId,
}

impl ProductDraft {
    pub fn parse_name(raw: &str) -> Result<String, ValidationError> {
        required_text("name", raw, MAX_PRODUCT_NAME)
    }
    pub fn parse_description(raw: &str) -> Result<String, ValidationError> {
        bounded_text("description", raw, MAX_DESCRIPTION)
    }
    pub fn parse_stock(raw: i64) -> Result<u32, ValidationError> {
        if raw < 0 || raw > MAX_STOCK as i64 {
            return Err(ValidationError::new(
                "stock",
                "must be an integer from 0 to 1000000000",
            ));
        }
        Ok(raw as u32)
    }
}

/// A change to stock: relative or absolute; the result stays within 0..=MAX_STOCK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockChange {
    Adjust(i64),
    Set(u32),
}

/// Which end of the range a refused stock change would have crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StockRefused {
    #[error("stock cannot go below 0 (it is {current})")]
    BelowZero { current: u32 },
    #[error("stock would exceed the maximum of {MAX_STOCK} (it is {current})")]
    AboveMaximum { current: u32 },
}

impl StockChange {
    /// The new level, or which bound it would cross.
    pub fn apply(self, current: u32) -> Result<u32, StockRefused> {
        let above = StockRefused::AboveMaximum { current };
        let next = match self {
            // checked: an adjustment near i64::MAX must be refused, not overflow (current is
            // never negative, so only the top can overflow).
            StockChange::Adjust(delta) => (current as i64).checked_add(delta).ok_or(above)?,
            StockChange::Set(level) => level as i64,
        };
        match next {
            n if n < 0 => Err(StockRefused::BelowZero { current }),
            n if n > MAX_STOCK as i64 => Err(above),
            n => Ok(n as u32),
        }
    }
}

// The product list's sort orders; the OpenAPI document lists this very type, by the names
// `parse` takes (kept in step with `as_str` by a test).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, utoipa::ToSchema)]
#[schema(as = ProductOrdering)]
pub enum Ordering {
    #[default]
    #[schema(rename = "id")]
    IdAsc,
    #[schema(rename = "-id")]
    IdDesc,
    #[schema(rename = "price")]
    PriceAsc,
    #[schema(rename = "-price")]
    PriceDesc,
    #[schema(rename = "name")]
    NameAsc,
    #[schema(rename = "-name")]
    NameDesc,
    #[schema(rename = "created_at")]
    CreatedAsc,
    #[schema(rename = "-created_at")]
    CreatedDesc,
}

impl Ordering {
    pub const ALL: [Ordering; 8] = [
        Ordering::IdAsc,
        Ordering::IdDesc,
        Ordering::PriceAsc,
        Ordering::PriceDesc,
        Ordering::NameAsc,
        Ordering::NameDesc,
        Ordering::CreatedAsc,
        Ordering::CreatedDesc,
    ];

    pub fn parse(raw: &str) -> Result<Ordering, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str() == raw)
            .ok_or_else(|| {
                ValidationError::new(
                    "ordering",
                    "must be one of id, -id, price, -price, name, -name, created_at, -created_at",
                )
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Ordering::IdAsc => "id",
            Ordering::IdDesc => "-id",
            Ordering::PriceAsc => "price",
            Ordering::PriceDesc => "-price",
            Ordering::NameAsc => "name",
            Ordering::NameDesc => "-name",
            Ordering::CreatedAsc => "created_at",
            Ordering::CreatedDesc => "-created_at",
        }
    }
}

/// Product list filters, already parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    pub category: Option<CategoryId>,
    pub min_price: Option<Money>,
    pub max_price: Option<Money>,
    pub in_stock: Option<bool>,
    pub search: Option<Search>,
    pub ordering: Ordering,
}

impl ProductFilter {
    /// A search of nothing but blanks (or accents) is no search.
    pub fn parse_search(raw: &str) -> Result<Option<Search>, ValidationError> {
        let text = bounded_text("search", raw, MAX_SEARCH_CHARS)?;
        Ok(Search::new(&text))
    }

    pub fn parse_bool(field: &str, raw: &str) -> Result<bool, ValidationError> {
        match raw {
            "true" | "True" | "1" => Ok(true),
            "false" | "False" | "0" => Ok(false),
            _ => Err(ValidationError::new(field, "must be true or false")),
        }
    }

    /// The rule every list implementation must agree with (the index and the tests use it).
    pub fn matches(&self, category: CategoryId, price: Money, stock: u32, name: &str) -> bool {
        self.category.is_none_or(|c| c == category)
            && self.price_and_stock().admit(price.cents(), stock)
            && self.search.as_ref().is_none_or(|s| s.matches(name))
    }

    /// The price and stock filters alone, as integer ranges.
    pub fn price_and_stock(&self) -> PriceAndStock {
        let (least_stock, most_stock) = match self.in_stock {
            None => (0, u32::MAX),
            Some(true) => (1, u32::MAX),
            Some(false) => (0, 0),
        };
        PriceAndStock {
            low: self.min_price.map_or(i64::MIN, Money::cents),
            high: self.max_price.map_or(i64::MAX, Money::cents),
            least_stock,
            most_stock,
        }
    }

    /// True when no filter narrows the list (the ordering aside).
    pub fn filters_nothing(&self) -> bool {
        self.category.is_none()
            && self.min_price.is_none()
            && self.max_price.is_none()
            && self.in_stock.is_none()
            && self.search.is_none()
    }
}

/// The price and stock filters as inclusive integer ranges. A category page at a million
/// products tests tens of thousands of packed entries: four comparisons without branches, which
/// the compiler vectorizes, instead of four optional checks each.
#[derive(Debug, Clone, Copy)]
pub struct PriceAndStock {
    low: i64,
    high: i64,
    least_stock: u32,
    most_stock: u32,
}

impl PriceAndStock {
    #[inline]
    pub fn admit(&self, price_cents: i64, stock: u32) -> bool {
        (price_cents >= self.low)
            & (price_cents <= self.high)
            & (stock >= self.least_stock)
            & (stock <= self.most_stock)
    }
}

/// One page request: 1-based page, bounded size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u64,
    pub size: u64,
}

pub const DEFAULT_PAGE_SIZE: u64 = 10;
pub const MAX_PAGE_SIZE: u64 = 100;
pub const MAX_PAGE: u64 = 10_000_000;

impl PageRequest {
    pub fn parse(page: Option<&str>, size: Option<&str>) -> Result<PageRequest, ValidationError> {
        let page = match page {
            None => 1,
            Some(raw) => match raw.parse::<u64>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
                _ => return Err(ValidationError::new("page", "must be a positive integer")),
            },
        };
        let size = match size {
            None => DEFAULT_PAGE_SIZE,
            Some(raw) => match raw.parse::<u64>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                _ => {
                    return Err(ValidationError::new(
                        "page_size",
                        "must be an integer from 1 to 100",
                    ))
                }
            },
        };
        Ok(PageRequest { page, size })
    }

    pub fn offset(self) -> u64 {
        (self.page - 1) * self.size
    }

    /// Page 1 always exists (an empty list is a valid page); later pages must hold something.
    pub fn exists_within(self, count: u64) -> bool {
        self.page == 1 || self.offset() < count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_stays_between_zero_and_the_maximum_and_says_which_bound_it_hit() {
        assert_eq!(StockChange::Adjust(-3).apply(5), Ok(2));
        assert_eq!(StockChange::Set(0).apply(5), Ok(0));
        let below = StockRefused::BelowZero { current: 5 };
        assert_eq!(StockChange::Adjust(-6).apply(5), Err(below));
        assert_eq!(StockChange::Adjust(i64::MIN).apply(5), Err(below));
        let above = StockRefused::AboveMaximum { current: 5 };
        assert_eq!(StockChange::Adjust(i64::MAX).apply(5), Err(above));
        let near = MAX_STOCK - 10;
        assert_eq!(StockChange::Adjust(10).apply(near), Ok(MAX_STOCK));
        let refused = StockChange::Adjust(20).apply(near).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "stock would exceed the maximum of 1000000000 (it is 999999990)"
        );
    }

    #[test]
    fn the_documented_orderings_are_those_parse_takes() {
        let schema = <Ordering as utoipa::PartialSchema>::schema();
        let schema = serde_json::to_value(schema).unwrap();
        let documented: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let named: Vec<&str> = Ordering::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(documented, named);
        for ordering in Ordering::ALL {
            assert_eq!(Ordering::parse(ordering.as_str()), Ok(ordering));
        }
    }

    #[test]
    fn page_request_refuses_zero_negative_and_text() {
        for bad in ["0", "-1", "abc", ""] {
            assert!(PageRequest::parse(Some(bad), None).is_err());
        }
        assert!(PageRequest::parse(None, Some("101")).is_err());
        assert_eq!(
            PageRequest::parse(Some("3"), Some("20")).unwrap().offset(),
            40
        );
        assert!(PageRequest { page: 1, size: 10 }.exists_within(0));
        assert!(!PageRequest { page: 2, size: 10 }.exists_within(10));
    }

    #[test]
    fn filter_matches_every_condition() {
        let f = ProductFilter {
            category: Some(CategoryId::new(1)),
            min_price: Some(Money::from_cents(100)),
            max_price: Some(Money::from_cents(200)),
            in_stock: Some(true),
            search: Search::new("MUG"),
            ordering: Ordering::IdAsc,
        };
        assert!(f.matches(CategoryId::new(1), Money::from_cents(150), 1, "blue mug"));
        assert!(!f.matches(CategoryId::new(2), Money::from_cents(150), 1, "blue mug"));
        assert!(!f.matches(CategoryId::new(1), Money::from_cents(201), 1, "blue mug"));
        assert!(!f.matches(CategoryId::new(1), Money::from_cents(150), 0, "blue mug"));
        assert!(!f.matches(CategoryId::new(1), Money::from_cents(150), 1, "blue cup"));
    }
}
