//! Declines of single numbers, kept in groups: each sled value holds up to `GROUP` numbers in
//! order, as integers, with the terms they share written once. A million declines are a few
//! hundred values rather than a million keys, so they are read at start-up, and written by an
//! import, in one pass over a few tens of megabytes.
//!
//! Key layout: `declines:<first number as 8 bytes, big-endian>`. A group holds the numbers from
//! its own first up to the next group's first, so the group that holds (or would hold) a number
//! is the last one whose key is not above it; numbers below every group go to the first one.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::{backend, decode, encode};
use crate::domain::{Decline, DeclineTerms, PhoneNumber, Target};
use crate::store::StoreError;

const GROUPS: &[u8] = b"declines:";
/// Numbers per group: big enough that a million declines are a few hundred values, small
/// enough that a change to one number rewrites tens of kilobytes.
const GROUP: usize = 2048;
/// Past this many changes, every group is read at once rather than each looked up.
const LOOK_UP_EACH: usize = 256;

/// One group as stored: `numbers[i]` has the terms `terms[terms_of[i]]`.
#[derive(Default, Serialize, Deserialize)]
struct Group {
    numbers: Vec<u64>,
    terms: Vec<DeclineTerms>,
    terms_of: Vec<u32>,
}

impl Group {
    fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        let group: Self = decode(bytes)?;
        let consistent = group.numbers.len() == group.terms_of.len()
            && group.terms_of.iter().all(|&index| (index as usize) < group.terms.len())
            && group.numbers.windows(2).all(|pair| pair[0] < pair[1]);
        if consistent { Ok(group) } else { Err(StoreError::Corrupt("a group of declines does not add up".into())) }
    }

    fn entries(&self) -> impl Iterator<Item = (u64, &DeclineTerms)> {
        self.numbers.iter().zip(&self.terms_of).map(|(&number, &index)| (number, &self.terms[index as usize]))
    }

    fn find(&self, number: u64) -> Option<&DeclineTerms> {
        let at = self.numbers.binary_search(&number).ok()?;
        Some(&self.terms[self.terms_of[at] as usize])
    }

    /// Groups of at most `GROUP` entries, of nearly equal size, from entries in order.
    fn split(entries: &[(u64, &DeclineTerms)]) -> Vec<Group> {
        let pieces = entries.len().div_ceil(GROUP).max(1);
        let size = entries.len().div_ceil(pieces).max(1);
        entries.chunks(size).map(Group::from_entries).collect()
    }

    fn from_entries(entries: &[(u64, &DeclineTerms)]) -> Self {
        let mut group = Self::default();
        let mut known: HashMap<&DeclineTerms, u32> = HashMap::new();
        for &(number, terms) in entries {
            let index = *known.entry(terms).or_insert_with(|| {
                group.terms.push(terms.clone());
                (group.terms.len() - 1) as u32
            });
            group.numbers.push(number);
            group.terms_of.push(index);
        }
        group
    }
}

fn group_key(first: u64) -> Vec<u8> {
    [GROUPS, &first.to_be_bytes()].concat()
}

fn first_of(key: &[u8]) -> Result<u64, StoreError> {
    let bytes = key.strip_prefix(GROUPS).and_then(|rest| <[u8; 8]>::try_from(rest).ok());
    bytes.map(u64::from_be_bytes).ok_or_else(|| StoreError::Corrupt("a group of declines has a malformed key".into()))
}

/// The key and value of the group that holds, or would hold, `number`.
fn holding(db: &sled::Db, number: u64) -> Result<Option<(u64, Group)>, StoreError> {
    let below = db.range(GROUPS.to_vec()..=group_key(number)).next_back();
    let found = match below {
        Some(entry) => Some(entry),
        None => db.scan_prefix(GROUPS).next(),
    };
    found.transpose().map_err(backend)?.map(|(key, value)| Ok((first_of(&key)?, Group::decode(&value)?))).transpose()
}

pub(super) fn get(db: &sled::Db, number: &PhoneNumber) -> Result<Option<Decline>, StoreError> {
    let key = number.key();
    let Some((_, group)) = holding(db, key)? else { return Ok(None) };
    Ok(group.find(key).map(|terms| Decline::with_terms(Target::Number(number.clone()), terms)))
}

/// Every number's decline, in the order of the numbers' keys.
pub(super) fn each(db: &sled::Db, visit: &mut dyn FnMut(Decline)) -> Result<(), StoreError> {
    for value in db.scan_prefix(GROUPS).values() {
        let group = Group::decode(&value.map_err(backend)?)?;
        for (number, terms) in group.entries() {
            let number = PhoneNumber::from_key(number)
                .ok_or_else(|| StoreError::Corrupt(format!("a stored decline has no number ({number})")))?;
            visit(Decline::with_terms(Target::Number(number), terms));
        }
    }
    Ok(())
}

