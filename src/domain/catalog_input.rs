//! The catalog's inputs (category and product bodies, the product list's filters), each parsed
//! by one function that the API and the admin pages both call, so a mistake gets the same
//! message wherever it is made, and every refused field is reported at once.
use super::catalog::{
    Category, CategoryDraft, Ordering, Product, ProductDraft, ProductFilter, MAX_STOCK,
};
use super::ids::CategoryId;
use super::money::Money;
use super::validation::{required, Collector};
use super::{FieldErrors, ValidationError};

/// A number as it came: already a number (a JSON body) or text (a form field).
#[derive(Debug, Clone, Copy)]
pub enum Given<'a, T> {
    Value(T),
    Text(&'a str),
}

impl<'a> Given<'a, i64> {
    /// The number; text is read as an integer, and blank text counts as not given.
    fn integer(self, field: &str, refused: &str) -> Result<i64, ValidationError> {
        match self {
            Given::Value(n) => Ok(n),
            Given::Text(text) if text.trim().is_empty() => required(field, None),
            Given::Text(text) => {
                (text.trim().parse()).map_err(|_| ValidationError::new(field, refused))
            }
        }
    }
}

/// The raw fields of a category body or form.
#[derive(Debug, Default, Clone, Copy)]
pub struct CategoryFields<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
}

impl CategoryDraft {
    /// Absent fields come from `current` (a PATCH); without one, the name is required.
    pub fn parse(
        input: CategoryFields<'_>,
        current: Option<&Category>,
    ) -> Result<CategoryDraft, FieldErrors> {
        let mut errors = Collector::default();
        let name = errors.take(match (input.name, current) {
            (Some(raw), _) => CategoryDraft::parse_name(raw),
            (None, Some(c)) => Ok(c.name.clone()),
            (None, None) => required("name", None),
        });
        let description = errors.take(match (input.description, current) {
            (Some(raw), _) => CategoryDraft::parse_description(raw),
            (None, Some(c)) => Ok(c.description.clone()),
            (None, None) => Ok(String::new()),
        });
        errors.finish(|| {
            Some(CategoryDraft {
                name: name?,
                description: description?,
            })
        })
    }
}

/// The raw fields of a product body or form; `None` is a field not given.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProductFields<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub price: Option<Given<'a, Money>>,
    pub stock: Option<Given<'a, i64>>,
    pub category_id: Option<Given<'a, i64>>,
}

fn parse_price(given: Given<'_, Money>) -> Result<Money, ValidationError> {
    match given {
        Given::Value(price) => Ok(price),
        Given::Text(text) => Money::parse("price", text),
    }
}

fn parse_stock(given: Given<'_, i64>) -> Result<u32, ValidationError> {
    let refused = format!("must be an integer from 0 to {MAX_STOCK}");
    ProductDraft::parse_stock(given.integer("stock", &refused)?)
}

fn parse_category_id(given: Given<'_, i64>) -> Result<CategoryId, ValidationError> {
    let refused = "must be a positive integer";
    match given.integer("category_id", refused)? {
        n if n > 0 => Ok(CategoryId::new(n as u64)),
        _ => Err(ValidationError::new("category_id", refused)),
    }
}

impl ProductDraft {
    /// A whole product (create, replace): every field but the description is required.
    pub fn parse(input: ProductFields<'_>) -> Result<ProductDraft, FieldErrors> {
        let mut errors = Collector::default();
        let name = errors.take(required("name", input.name).and_then(Self::parse_name));
        let description = errors.take(Self::parse_description(input.description.unwrap_or("")));
        let price = errors.take(required("price", input.price).and_then(parse_price));
        let stock = errors.take(required("stock", input.stock).and_then(parse_stock));
        let category_id =
            errors.take(required("category_id", input.category_id).and_then(parse_category_id));
        errors.finish(|| {
            Some(ProductDraft {
                name: name?,
                description: description?,
                price: price?,
                stock: stock?,
                category_id: category_id?,
            })
        })
    }
}

/// The fields a body gives, each already valid; the others keep their value.
#[derive(Debug, Clone, Default)]
pub struct ProductChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<Money>,
    pub stock: Option<u32>,
    pub category_id: Option<CategoryId>,
}

impl ProductChanges {
    /// Every given field parsed (a PATCH, or the edit page, which has no stock field).
    pub fn parse(input: ProductFields<'_>) -> Result<ProductChanges, FieldErrors> {
        let mut errors = Collector::default();
        let name = input
            .name
            .map(|raw| errors.take(ProductDraft::parse_name(raw)));
        let description =
            (input.description).map(|raw| errors.take(ProductDraft::parse_description(raw)));
        let price = input.price.map(|given| errors.take(parse_price(given)));
        let stock = input.stock.map(|given| errors.take(parse_stock(given)));
        let category_id = (input.category_id).map(|given| errors.take(parse_category_id(given)));
        // A given field is `Some(None)` only when it was refused, which `finish` reports.
        errors.finish(|| {
            Some(ProductChanges {
                name: name.flatten(),
                description: description.flatten(),
                price: price.flatten(),
                stock: stock.flatten(),
                category_id: category_id.flatten(),
            })
        })
    }

    /// `current` with these changes: applied inside the store's transaction, so a field left
    /// out (stock, say) keeps the value it has at the write, not at the read.
    pub fn applied_to(&self, current: &Product) -> ProductDraft {
        ProductDraft {
            name: self.name.clone().unwrap_or_else(|| current.name.clone()),
            description: (self.description.clone()).unwrap_or_else(|| current.description.clone()),
            price: self.price.unwrap_or(current.price),
            stock: self.stock.unwrap_or(current.stock),
            category_id: self.category_id.unwrap_or(current.category_id),
        }
    }
}

