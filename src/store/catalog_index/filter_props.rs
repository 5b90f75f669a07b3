//! Property test: whatever the writes (create, move to another category, reprice, stock
//! changes, delete), a filtered list through the index (the per-category lists or the rows)
//! answers exactly the page that a brute-force filter and sort over every row gives.
use std::collections::BTreeMap;

use proptest::prelude::*;

use super::paging::comparator;
use super::*;

#[derive(Debug, Clone)]
enum Op {
    Create(u64, i64, u32),
    Change(usize, u64, i64),
    SetStock(usize, u32),
    Delete(usize),
    List(ProductFilter, PageRequest),
}

fn filter() -> impl Strategy<Value = ProductFilter> {
    (
        prop::option::of(1..4u64),
        prop::option::of(0..8i64),
        prop::option::of(0..8i64),
        prop::option::of(any::<bool>()),
        prop::sample::select(Ordering::ALL.to_vec()),
    )
        .prop_map(|(category, min, max, in_stock, ordering)| ProductFilter {
            category: category.map(CategoryId::new),
            min_price: min.map(Money::from_cents),
            max_price: max.map(Money::from_cents),
            in_stock,
            search: None,
            ordering,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1..4u64, 0..8i64, 0..3u32).prop_map(|(c, p, s)| Op::Create(c, p, s)),
        1 => (any::<usize>(), 1..4u64, 0..8i64).prop_map(|(i, c, p)| Op::Change(i, c, p)),
        2 => (any::<usize>(), 0..3u32).prop_map(|(i, s)| Op::SetStock(i, s)),
        1 => any::<usize>().prop_map(Op::Delete),
        3 => (filter(), 1..4u64, 1..6u64)
            .prop_map(|(f, page, size)| Op::List(f, PageRequest { page, size })),
    ]
}

fn brute_force(
    rows: &BTreeMap<u64, Row>,
    filter: &ProductFilter,
    page: PageRequest,
) -> (u64, Vec<u64>) {
    let mut found: Vec<&Row> = rows.values().filter(|r| r.matches(filter)).collect();
    found.sort_by(comparator(filter.ordering));
    let ids = found
        .iter()
        .skip(page.offset() as usize)
        .take(page.size as usize)
        .map(|r| r.id)
        .collect();
    (found.len() as u64, ids)
}

fn pick(rows: &BTreeMap<u64, Row>, at: usize) -> Option<u64> {
    (!rows.is_empty()).then(|| *rows.keys().nth(at % rows.len()).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn filtered_pages_equal_brute_force_across_writes(ops in prop::collection::vec(op(), 1..80)) {
        let index = CatalogIndex::with(Rows::default(), None, READY);
        let mut model: BTreeMap<u64, Row> = BTreeMap::new();
        let mut next_id = 0;
        for op in ops {
            match op {
                Op::Create(category, price, stock) => {
                    next_id += 1;
                    // Names and creation times run against ids, so those orderings differ.
                    let row = Row {
                        id: next_id,
                        category,
                        price,
                        stock,
                        created: -(next_id as i64 % 5),
                        name_lower: format!("item {}", (next_id * 7) % 11).into(),
                    };
                    index.upsert(row.clone());
                    model.insert(next_id, row);
                }
                Op::Change(at, category, price) => if let Some(id) = pick(&model, at) {
                    let row = Row { category, price, ..model[&id].clone() };
                    index.upsert(row.clone());
                    model.insert(id, row);
                },
                Op::SetStock(at, stock) => if let Some(id) = pick(&model, at) {
                    index.set_stock(ProductId::new(id), stock);
                    model.get_mut(&id).unwrap().stock = stock;
                },
                Op::Delete(at) => if let Some(id) = pick(&model, at) {
                    index.remove(ProductId::new(id));
                    model.remove(&id);
                },
                Op::List(filter, page) => {
                    let (count, ids) = index.query(&filter, page);
                    let got: Vec<u64> = ids.iter().map(|p| p.get()).collect();
                    prop_assert_eq!((count, got), brute_force(&model, &filter, page), "{:?} {:?}", filter, page);
                    for category in 1..4 {
                        let want = model.values().filter(|r| r.category == category).count() as u64;
                        prop_assert_eq!(index.products_in(CategoryId::new(category)), want);
                    }
                }
            }
        }
    }
}
