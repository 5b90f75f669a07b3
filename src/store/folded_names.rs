//! Folded names back to back in one buffer, found by product id, for checking search
//! candidates. The rows' own names are separate small allocations scattered over the heap:
//! at 1M products reaching each one was a cache and TLB miss (~0.5 µs), so checking 33,000
//! candidates cost ~20 ms. Here names sit in id order, close to each other.
const NONE: (u32, u32) = (u32::MAX, 0);

#[derive(Default)]
pub struct FoldedNames {
    text: String,
    /// (start, length) in `text` for each id; NONE when the id has no name here.
    spans: Vec<(u32, u32)>,
    /// Bytes of `text` no span points at any more (renamed or deleted products).
    garbage: usize,
}

impl FoldedNames {
    /// Keeps `folded` as the name of `id`. Ids or text past u32 are not kept: callers fall back
    /// to folding the row's own name.
    pub fn set(&mut self, id: u32, folded: &str) {
        self.remove(id);
        let (Ok(start), Ok(len)) = (u32::try_from(self.text.len()), u32::try_from(folded.len()))
        else {
            return;
        };
        let at = id as usize;
        if self.spans.len() <= at {
            self.spans.resize(at + 1, NONE);
        }
        self.text.push_str(folded);
        self.spans[at] = (start, len);
    }

    pub fn remove(&mut self, id: u32) {
        if let Some(span) = self.spans.get_mut(id as usize) {
            if *span != NONE {
                self.garbage += span.1 as usize;
                *span = NONE;
            }
        }
        if self.garbage > 4096 && self.garbage > self.text.len() / 2 {
            self.compact();
        }
    }

    pub fn get(&self, id: u64) -> Option<&str> {
        let &(start, len) = self.spans.get(usize::try_from(id).ok()?)?;
        let start = start as usize;
        self.text.get(start..start + len as usize)
    }

    /// Rewrites the text without the garbage, in id order (so candidates read forward).
    fn compact(&mut self) {
        let old = std::mem::take(&mut self.text);
        self.text.reserve(old.len() - self.garbage);
        for span in self.spans.iter_mut().filter(|s| **s != NONE) {
            let (start, len) = (span.0 as usize, span.1 as usize);
            span.0 = self.text.len() as u32;
            self.text
                .push_str(old.get(start..start + len).unwrap_or_default());
        }
        self.garbage = 0;
    }

    pub fn shrink(&mut self) {
        self.text.shrink_to_fit();
        self.spans.shrink_to_fit();
    }

    pub fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.spans.capacity() * 8
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn names_survive_renames_deletes_and_compaction() {
        let mut names = FoldedNames::default();
        for id in 0..3000u32 {
            names.set(id, &format!("name {id}"));
        }
        for id in 0..3000u32 {
            if id % 3 == 0 {
                names.remove(id);
            } else {
                names.set(id, &format!("renamed {id}"));
            }
        }
        assert_eq!(names.get(0), None);
        assert_eq!(names.get(2999), Some("renamed 2999"));
        assert_eq!(names.get(5000), None);
        assert!(names.garbage < names.text.len(), "compacted along the way");
    }
}
