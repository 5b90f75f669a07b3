//! A trigram index over folded product names, so a search reads the few posting lists its words
//! need instead of every name. Kept in the catalog index's lock, in step with every write.
//!
//! Each folded name is padded with two END marks and every distinct run of three characters
//! (a trigram) keeps a sorted list of the product ids that contain it. Then:
//! - a word of 3+ characters needs all its trigrams: the lists are intersected, shortest first
//!   (exact for 3 characters; longer words are checked against the name afterwards);
//! - a word of 1–2 characters starts some trigram at each place it occurs (the padding makes
//!   sure of that), so the union of the lists that *begin* with it is its exact answer. That
//!   union touches as many postings as the word has occurrences: bounded by the catalog's size,
//!   and only taken when no longer word narrows the candidates first.
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::domain::search::{fold, Search};

/// Three characters packed 21 bits each; the first character is in the top bits.
type Trigram = u64;
const END: char = '\0';
const CHAR_BITS: u32 = 21;
const CHAR_MASK: u64 = (1 << CHAR_BITS) - 1;

fn pack(a: char, b: char, c: char) -> Trigram {
    (a as u64) << (2 * CHAR_BITS) | (b as u64) << CHAR_BITS | c as u64
}

/// Every distinct trigram of a folded name (padded), into `out` (reused: loading runs this a
/// million times).
fn name_trigrams(folded: &str, chars: &mut Vec<char>, out: &mut Vec<Trigram>) {
    chars.clear();
    chars.extend(folded.chars().chain([END, END]));
    out.clear();
    out.extend(chars.windows(3).map(|w| pack(w[0], w[1], w[2])));
    out.sort_unstable();
    out.dedup();
}

/// Trigrams are already well spread integers: a multiply mixes them faster than SipHash.
#[derive(Default)]
struct TrigramHasher(u64);

impl Hasher for TrigramHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }
    fn write_u64(&mut self, n: u64) {
        let h = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 29);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Ids that passed the index, ascending, and the words still to check against each name.
pub struct Candidates<'s> {
    pub ids: Vec<u64>,
    pub unchecked: Vec<&'s str>,
}

impl Candidates<'_> {
    /// Whether a candidate's (lower-cased) name holds every word the index could not settle.
    pub fn confirm(&self, name_lower: &str) -> bool {
        if self.unchecked.is_empty() {
            return true;
        }
        let folded = fold(name_lower);
        self.unchecked.iter().all(|w| folded.contains(w))
    }
}

#[derive(Default)]
pub struct NameIndex {
    postings: HashMap<Trigram, Vec<u32>, BuildHasherDefault<TrigramHasher>>,
    /// Products whose id does not fit a posting (past u32): never expected, checked one by one.
    wide: Vec<u64>,
    scratch: (Vec<char>, Vec<Trigram>),
}

impl NameIndex {
    pub fn insert(&mut self, id: u64, name_lower: &str) {
        let Ok(id) = u32::try_from(id) else {
            if let Err(at) = self.wide.binary_search(&id) {
                self.wide.insert(at, id);
            }
            return;
        };
        let (mut chars, mut grams) = std::mem::take(&mut self.scratch);
        name_trigrams(&fold(name_lower), &mut chars, &mut grams);
        for gram in &grams {
            let list = self.postings.entry(*gram).or_default();
            match list.last() {
                // New products get the next id: almost every insert is a push.
                Some(&last) if last >= id => {
                    if let Err(at) = list.binary_search(&id) {
                        list.insert(at, id);
                    }
                }
                _ => list.push(id),
            }
        }
        self.scratch = (chars, grams);
    }

    pub fn remove(&mut self, id: u64, name_lower: &str) {
        let Ok(id) = u32::try_from(id) else {
            self.wide.retain(|w| *w != id);
            return;
        };
        let (mut chars, mut grams) = std::mem::take(&mut self.scratch);
        name_trigrams(&fold(name_lower), &mut chars, &mut grams);
        for gram in &grams {
            if let Some(list) = self.postings.get_mut(gram) {
                if let Ok(at) = list.binary_search(&id) {
                    list.remove(at);
                }
                if list.is_empty() {
                    self.postings.remove(gram);
                }
            }
        }
        self.scratch = (chars, grams);
    }

    /// Gives back the slack the lists grew while loading.
    pub fn shrink(&mut self) {
        for list in self.postings.values_mut() {
            list.shrink_to_fit();
        }
        self.postings.shrink_to_fit();
    }

    /// Heap bytes held: posting lists plus the table's slots (key, list header, control byte).
    pub fn heap_bytes(&self) -> usize {
        let lists: usize = self.postings.values().map(|l| l.capacity() * 4).sum();
        let slot = std::mem::size_of::<(Trigram, Vec<u32>)>() + 1;
        lists + self.postings.capacity() * slot + self.wide.capacity() * 8
    }

