//! A trigram index over folded product names, so a search reads the few posting lists its words
//! need instead of every name. Kept in the catalog index's lock, in step with every write.
//!
//! Each folded name is padded with two END marks and every distinct run of three characters
//! (a trigram) keeps the set of product ids that contain it, as a roaring bitmap: sorted
//! arrays of 16-bit offsets for sparse sets, plain bitmaps or runs for dense ones, so a
//! trigram that half the catalog contains costs bits, not 4 bytes a product. Then:
//! - a word of 3+ characters needs all its trigrams: the sets are intersected, smallest first
//!   (exact for 3 characters; longer words are checked against the name afterwards);
//! - a word of 1–2 characters starts some trigram at each place it occurs (the padding makes
//!   sure of that), so the union of the sets that *begin* with it is its exact answer: one
//!   union of container words, bounded by the id range, and only taken when no longer word
//!   narrows the candidates first.
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use roaring::{MultiOps, RoaringBitmap};

use super::folded_names::FoldedNames;

use std::borrow::Cow;

use crate::domain::search::{fold, Search};

/// Three characters packed 21 bits each; the first character is in the top bits.
type Trigram = u64;
const END: char = '\0';
const CHAR_BITS: u32 = 21;
const CHAR_MASK: u64 = (1 << CHAR_BITS) - 1;
/// Below this many candidates, a short word is checked on each name instead of unioned.
/// Tiny under test, so the small catalogs of the property test take both paths.
const FEW_ENOUGH_TO_CHECK: u64 = if cfg!(test) { 2 } else { 10_000 };

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
pub struct Candidates<'a> {
    pub ids: Vec<u64>,
    pub unchecked: Vec<&'a str>,
    names: &'a FoldedNames,
}

impl Candidates<'_> {
    /// Whether a candidate (given its row's lower-cased name) holds every word the index
    /// could not settle. Reads the packed folded name when there is one.
    pub fn confirm(&self, id: u64, name_lower: &str) -> bool {
        if self.unchecked.is_empty() {
            return true;
        }
        let folded = self
            .names
            .get(id)
            .map_or_else(|| fold(name_lower), Cow::Borrowed);
        self.unchecked.iter().all(|w| folded.contains(w))
    }

    /// The candidates that hold every word, checked on the packed names alone; `None` when
    /// some candidate has no packed name (its row must be read).
    pub fn confirmed_ids(&self) -> Option<Vec<u64>> {
        let mut out = Vec::with_capacity(self.ids.len());
        for &id in &self.ids {
            let name = self.names.get(id)?;
            if self.unchecked.iter().all(|w| name.contains(w)) {
                out.push(id);
            }
        }
        Some(out)
    }
}

