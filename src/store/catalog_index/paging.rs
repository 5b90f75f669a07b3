//! From the rows that match to the requested page: counting, ordering, and finding the rows
//! of a search's candidate ids.
use super::Row;
use crate::domain::catalog::Ordering;
use crate::domain::ids::ProductId;

/// The requested page of `items` (given ascending), read from the end for `descending`.
pub(super) fn page_of<T>(
    mut items: impl DoubleEndedIterator<Item = T>,
    id: impl Fn(T) -> u64,
    descending: bool,
    offset: usize,
    size: usize,
) -> Vec<ProductId> {
    let page = |items: &mut dyn Iterator<Item = T>| {
        items
            .skip(offset)
            .take(size)
            .map(|item| ProductId::new(id(item)))
            .collect()
    };
    if descending {
        page(&mut items.rev())
    } else {
        page(&mut items)
    }
}

/// The count and the requested page of `ids` (ascending) in id order.
pub(super) fn id_page(
    ids: &[u64],
    ordering: Ordering,
    offset: usize,
    size: usize,
) -> (u64, Vec<ProductId>) {
    let descending = ordering == Ordering::IdDesc;
    let page = page_of(ids.iter(), |id| *id, descending, offset, size);
    (ids.len() as u64, page)
}

/// The count of `ids` and the requested page of them, in the order given.
pub(super) fn take_page(
    ids: impl Iterator<Item = u64>,
    offset: usize,
    size: usize,
) -> (u64, Vec<ProductId>) {
    let mut count = 0u64;
    let mut page = Vec::with_capacity(size);
    for id in ids {
        if (count as usize) >= offset && page.len() < size {
            page.push(ProductId::new(id));
        }
        count += 1;
    }
    (count, page)
}

/// The count and the requested page of `matches` (given in id order).
pub(super) fn ordered_page(
    mut matches: Vec<&Row>,
    ordering: Ordering,
    offset: usize,
    size: usize,
) -> (u64, Vec<ProductId>) {
    let count = matches.len() as u64;
    if offset >= matches.len() {
        return (count, Vec::new());
    }
    let ids = |rows: &mut dyn Iterator<Item = &&Row>| {
        rows.skip(offset)
            .take(size)
            .map(|r| ProductId::new(r.id))
            .collect()
    };
    match ordering {
        Ordering::IdAsc => (count, ids(&mut matches.iter())),
        Ordering::IdDesc => (count, ids(&mut matches.iter().rev())),
        ordering => {
            let compare = comparator(ordering);
            let end = (offset + size).min(matches.len());
            // Only the rows up to the end of the page need ordering.
            if end < matches.len() {
                matches.select_nth_unstable_by(end, compare);
            }
            let head = &mut matches[..end];
            head.sort_unstable_by(compare);
            (count, ids(&mut head.iter()))
        }
    }
}

/// The rows of `ids` (ascending). Ids are unique and sorted, so the row of `id` is at most
/// `id - first` places after the current `first` row; with few deletions it is exactly there,
/// so most lookups touch one row instead of galloping over many (each a cache miss at 1M).
pub(super) fn rows_with_ids<'a>(
    rows: &'a [Row],
    ids: &'a [u64],
) -> impl Iterator<Item = &'a Row> + 'a {
    let mut rest = rows;
    ids.iter().filter_map(move |&id| {
        let first = rest.first()?.id;
        let bound = usize::try_from(id.checked_sub(first)?)
            .unwrap_or(usize::MAX)
            .min(rest.len() - 1);
        let at = if rest[bound].id < id {
            bound + 1
        } else {
            // Walk back from the bound in growing steps, then bisect the last step.
            let mut step = 1;
            while step <= bound && rest[bound - step].id >= id {
                step *= 2;
            }
            let low = bound - step.min(bound);
            low + rest[low..=bound].partition_point(|r| r.id < id)
        };
        rest = &rest[at..];
        rest.first().filter(|r| r.id == id)
    })
}

/// Orders by the requested key, then by id so pages are stable.
pub(super) fn comparator(ordering: Ordering) -> fn(&&Row, &&Row) -> std::cmp::Ordering {
    match ordering {
        Ordering::IdAsc => |a, b| a.id.cmp(&b.id),
        Ordering::IdDesc => |a, b| b.id.cmp(&a.id),
        Ordering::PriceAsc => |a, b| a.price.cmp(&b.price).then(a.id.cmp(&b.id)),
        Ordering::PriceDesc => |a, b| b.price.cmp(&a.price).then(b.id.cmp(&a.id)),
        Ordering::NameAsc => |a, b| a.name_lower.cmp(&b.name_lower).then(a.id.cmp(&b.id)),
        Ordering::NameDesc => |a, b| b.name_lower.cmp(&a.name_lower).then(b.id.cmp(&a.id)),
        Ordering::CreatedAsc => |a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)),
        Ordering::CreatedDesc => |a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)),
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn row(id: u64) -> Row {
        Row {
            id,
            category: 1,
            price: 1,
            stock: 1,
            created: 1,
            name_lower: "x".into(),
        }
    }

    #[test]
    fn rows_are_found_by_id_across_gaps_and_missing_ids() {
        let rows: Vec<Row> = [1, 2, 5, 9, 10, 40].into_iter().map(row).collect();
        let found: Vec<u64> = rows_with_ids(&rows, &[0, 2, 5, 6, 10, 39, 40, 41])
            .map(|r| r.id)
            .collect();
        assert_eq!(found, [2, 5, 10, 40]);
        assert_eq!(rows_with_ids(&[], &[1]).count(), 0);
    }
}
