//! The model side of the randomized list test: generated data, queries, and the brute-force answer.
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::Rng;
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

pub const WORDS: &[&str] = &[
    "Blue", "blue", "RED", "Mug", "mug", "Cup", "Lamp", "lamp", "Äpfel", "äPFEL", "Café", "Desk",
    "Tea", "Ink", "Pen",
];
pub const PRICES: &[i64] = &[0, 99, 100, 150, 999, 1000, 1999, 2500, 5000];
pub const ORDERINGS: &[&str] = &[
    "id",
    "-id",
    "price",
    "-price",
    "name",
    "-name",
    "created_at",
    "-created_at",
];
pub const PAGE_SIZES: &[u64] = &[1, 2, 3, 5, 7, 10, 25, 50, 100];

#[derive(Debug, Clone)]
pub struct Model {
    pub id: u64,
    pub name: String,
    pub price: i64,
    pub stock: u64,
    pub category: u64,
    pub created: i128,
}

pub fn cents(price: &Value) -> i64 {
    let (whole, frac) = price
        .as_str()
        .expect("price string")
        .split_once('.')
        .expect("two places");
    assert_eq!(frac.len(), 2, "two decimal places in {price}");
    whole.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap()
}

pub fn model_of(product: &Value) -> Model {
    let created =
        time::OffsetDateTime::parse(product["created_at"].as_str().unwrap(), &Rfc3339).unwrap();
    Model {
        id: product["id"].as_u64().unwrap(),
        name: product["name"].as_str().unwrap().to_owned(),
        price: cents(&product["price"]),
        stock: product["stock"].as_u64().unwrap(),
        category: product["category"]["id"].as_u64().unwrap(),
        created: created.unix_timestamp_nanos(),
    }
}

/// A price as a client might write it: "12.5", "12.50", "12", or a JSON number.
pub fn price_text(rng: &mut StdRng, cents: i64) -> String {
    match (rng.random_range(0..3), cents % 100) {
        (0, 0) => format!("{}", cents / 100),
        (1, c) if c % 10 == 0 => format!("{}.{}", cents / 100, c / 10),
        _ => format!("{}.{:02}", cents / 100, cents % 100),
    }
}

pub fn random_price(rng: &mut StdRng) -> i64 {
    if rng.random_bool(0.6) {
        *PRICES.choose(rng).unwrap()
    } else {
        rng.random_range(0..6000)
    }
}

pub fn any_price(rng: &mut StdRng) -> String {
    let cents = random_price(rng);
    price_text(rng, cents)
}

pub fn random_name(rng: &mut StdRng) -> String {
    let mut name = WORDS.choose(rng).unwrap().to_string();
    if rng.random_bool(0.6) {
        name = format!("{name} {}", WORDS.choose(rng).unwrap());
    }
    if rng.random_bool(0.5) {
        name = format!("{name} {}", rng.random_range(0..4));
    }
    name
}

#[derive(Debug, Clone, Copy)]
pub enum PageChoice {
    First,
    Last,
    Fraction(f64),
    PastTheEnd,
}

#[derive(Debug, Clone)]
pub struct Query {
    pub params: Vec<(&'static str, String)>,
    pub page_size: Option<u64>,
    pub page: PageChoice,
}

pub fn random_query(rng: &mut StdRng, categories: &[u64], names: &[String]) -> Query {
    let mut params = Vec::new();
    if rng.random_bool(0.3) {
        let category = if rng.random_bool(0.1) {
            999
        } else {
            *categories.choose(rng).unwrap()
        };
        params.push(("category", category.to_string()));
    }
    if rng.random_bool(0.3) {
        let low = random_price(rng);
        params.push(("min_price", price_text(rng, low)));
    }
    if rng.random_bool(0.3) {
        let high = random_price(rng);
        params.push(("max_price", price_text(rng, high)));
    }
    if rng.random_bool(0.3) {
        params.push((
            "in_stock",
            if rng.random_bool(0.5) {
                "true"
            } else {
                "false"
            }
            .into(),
        ));
    }
    if rng.random_bool(0.35) {
        let chars: Vec<char> = names.choose(rng).unwrap().chars().collect();
        let start = rng.random_range(0..chars.len());
        let end = rng.random_range(start + 1..=chars.len().min(start + 5));
        let text: String = chars[start..end].iter().collect();
        let other = names.choose(rng).unwrap();
        params.push((
            "search",
            match rng.random_range(0..5) {
                0 => text.to_uppercase(),
                1 => folded(&text),
                // Two words, the second from another name: both must match, in any order.
                2 => format!("{} {text}", other.split(' ').next().unwrap_or("")),
                _ => text,
            },
        ));
    }
    if rng.random_bool(0.7) {
        params.push(("ordering", ORDERINGS.choose(rng).unwrap().to_string()));
    }
    let page_size = rng
        .random_bool(0.7)
        .then(|| *PAGE_SIZES.choose(rng).unwrap());
    let page = match rng.random_range(0..10) {
        0..=2 => PageChoice::First,
        3..=4 => PageChoice::Last,
        5 => PageChoice::PastTheEnd,
        _ => PageChoice::Fraction(rng.random_range(0.0..1.0)),
    };
    Query {
        params,
        page_size,
        page,
    }
}

/// Lower case without accents, as the API compares names and searches.
pub fn folded(text: &str) -> String {
    let bare: String = text.nfd().filter(|c| !is_combining_mark(*c)).collect();
    bare.to_lowercase()
}

/// The brute-force answer: every matching product, in the requested order.
pub fn expected(models: &BTreeMap<u64, Model>, params: &[(&str, String)]) -> Vec<Model> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    };
    let parse_price = |raw: &str| {
        let (whole, frac) = raw.split_once('.').unwrap_or((raw, ""));
        whole.parse::<i64>().unwrap() * 100 + format!("{frac:0<2}").parse::<i64>().unwrap()
    };
    let category = get("category").map(|c| c.parse::<u64>().unwrap());
    let (min, max) = (
        get("min_price").map(parse_price),
        get("max_price").map(parse_price),
    );
    let in_stock = get("in_stock").map(|v| v == "true");
    let words: Vec<String> = get("search")
        .map(|s| folded(s).split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let mut found: Vec<Model> = models
        .values()
        .filter(|p| category.is_none_or(|c| p.category == c))
        .filter(|p| min.is_none_or(|m| p.price >= m) && max.is_none_or(|m| p.price <= m))
        .filter(|p| in_stock.is_none_or(|want| (p.stock > 0) == want))
        .filter(|p| {
            let name = folded(&p.name);
            words.iter().all(|w| name.contains(w.as_str()))
        })
        .cloned()
        .collect();
    let ordering = get("ordering").unwrap_or("id");
    let descending = ordering.starts_with('-');
    found.sort_by(|a, b| {
        let by_key = match ordering.trim_start_matches('-') {
            "id" => Ordering::Equal,
            "price" => a.price.cmp(&b.price),
            "name" => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            "created_at" => a.created.cmp(&b.created),
            other => panic!("ordering {other}"),
        };
        let both = by_key.then(a.id.cmp(&b.id));
        if descending {
            both.reverse()
        } else {
            both
        }
    });
    found
}
