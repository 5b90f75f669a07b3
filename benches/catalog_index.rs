//! Criterion micro-benchmarks of the product-list path below HTTP and the cache:
//! `Store::list_products` (index scan + page of products read from sled) on a seeded catalog.
//!
//!     cargo bench --bench catalog_index
//!     BENCH_INDEX_PRODUCTS=1000000 cargo bench --bench catalog_index
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use std::time::Duration;

use orderstream::domain::catalog::{Ordering, PageRequest, ProductFilter};
use orderstream::domain::ids::CategoryId;
use orderstream::domain::money::Money;
use orderstream::store::prelude::*;
use orderstream::store::Store;

fn seeded(products: usize) -> (tempfile::TempDir, Store, Vec<CategoryId>) {
    // Shows the store's "catalog index loaded" line (row read vs search index build times).
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .try_init();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("open store");
    let categories: Vec<CategoryId> = orderstream::demo::categories()
        .into_iter()
        .map(|draft| store.create_category(draft).expect("category").id)
        .collect();
    let started = std::time::Instant::now();
    store
        .seed_products(
            &mut orderstream::demo::products(products, &categories),
            time::OffsetDateTime::now_utc(),
        )
        .expect("seed");
    eprintln!(
        "catalog_index: seeded {products} products in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    store.flush().expect("flush");
    drop(store);
    // Start-up cost of the in-memory indexes: reopening reads every catalog row back.
    // The search index is built on its own thread and only searches and writes wait for it.
    let started = std::time::Instant::now();
    let store = Store::open(dir.path()).expect("reopen store");
    let opened = started.elapsed();
    let search_bytes = store.search_index_bytes();
    eprintln!(
        "catalog_index: reopened {products} products (index load) in {:.2} s; search index \
         {:.1} MiB, ready {:.2} s after the open began",
        opened.as_secs_f64(),
        search_bytes as f64 / (1024.0 * 1024.0),
        started.elapsed().as_secs_f64()
    );
    (dir, store, categories)
}

fn list_products(c: &mut Criterion) {
    let products: usize = std::env::var("BENCH_INDEX_PRODUCTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let (_dir, store, categories) = seeded(products);
    let page1 = PageRequest { page: 1, size: 10 };
    let filtered = ProductFilter {
        category: Some(categories[2]),
        min_price: Some(Money::from_cents(10_00)),
        max_price: Some(Money::from_cents(50_00)),
        in_stock: Some(true),
        ..Default::default()
    };
    let cases: Vec<(&str, ProductFilter, PageRequest)> = vec![
        ("no filter, page 1", ProductFilter::default(), page1),
        ("category+price+in_stock, page 1", filtered.clone(), page1),
        (
            "category+price+in_stock, ordering=price",
            ProductFilter {
                ordering: Ordering::PriceAsc,
                ..filtered.clone()
            },
            page1,
        ),
        ("search=espresso, page 1", search("espresso"), page1),
        (
            "search=premium espresso, page 1",
            search("premium espresso"),
            page1,
        ),
        (
            "search=cup, ordering=price",
            ordered(search("cup"), Ordering::PriceAsc),
            page1,
        ),
        ("search=es (short word), page 1", search("es"), page1),
        ("search=e (one letter), page 1", search("e"), page1),
        (
            "search=e a s o n (five letters), page 1",
            search("e a s o n"),
            page1,
        ),
        (
            "no filter, ordering=-created_at",
            ProductFilter {
                ordering: Ordering::CreatedDesc,
                ..Default::default()
            },
            page1,
        ),
        (
            "no filter, page 1000 of 100",
            ProductFilter::default(),
            PageRequest {
                page: 1000.min((products as u64 / 100).max(1)),
                size: 100,
            },
        ),
    ];
    let mut group = c.benchmark_group(format!("list_products/{products}"));
    for (name, filter, page) in cases {
        group.bench_with_input(BenchmarkId::from_parameter(name), &filter, |b, filter| {
            b.iter(|| black_box(store.list_products(black_box(filter), page).expect("list")))
        });
    }
    group.finish();
}

/// A search as the API would parse it (`search=` in the query string).
fn search(text: &str) -> ProductFilter {
    ProductFilter {
        search: ProductFilter::parse_search(text).expect("valid search"),
        ..Default::default()
    }
}

fn ordered(filter: ProductFilter, ordering: Ordering) -> ProductFilter {
    ProductFilter { ordering, ..filter }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = list_products
}
criterion_main!(benches);