#[derive(Default)]
pub struct NameIndex {
    postings: HashMap<Trigram, RoaringBitmap, BuildHasherDefault<TrigramHasher>>,
    /// Products whose id does not fit a posting (past u32): never expected, checked one by one.
    wide: Vec<u64>,
    folded: FoldedNames,
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
        let folded = fold(name_lower);
        name_trigrams(&folded, &mut chars, &mut grams);
        for gram in &grams {
            self.postings.entry(*gram).or_default().insert(id);
        }
        self.folded.set(id, &folded);
        self.scratch = (chars, grams);
    }

    pub fn remove(&mut self, id: u64, name_lower: &str) {
        let Ok(id) = u32::try_from(id) else {
            self.wide.retain(|w| *w != id);
            return;
        };
        self.folded.remove(id);
        let (mut chars, mut grams) = std::mem::take(&mut self.scratch);
        name_trigrams(&fold(name_lower), &mut chars, &mut grams);
        for gram in &grams {
            if let Some(set) = self.postings.get_mut(gram) {
                set.remove(id);
                if set.is_empty() {
                    self.postings.remove(gram);
                }
            }
        }
        self.scratch = (chars, grams);
    }

    /// Packs runs of consecutive ids (common after loading) once the catalog is read.
    pub fn shrink(&mut self) {
        for set in self.postings.values_mut() {
            set.optimize();
        }
        self.postings.shrink_to_fit();
        self.folded.shrink();
    }

    /// Heap bytes held, roughly: the sets' containers (2 bytes an id in array containers, the
    /// bitmaps and runs, ~32 bytes of header each) and the table's slots (key, set header,
    /// control byte).
    pub fn heap_bytes(&self) -> usize {
        let sets: u64 = self
            .postings
            .values()
            .map(|set| {
                let s = set.statistics();
                2 * u64::from(s.n_values_array_containers)
                    + s.n_bytes_bitset_containers
                    + s.n_bytes_run_containers
                    + 32 * u64::from(s.n_containers)
            })
            .sum();
        let slot = std::mem::size_of::<(Trigram, RoaringBitmap)>() + 1;
        sets as usize
            + self.postings.capacity() * slot
            + self.wide.capacity() * 8
            + self.folded.heap_bytes()
    }

    pub fn candidates<'a>(&'a self, search: &'a Search) -> Candidates<'a> {
        let words: Vec<&str> = search.words().iter().map(String::as_str).collect();
        let (long, short): (Vec<&str>, Vec<&str>) =
            words.iter().partition(|w| w.chars().count() >= 3);
        // The padding mark never comes from valid input; a word holding it is checked by hand.
        let padded = |w: &str| w.contains(END);
        // Words of exactly three characters are settled by their one set.
        let mut unchecked: Vec<&str> = long
            .iter()
            .copied()
            .filter(|w| w.chars().count() != 3 || padded(w))
            .collect();
        let mut found = (!long.is_empty()).then(|| self.all_trigrams_of(&long));
        // Short words (longest first): a union each while the candidates are many; once they
        // are few, checking their names is cheaper than another union. So a search of many
        // short words costs a union per word only as long as they keep matching a lot.
        for word in short {
            match &mut found {
                Some(ids) if ids.len() <= FEW_ENOUGH_TO_CHECK => unchecked.push(word),
                Some(ids) => *ids &= self.starting_with(word),
                None => found = Some(self.starting_with(word)),
            }
            if padded(word) && !unchecked.contains(&word) {
                unchecked.push(word);
            }
        }
        let mut ids: Vec<u64> = found
            .unwrap_or_default()
            .into_iter()
            .map(u64::from)
            .collect();
        if !self.wide.is_empty() {
            ids.extend_from_slice(&self.wide);
            unchecked = words;
        }
        Candidates {
            ids,
            unchecked,
            names: &self.folded,
        }
    }

    /// Ids whose folded name holds every trigram of every word (3+ characters each).
    fn all_trigrams_of(&self, words: &[&str]) -> RoaringBitmap {
        let none = RoaringBitmap::new();
        let mut sets = Vec::new();
        for word in words {
            let chars: Vec<char> = word.chars().collect();
            for w in chars.windows(3) {
                let set = self.postings.get(&pack(w[0], w[1], w[2]));
                sets.push(set.unwrap_or(&none));
            }
        }
        intersect_all(sets)
    }

    /// Ids whose folded name contains `word` (1–2 characters): the union of the sets of
    /// trigrams that begin with it.
    fn starting_with(&self, word: &str) -> RoaringBitmap {
        let mut chars = word.chars();
        let (Some(first), second) = (chars.next(), chars.next()) else {
            return RoaringBitmap::new();
        };
        self.postings
            .iter()
            .filter(|(gram, _)| {
                (*gram >> (2 * CHAR_BITS)) == first as u64
                    && second.is_none_or(|c| (*gram >> CHAR_BITS) & CHAR_MASK == c as u64)
            })
            .map(|(_, set)| set)
            .union()
    }
}

/// The ids in every set; starts from the smallest so the work is bounded by it.
fn intersect_all(mut sets: Vec<&RoaringBitmap>) -> RoaringBitmap {
    sets.sort_by_key(|set| set.len());
    let Some((first, rest)) = sets.split_first() else {
        return RoaringBitmap::new();
    };
    let mut acc = (*first).clone();
    for set in rest {
        if acc.is_empty() {
            break;
        }
        acc &= *set;
    }
    acc
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
        index.insert(4, "abc");
        assert_eq!(ids(&index, "b"), [1, 2, 3, 4]);
        assert_eq!(ids(&index, "ab"), [1, 3, 4]);
        assert_eq!(ids(&index, "y"), [3]);
        assert_eq!(ids(&index, "ab y"), [3], "3 candidates: y is unioned too");
        assert_eq!(ids(&index, "q"), Vec::<u64>::new());
        index.remove(4, "abc");
        let search = Search::new("ab y").unwrap();
        let few = index.candidates(&search);
        assert_eq!(
            (few.ids, few.unchecked),
            (vec![1, 3], vec!["y"]),
            "2: y is checked"
        );
    }

    #[test]
    fn long_words_need_every_trigram_and_are_checked_on_the_name() {
        let mut index = NameIndex::default();
        index.insert(1, "abcd");
        index.insert(2, "bcd abc");
        let search = Search::new("abcd bcd").unwrap();
        let found = index.candidates(&search);
        assert_eq!(found.ids, [1, 2], "trigrams alone cannot tell");
        assert_eq!(found.unchecked, ["abcd"], "the 3-letter word is settled");
        assert!(found.confirm(1, "abcd") && !found.confirm(2, "bcd abc"));
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
