//! Property test: whatever the writes (create, rename, delete), a search through the index
//! answers exactly what a brute-force filter over every name answers. Names mix accents, case
//! and several words; the reference folds them its own way (NFD, marks dropped, then lower case).
use std::collections::BTreeMap;

use proptest::prelude::*;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use super::paging::comparator;
use super::*;
use crate::domain::search::Search;

const WORDS: &[&str] = &[
    "Crème",
    "creme",
    "CAFÉ",
    "café",
    "Äpfel",
    "apfel",
    "Blue",
    "BLUE",
    "mug",
    "Mug",
    "résumé",
    "straße",
    "İstanbul",
    "x",
    "ab",
    "Ba",
    "No.",
    "42",
];

#[derive(Debug, Clone)]
enum Op {
    Create(String, u64, i64),
    Rename(usize, String),
    Delete(usize),
    Search(String, Ordering, Option<u64>),
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(WORDS), 1..4).prop_map(|w| w.join(" ")),
        // Short runs over a small alphabet: many overlapping trigrams and 1–2 letter hits.
        "[aAbBéÉeE ]{1,8}",
    ]
}

fn search_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(WORDS), 1..3).prop_map(|w| w.join(" ")),
        "[aAbBéÉeEsS ]{0,6}",
        "[a-zé]{1,2}( [a-zé]{3,5})?",
    ]
}

fn ordering() -> impl Strategy<Value = Ordering> {
    prop::sample::select(vec![
        Ordering::IdAsc,
        Ordering::IdDesc,
        Ordering::NameAsc,
        Ordering::PriceDesc,
    ])
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (name(), 1..4u64, 0..5i64).prop_map(|(n, c, p)| Op::Create(n, c, p)),
        1 => (any::<usize>(), name()).prop_map(|(i, n)| Op::Rename(i, n)),
        1 => any::<usize>().prop_map(Op::Delete),
        3 => (search_text(), ordering(), prop::option::of(1..4u64))
            .prop_map(|(s, o, c)| Op::Search(s, o, c)),
    ]
}

fn reference_fold(text: &str) -> String {
    let bare: String = text.nfd().filter(|c| !is_combining_mark(*c)).collect();
    bare.to_lowercase()
}

fn row_named(id: u64, category: u64, price: i64, name: &str) -> Row {
    Row {
        id,
        category,
        price,
        stock: 1,
        created: id as i64,
        name_lower: name.to_lowercase().into(),
    }
}

/// Every matching row, ordered as the index orders them.
fn brute_force(
    rows: &BTreeMap<u64, (Row, String)>,
    text: &str,
    filter: &ProductFilter,
) -> Vec<u64> {
    let words: Vec<String> = reference_fold(text.trim())
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let mut found: Vec<&Row> = rows
        .values()
        .filter(|(row, name)| {
            let folded = reference_fold(name);
            filter.category.is_none_or(|c| c.get() == row.category)
                && words.iter().all(|w| folded.contains(w.as_str()))
        })
        .map(|(row, _)| row)
        .collect();
    let compare = comparator(filter.ordering);
    found.sort_by(compare);
    found.iter().map(|r| r.id).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn search_equals_brute_force_across_writes(ops in prop::collection::vec(op(), 1..60)) {
        let index = CatalogIndex::with(Rows::default(), None, READY);
        let mut model: BTreeMap<u64, (Row, String)> = BTreeMap::new();
        let mut next_id = 0;
        for op in ops {
            match op {
                Op::Create(name, category, price) => {
                    next_id += 1;
                    let row = row_named(next_id, category, price, &name);
                    index.upsert(row.clone());
                    model.insert(next_id, (row, name));
                }
                Op::Rename(pick, name) if !model.is_empty() => {
                    let id = *model.keys().nth(pick % model.len()).unwrap();
                    let row = Row { name_lower: name.to_lowercase().into(), ..model[&id].0.clone() };
                    index.upsert(row.clone());
                    model.insert(id, (row, name));
                }
                Op::Delete(pick) if !model.is_empty() => {
                    let id = *model.keys().nth(pick % model.len()).unwrap();
                    index.remove(ProductId::new(id));
                    model.remove(&id);
                }
                Op::Search(text, ordering, category) => {
                    let filter = ProductFilter {
                        search: Search::new(&text),
                        category: category.map(CategoryId::new),
                        ordering,
                        ..Default::default()
                    };
                    let want = brute_force(&model, &text, &filter);
                    let (count, ids) = index.query(&filter, PageRequest { page: 1, size: 100 });
                    let got: Vec<u64> = ids.iter().map(|p| p.get()).collect();
                    prop_assert_eq!(count, want.len() as u64, "search {:?}", text);
                    prop_assert_eq!(got, want, "search {:?}", text);
                }
                _ => {}
            }
        }
    }
}