/// The product list's query parameters as given.
#[derive(Debug, Default, Clone, Copy)]
pub struct FilterFields<'a> {
    pub category: Option<&'a str>,
    pub min_price: Option<&'a str>,
    pub max_price: Option<&'a str>,
    pub in_stock: Option<&'a str>,
    pub search: Option<&'a str>,
    pub ordering: Option<&'a str>,
}

impl ProductFilter {
    /// Every given parameter parsed; each malformed one is named.
    pub fn parse(input: FilterFields<'_>) -> Result<ProductFilter, FieldErrors> {
        let mut errors = Collector::default();
        let category = input.category.map(|raw| {
            errors.take(
                raw.parse::<CategoryId>()
                    .map_err(|_| ValidationError::new("category", "must be a positive integer")),
            )
        });
        let min_price = (input.min_price).map(|raw| errors.take(Money::parse("min_price", raw)));
        let max_price = (input.max_price).map(|raw| errors.take(Money::parse("max_price", raw)));
        let in_stock = (input.in_stock).map(|raw| errors.take(Self::parse_bool("in_stock", raw)));
        let search = input.search.map(|raw| errors.take(Self::parse_search(raw)));
        let ordering = input.ordering.map(|raw| errors.take(Ordering::parse(raw)));
        errors.finish(|| {
            Some(ProductFilter {
                category: category.flatten(),
                min_price: min_price.flatten(),
                max_price: max_price.flatten(),
                in_stock: in_stock.flatten(),
                search: search.flatten().flatten(),
                ordering: ordering.flatten().unwrap_or_default(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form<'a>(
        name: &'a str,
        price: &'a str,
        stock: &'a str,
        category: &'a str,
    ) -> ProductFields<'a> {
        ProductFields {
            name: Some(name),
            description: Some(""),
            price: Some(Given::Text(price)),
            stock: Some(Given::Text(stock)),
            category_id: Some(Given::Text(category)),
        }
    }

    #[test]
    fn a_form_and_a_body_get_the_same_messages() {
        let from_form = ProductDraft::parse(form("", "1.234", "-1", "0")).unwrap_err();
        let from_body = ProductDraft::parse(ProductFields {
            name: Some(""),
            description: None,
            price: Some(Given::Text("1.234")),
            stock: Some(Given::Value(-1)),
            category_id: Some(Given::Value(0)),
        })
        .unwrap_err();
        assert_eq!(from_form, from_body);
        assert_eq!(
            from_form.keys().collect::<Vec<_>>(),
            ["category_id", "name", "price", "stock"]
        );
        assert_eq!(
            from_form["stock"],
            ["must be an integer from 0 to 1000000000"]
        );
    }

    #[test]
    fn a_whole_product_names_every_missing_field_and_blank_numbers_are_missing() {
        let missing = ProductDraft::parse(ProductFields::default()).unwrap_err();
        assert_eq!(missing.len(), 4);
        assert_eq!(missing["category_id"], ["this field is required"]);
        let blank = ProductDraft::parse(form("Mug", "3", " ", "")).unwrap_err();
        assert_eq!(blank["stock"], ["this field is required"]);
        assert_eq!(blank["category_id"], ["this field is required"]);
        let ok = ProductDraft::parse(form(" Mug ", "3.5", "+4", "2")).unwrap();
        assert_eq!((ok.name.as_str(), ok.stock), ("Mug", 4));
    }

    #[test]
    fn changes_keep_what_is_not_given() {
        let changes = ProductChanges::parse(ProductFields {
            price: Some(Given::Text("2")),
            ..ProductFields::default()
        })
        .unwrap();
        assert_eq!(changes.price, Some(Money::from_cents(200)));
        assert!(changes.name.is_none() && changes.stock.is_none());
        let refused = ProductChanges::parse(ProductFields {
            name: Some(" "),
            ..ProductFields::default()
        })
        .unwrap_err();
        assert_eq!(refused["name"], ["must not be blank"]);
    }

    #[test]
    fn a_category_needs_a_name_unless_it_has_one() {
        let missing = CategoryDraft::parse(CategoryFields::default(), None).unwrap_err();
        assert_eq!(missing["name"], ["this field is required"]);
        let current = Category {
            id: CategoryId::new(1),
            name: "Tea".into(),
            description: "Leaves".into(),
        };
        let patched = CategoryDraft::parse(
            CategoryFields {
                description: Some("Green"),
                ..CategoryFields::default()
            },
            Some(&current),
        )
        .unwrap();
        assert_eq!(
            (patched.name.as_str(), patched.description.as_str()),
            ("Tea", "Green")
        );
    }

    #[test]
    fn a_filter_names_every_malformed_parameter() {
        let refused = ProductFilter::parse(FilterFields {
            category: Some("x"),
            min_price: Some("-1"),
            in_stock: Some("maybe"),
            ordering: Some("colour"),
            ..FilterFields::default()
        })
        .unwrap_err();
        assert_eq!(refused.len(), 4);
        let filter = ProductFilter::parse(FilterFields {
            search: Some("  "),
            ordering: Some("-price"),
            ..FilterFields::default()
        })
        .unwrap();
        assert_eq!(filter.ordering, Ordering::PriceDesc);
        assert!(filter.search.is_none());
    }
}