/// Every number's decline, as the numbers of each group that share terms.
pub(super) fn each_shared(db: &sled::Db, visit: &mut dyn FnMut(&DeclineTerms, &[u64])) -> Result<(), StoreError> {
    let mut sharing: Vec<Vec<u64>> = Vec::new();
    for value in db.scan_prefix(GROUPS).values() {
        let group = Group::decode(&value.map_err(backend)?)?;
        sharing.iter_mut().for_each(Vec::clear);
        sharing.resize_with(sharing.len().max(group.terms.len()), Vec::new);
        for (&number, &index) in group.numbers.iter().zip(&group.terms_of) {
            sharing[index as usize].push(number);
        }
        for (terms, numbers) in group.terms.iter().zip(&sharing) {
            visit(terms, numbers);
        }
    }
    Ok(())
}

/// Adds to `batch` the groups rewritten so that each number in `changes` has its new terms, or
/// none; later changes to a number win. The caller holds every other owner change back until the
/// batch is applied.
pub(super) fn change(
    db: &sled::Db,
    batch: &mut sled::Batch,
    mut sorted: Vec<(u64, Option<&DeclineTerms>)>,
) -> Result<(), StoreError> {
    if sorted.is_empty() {
        return Ok(());
    }
    // Stable, so the last change to a number stays last among its equals.
    sorted.sort_by_key(|(number, _)| *number);
    let mut groups: BTreeMap<u64, Group> = BTreeMap::new();
    if sorted.len() > LOOK_UP_EACH {
        for entry in db.scan_prefix(GROUPS) {
            let (key, value) = entry.map_err(backend)?;
            groups.insert(first_of(&key)?, Group::decode(&value)?);
        }
    } else {
        for (number, _) in &sorted {
            if let Some((first, group)) = holding(db, *number)? {
                groups.entry(first).or_insert(group);
            }
        }
    }

    // Each change goes to the group that holds its number; a number below every group goes to the
    // first, and with no group at all, to a new one. In order of number, each group's changes are
    // one run.
    let lowest = groups.keys().next().copied();
    let holder = |number: u64| groups.range(..=number).next_back().map(|(first, _)| *first).or(lowest);
    let empty = Group::default();
    let mut rest = sorted.as_slice();
    while let Some(&(number, _)) = rest.first() {
        let first = holder(number);
        let run = rest.iter().position(|&(number, _)| holder(number) != first).unwrap_or(rest.len());
        let (changes, after) = rest.split_at(run);
        rest = after;
        let group = first.and_then(|first| groups.get(&first)).unwrap_or(&empty);
        let merged = merge(group, changes);
        if let Some(first) = first {
            batch.remove(group_key(first));
        }
        if merged.is_empty() {
            continue;
        }
        for piece in Group::split(&merged) {
            batch.insert(group_key(piece.numbers[0]), encode(&piece)?);
        }
    }
    Ok(())
}