    pub fn candidates<'s>(&self, search: &'s Search) -> Candidates<'s> {
        let words = search.words();
        let long: Vec<&str> = words
            .iter()
            .map(String::as_str)
            .filter(|w| w.chars().count() >= 3)
            .collect();
        // The padding mark never comes from valid input; a word holding it is checked by hand.
        let padded = |w: &&str| w.contains(END);
        let (found, mut unchecked) = if long.is_empty() {
            let short: Vec<Vec<u32>> = words.iter().map(|w| self.starting_with(w)).collect();
            let unchecked = words.iter().map(String::as_str).filter(padded).collect();
            (
                intersect_all(short.iter().map(Vec::as_slice).collect()),
                unchecked,
            )
        } else {
            let mut lists = Vec::new();
            for word in &long {
                let chars: Vec<char> = word.chars().collect();
                for w in chars.windows(3) {
                    match self.postings.get(&pack(w[0], w[1], w[2])) {
                        Some(list) => lists.push(list.as_slice()),
                        None => lists.push(&[][..]),
                    }
                }
            }
            // Words of exactly three characters are settled by their one list.
            let unchecked = words
                .iter()
                .map(String::as_str)
                .filter(|w| w.chars().count() != 3 || padded(w))
                .collect();
            (intersect_all(lists), unchecked)
        };
        let mut ids: Vec<u64> = found.into_iter().map(u64::from).collect();
        if !self.wide.is_empty() {
            ids.extend_from_slice(&self.wide);
            unchecked = words.iter().map(String::as_str).collect();
        }
        Candidates { ids, unchecked }
    }

    /// Ids whose folded name contains `word` (1–2 characters): the union of the lists of
    /// trigrams that begin with it.
    fn starting_with(&self, word: &str) -> Vec<u32> {
        let mut chars = word.chars();
        let (Some(first), second) = (chars.next(), chars.next()) else {
            return Vec::new();
        };
        let lists: Vec<&Vec<u32>> = self
            .postings
            .iter()
            .filter(|(gram, _)| {
                (*gram >> (2 * CHAR_BITS)) == first as u64
                    && second.is_none_or(|c| (*gram >> CHAR_BITS) & CHAR_MASK == c as u64)
            })
            .map(|(_, list)| list)
            .collect();
        let Some(max) = lists.iter().filter_map(|l| l.last()).max() else {
            return Vec::new();
        };
        // A bitmap over the id range: one bit set per posting, read back in id order.
        let mut bits = vec![0u64; *max as usize / 64 + 1];
        for id in lists.iter().flat_map(|l| l.iter()) {
            bits[*id as usize / 64] |= 1 << (id % 64);
        }
        let mut out = Vec::new();
        for (block, mut word) in bits.into_iter().enumerate() {
            while word != 0 {
                out.push((block * 64) as u32 + word.trailing_zeros());
                word &= word - 1;
            }
        }
        out
    }
}

/// The ids in every list, ascending; starts from the shortest list so the work is bounded by it.
fn intersect_all(mut lists: Vec<&[u32]>) -> Vec<u32> {
    lists.sort_by_key(|l| l.len());
    let Some((first, rest)) = lists.split_first() else {
        return Vec::new();
    };
    let mut acc = first.to_vec();
    for list in rest {
        if acc.is_empty() {
            break;
        }
        acc = intersect(&acc, list);
    }
    acc
}

/// Galloping intersection: each id of the short list is looked up in the long one from where
/// the previous lookup stopped.
fn intersect(short: &[u32], long: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(short.len());
    let mut rest = long;
    for &id in short {
        let mut step = 1;
        while step < rest.len() && rest[step] < id {
            step *= 2;
        }
        let window = &rest[..rest.len().min(step + 1)];
        let at = window.partition_point(|&x| x < id);
        rest = &rest[at..];
        if rest.first() == Some(&id) {
            out.push(id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(index: &NameIndex, text: &str) -> Vec<u64> {
        let search = Search::new(text).unwrap();
        let found = index.candidates(&search);
        found.ids.clone()
    }

    #[test]
    fn short_words_find_every_place_they_occur() {
        let mut index = NameIndex::default();
        index.insert(1, "ab");
        index.insert(2, "b");
        index.insert(3, "cab xy");
        assert_eq!(ids(&index, "b"), [1, 2, 3]);
        assert_eq!(ids(&index, "ab"), [1, 3]);
        assert_eq!(ids(&index, "y"), [3]);
        assert_eq!(ids(&index, "ab y"), [3]);
        assert_eq!(ids(&index, "q"), Vec::<u64>::new());
    }

    #[test]
    fn galloping_intersection_matches_a_plain_one() {
        let long: Vec<u32> = (0..1000).filter(|n| n % 3 == 0).collect();
        let short = [0, 2, 3, 300, 301, 999, 1200];
        assert_eq!(intersect(&short, &long), [0, 3, 300, 999]);
        assert_eq!(intersect(&[], &long), Vec::<u32>::new());
    }

    #[test]
    fn removing_a_name_takes_it_out_of_every_list() {
        let mut index = NameIndex::default();
        index.insert(7, "blue mug");
        index.insert(u64::MAX, "blue cup");
        index.remove(7, "blue mug");
        assert!(index.postings.is_empty());
        assert_eq!(ids(&index, "blue"), [u64::MAX]);
    }
}