/// A group's entries with `changes` (in order of number) applied.
fn merge<'t>(group: &'t Group, changes: &[(u64, Option<&'t DeclineTerms>)]) -> Vec<(u64, &'t DeclineTerms)> {
    let mut merged: Vec<(u64, &DeclineTerms)> = Vec::with_capacity(group.numbers.len() + changes.len());
    let mut existing = group.entries().peekable();
    let mut changes = changes.iter().peekable();
    loop {
        match (existing.peek(), changes.peek()) {
            (Some(&(kept, _)), Some(&&(changed, _))) if kept < changed => merged.extend(existing.next()),
            (_, Some(&&(changed, _))) => {
                if existing.peek().is_some_and(|&(kept, _)| kept == changed) {
                    existing.next();
                }
                // The last change to this number decides.
                let mut last = None;
                while let Some(&&(number, terms)) = changes.peek().filter(|(number, _)| *number == changed) {
                    last = Some((number, terms));
                    changes.next();
                }
                if let Some((number, Some(terms))) = last {
                    merged.push((number, terms));
                }
            }
            (Some(_), None) => merged.extend(existing.next()),
            (None, None) => return merged,
        }
    }
}

/// Moves declines kept one key each, as before groups, into groups: `decline:<e164>` keys, a
/// batch of them at a time, each batch whole or not at all, so a move cut short goes on at the
/// next opening. Returns how many moved.
pub(super) fn take_in_single_keys(
    db: &sled::Db,
    prefix: &[u8],
    commit: &mut dyn FnMut(sled::Batch) -> Result<(), StoreError>,
) -> Result<usize, StoreError> {
    const AT_A_TIME: usize = 50_000;
    let mut moved = 0;
    loop {
        let mut keys = Vec::new();
        let mut declines = Vec::new();
        for entry in db.scan_prefix(prefix).take(AT_A_TIME) {
            let (key, value) = entry.map_err(backend)?;
            let decline: Decline = decode(&value)?;
            let Target::Number(number) = &decline.target else {
                return Err(StoreError::Corrupt("a decline of a number holds something else".into()));
            };
            declines.push((number.key(), decline.terms()));
            keys.push(key);
        }
        if keys.is_empty() {
            return Ok(moved);
        }
        let mut batch = sled::Batch::default();
        let changes = declines.iter().map(|(number, terms)| (*number, Some(terms))).collect();
        change(db, &mut batch, changes)?;
        for key in &keys {
            batch.remove(key.as_ref());
        }
        commit(batch)?;
        moved += keys.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn terms(company: &str) -> DeclineTerms {
        Decline { company: Some(company.into()), ..Decline::new(Target::Number(number(1)), Timestamp::UNIX_EPOCH) }
            .terms()
    }

    fn number(n: u64) -> PhoneNumber {
        PhoneNumber::from_key(442_079_460_000 + n).unwrap()
    }

    fn apply(db: &sled::Db, changes: &[(u64, Option<&DeclineTerms>)]) {
        let mut batch = sled::Batch::default();
        change(db, &mut batch, changes.to_vec()).unwrap();
        db.apply_batch(batch).unwrap();
    }

    fn company_of(db: &sled::Db, n: u64) -> Option<String> {
        get(db, &number(n)).unwrap().map(|decline| decline.company.unwrap())
    }

    fn groups(db: &sled::Db) -> Vec<usize> {
        db.scan_prefix(GROUPS).values().map(|value| Group::decode(&value.unwrap()).unwrap().numbers.len()).collect()
    }

    #[test]
    fn numbers_are_found_changed_and_removed_across_groups() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let (a, b) = (terms("A"), terms("B"));
        let many: Vec<(u64, Option<&DeclineTerms>)> = (0..5000).map(|n| (number(n * 2).key(), Some(&a))).collect();
        apply(&db, &many);
        assert_eq!(groups(&db), [1667, 1667, 1666], "an import is split into groups of nearly equal size");
        assert_eq!(company_of(&db, 4000), Some("A".into()));
        assert_eq!(company_of(&db, 4001), None);

        // Below every group, inside one, and above every group; one changed, one removed.
        apply(
            &db,
            &[
                (number(0).key() - 1, Some(&b)),
                (number(4001).key(), Some(&b)),
                (number(20_000).key(), Some(&b)),
                (number(10).key(), Some(&b)),
                (number(12).key(), None),
            ],
        );
        let mut seen = Vec::new();
        each(&db, &mut |decline| seen.push(decline)).unwrap();
        assert_eq!(seen.len(), 5000 + 3 - 1);
        let keys: Vec<u64> = seen
            .iter()
            .map(|decline| match &decline.target {
                Target::Number(number) => number.key(),
                other => panic!("{other:?} is not a number"),
            })
            .collect();
        assert!(keys.windows(2).all(|pair| pair[0] < pair[1]), "in order of number");
        assert_eq!(
            get(&db, &PhoneNumber::from_key(number(0).key() - 1).unwrap()).unwrap().unwrap().company,
            Some("B".into())
        );
        assert_eq!(company_of(&db, 4001), Some("B".into()));
        assert_eq!(company_of(&db, 20_000), Some("B".into()));
        assert_eq!(company_of(&db, 10), Some("B".into()));
        assert_eq!(company_of(&db, 12), None);
        assert_eq!(company_of(&db, 14), Some("A".into()));
    }

    #[test]
    fn the_last_change_to_a_number_wins_and_a_group_emptied_goes() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let (a, b) = (terms("A"), terms("B"));
        apply(&db, &[(number(1).key(), Some(&a)), (number(1).key(), Some(&b))]);
        assert_eq!(company_of(&db, 1), Some("B".into()));
        apply(&db, &[(number(1).key(), None)]);
        assert_eq!(company_of(&db, 1), None);
        assert!(groups(&db).is_empty());
    }

    #[test]
    fn a_group_that_does_not_add_up_is_reported_as_damage() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        db.insert(group_key(1), br#"{"numbers":[1,2],"terms":[],"terms_of":[0]}"#.to_vec()).unwrap();
        assert!(matches!(get(&db, &number(1)), Err(StoreError::Corrupt(_))));
    }
}
