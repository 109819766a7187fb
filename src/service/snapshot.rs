//! What a call's decision reads: one immutable picture of the records, replaced whole once a
//! change is on disk, so that no call waits on the store or on a writer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::OwnerChoices;
use crate::domain::{Allow, Decline, DeclineBatch, DeclineTerms, IncomingCall, PhoneNumber, Target, party_key};
use crate::matcher::Matcher;
use crate::store::{Change, OwnerRecord, StoreError};

/// Each part is shared between pictures, so a change copies only the part it touches.
#[derive(Clone, Default)]
pub struct Snapshot {
    numbers: Arc<NumberDeclines>,
    rules: Arc<Matcher>,
    /// By the number's key (`PhoneNumber::key`): hashed and compared as an integer, with no
    /// string of the number to follow.
    allows: Arc<foldhash::HashMap<u64, Allow>>,
    paused: bool,
    /// Replaced whole when one changes, so that whoever lays them over the file's settings can
    /// tell by the pointer alone whether they changed (`Service::settings`).
    choices: Arc<OwnerChoices>,
}

impl Snapshot {
    /// Reads the snapshot of the records in `store`. The declines of numbers are taken in a group
    /// at a time where the store reads them, so a million are never in memory twice.
    pub async fn read(store: &dyn OwnerRecord) -> Result<Self, StoreError> {
        // The store reads off the runtime, so what it fills must be shared with it; only it
        // takes the lock until the read is done.
        let filling = Arc::new(Mutex::new(NumberDeclines::default()));
        let fill = filling.clone();
        store
            .each_number_decline(Box::new(move |terms, keys| {
                fill.lock().unwrap_or_else(PoisonError::into_inner).insert_shared(terms, keys)
            }))
            .await?;
        let numbers = Arc::try_unwrap(filling)
            .map_err(|_| StoreError::Backend("the store kept the declines it was reading".into()))?
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let rules = Matcher::build(store.rules().await?)
            .map_err(|error| StoreError::Corrupt(format!("a stored pattern does not compile: {error}")))?;
        let allows = store.allows().await?;
        Ok(Self {
            numbers: Arc::new(numbers),
            rules: Arc::new(rules),
            allows: Arc::new(allows.into_iter().map(|allow| (allow.number.key(), allow)).collect()),
            paused: store.paused().await?,
            choices: Arc::new(store.owner_choices().await?),
        })
    }

    /// Takes in a change made on disk: this is how the picture follows the owner's record. A
    /// change that bears on no call (a password, a text session) leaves it as it was.
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::Decline(decline) => match decline.target.number() {
                Some(number) => self.put_decline(number, Some(decline)),
                None => self.change_rules(std::slice::from_ref(decline), None),
            },
            Change::Declines(declines) => {
                self.put_declines(declines);
                if !declines.rules().is_empty() {
                    self.change_rules(declines.rules(), None);
                }
            }
            Change::RemoveDecline(target) => match target.number() {
                Some(number) => self.put_decline(number, None),
                None => self.change_rules(&[], Some(target)),
            },
            Change::Allow(allow) => self.put_allow(&allow.number, Some(allow.clone())),
            Change::Allows(allows) => {
                for allow in allows {
                    self.put_allow(&allow.number, Some(allow.clone()));
                }
            }
            Change::RemoveAllow(number) => self.put_allow(number, None),
            Change::Paused { paused, .. } => self.put_paused(*paused),
            Change::Setting(state) => {
                let mut choices = OwnerChoices::clone(&self.choices);
                choices.put(state);
                self.choices = Arc::new(choices);
            }
            Change::LegalHold { .. }
            | Change::PasswordHash(_)
            | Change::TextSession { .. }
            | Change::WebChanges(_)
            | Change::SignIn { .. }
            | Change::SignOut { .. } => {}
        }
    }

    /// Builds the ranges and patterns again with `saved` in place of the rules of their targets,
    /// and without `removed`. Each was checked before it was saved; one that still does not
    /// compile leaves the rules as they were, and is said so.
    fn change_rules(&mut self, saved: &[Decline], removed: Option<&Target>) {
        let replaced = |target: &Target| saved.iter().any(|rule| rule.target == *target) || removed == Some(target);
        let kept = self.rules.rules().filter(|rule| !replaced(&rule.target)).cloned();
        let mut rules: Vec<Decline> = kept.chain(saved.iter().cloned()).collect();
        // In the order a store lists them, as when they are first read.
        rules.sort_by_key(|rule| rule.target.key());
        match Matcher::build(rules) {
            Ok(rules) => self.put_rules(rules),
            Err(error) => tracing::error!(%error, "a saved rule does not compile; calls are decided without it"),
        }
    }

    /// Gives `found` every decline that covers the call (its number's, then the ranges and
    /// patterns that match, as `Matcher::matching` lists them), each with its party
    /// (`Decline::party`), worked out once when the decline was put rather than on every call.
    pub fn each_decline_covering(&self, call: &IncomingCall, mut found: impl FnMut(Decline, &str)) {
        if let Some(number) = call.from.number() {
            self.numbers.each(number, &mut found);
        }
        if !self.rules.is_empty() {
            self.rules.each_matching(call, |decline, party| found(decline.clone(), party));
        }
    }

    /// Whether anything on record bears on the call: a decline of its number, a range or pattern
    /// that matches it, an allow. Tells so without making a copy of any of them.
    pub fn covers(&self, call: &IncomingCall) -> bool {
        let number = call.from.number();
        number.is_some_and(|number| {
            let key = number.key();
            self.numbers.by_number.contains_key(&key) || self.allows.contains_key(&key)
        }) || (!self.rules.is_empty() && self.rules.covers(call))
    }

    pub fn decline_of(&self, number: &PhoneNumber) -> Option<Decline> {
        self.numbers.get(number)
    }

    pub fn allow_of(&self, number: &PhoneNumber) -> Option<&Allow> {
        self.allows.get(&number.key())
    }

    /// The settings the owner changed from the web page.
    pub fn choices(&self) -> &Arc<OwnerChoices> {
        &self.choices
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Sets or clears one number's decline.
    pub fn put_decline(&mut self, number: &PhoneNumber, decline: Option<&Decline>) {
        let numbers = Arc::make_mut(&mut self.numbers);
        match decline {
            Some(decline) => numbers.insert(number, decline),
            None => numbers.remove(number),
        }
    }

    /// Sets the declines of many numbers at once (an import); declines of ranges or patterns are
    /// left to `put_rules`.
    pub fn put_declines(&mut self, declines: &DeclineBatch) {
        let numbers = Arc::make_mut(&mut self.numbers);
        // Each distinct set of terms is interned once, however many numbers share it.
        let mut interned: Vec<Option<u32>> = vec![None; declines.terms().len()];
        numbers.reserve(declines.len());
        for (key, index) in declines.keyed() {
            let index = *interned[index].get_or_insert_with(|| numbers.intern(&declines.terms()[index]));
            numbers.set(key, index);
        }
        for index in interned.into_iter().flatten() {
            numbers.release(index);
        }
    }

    pub fn put_rules(&mut self, rules: Matcher) {
        self.rules = Arc::new(rules);
    }

    pub fn put_allow(&mut self, number: &PhoneNumber, allow: Option<Allow>) {
        let allows = Arc::make_mut(&mut self.allows);
        match allow {
            Some(allow) => allows.insert(number.key(), allow),
            None => allows.remove(&number.key()),
        };
    }

    pub fn put_paused(&mut self, paused: bool) {
        self.paused = paused;
    }
}

/// Declines of one number each, in a few bytes a number: the number as an integer, and the rest
/// of the decline kept once for every number that shares it, as the numbers of an imported list
/// do. A million declines take tens of megabytes rather than hundreds.
#[derive(Clone, Default)]
struct NumberDeclines {
    /// foldhash, seeded afresh by each process: several times faster than the standard hasher
    /// for integer keys, which matters when it is paid on every call.
    by_number: foldhash::HashMap<u64, u32>,
    /// Each distinct set of terms, by the index `by_number` gives; `None` where no number uses
    /// the set any more and its place waits in `free` to be taken again.
    terms: Vec<Option<Arc<DeclineTerms>>>,
    /// The party of each set of terms in `terms` that names a company (`Decline::party`), made
    /// once rather than on every call; a decline naming none counts toward its number.
    parties: Vec<Option<Box<str>>>,
    /// How many numbers use each set of terms: every decline the owner makes has terms of its
    /// own (its date at least), so a set is let go with its last number, or a server taking
    /// changes for months would keep every set it ever saw.
    uses: Vec<u32>,
    free: Vec<u32>,
    /// Where each distinct set of terms in use is in `terms`.
    known: HashMap<Arc<DeclineTerms>, u32>,
}

impl NumberDeclines {
    fn get(&self, number: &PhoneNumber) -> Option<Decline> {
        let terms = self.terms[*self.by_number.get(&number.key())? as usize].as_ref()?;
        Some(Decline::with_terms(Target::Number(number.clone()), terms))
    }

    /// The number's decline, if it has one, with its party.
    fn each(&self, number: &PhoneNumber, found: &mut impl FnMut(Decline, &str)) {
        let Some(&index) = self.by_number.get(&number.key()) else { return };
        let Some(terms) = &self.terms[index as usize] else { return };
        let decline = Decline::with_terms(Target::Number(number.clone()), terms);
        match &self.parties[index as usize] {
            Some(party) => found(decline, party),
            None => with_number_party(number, |party| found(decline, party)),
        }
    }

    fn insert(&mut self, number: &PhoneNumber, decline: &Decline) {
        let index = self.intern(&decline.terms());
        self.set(number.key(), index);
        self.release(index);
    }

    /// Numbers, by key, that share one set of terms, taken rather than copied: at start-up a
    /// million declines' terms would otherwise be in memory twice while they are read.
    fn insert_shared(&mut self, terms: &DeclineTerms, keys: &[u64]) {
        if keys.is_empty() {
            return;
        }
        let index = self.intern(terms);
        self.by_number.reserve(keys.len());
        for &key in keys {
            self.set(key, index);
        }
        self.release(index);
    }

    /// Gives the number `key` the terms at `index`, letting go of the terms it had.
    fn set(&mut self, key: u64, index: u32) {
        self.uses[index as usize] += 1;
        if let Some(before) = self.by_number.insert(key, index) {
            self.release(before);
        }
    }

    fn release(&mut self, index: u32) {
        let uses = &mut self.uses[index as usize];
        *uses -= 1;
        if *uses == 0 {
            if let Some(terms) = self.terms[index as usize].take() {
                self.known.remove(&terms);
            }
            self.parties[index as usize] = None;
            self.free.push(index);
        }
    }

    /// The index of these terms, held for the caller (counted as one use) until it calls
    /// `release`: a set of terms a change both takes from some numbers and gives to others is
    /// never let go in between.
    /// Copies the terms only when they are new: most groups read at start share a set.
    fn intern(&mut self, terms: &DeclineTerms) -> u32 {
        if let Some(&index) = self.known.get(terms) {
            self.uses[index as usize] += 1;
            return index;
        }
        let party = terms.company.as_deref().map(|company| party_key(Some(company), "").into_boxed_str());
        let terms = Arc::new(terms.clone());
        let index = match self.free.pop() {
            Some(index) => {
                self.terms[index as usize] = Some(terms.clone());
                self.parties[index as usize] = party;
                index
            }
            None => {
                let index = u32::try_from(self.terms.len()).expect("fewer than 4 billion distinct declines");
                self.terms.push(Some(terms.clone()));
                self.parties.push(party);
                self.uses.push(0);
                index
            }
        };
        self.known.insert(terms, index);
        self.uses[index as usize] = 1;
        index
    }

    fn remove(&mut self, number: &PhoneNumber) {
        if let Some(before) = self.by_number.remove(&number.key()) {
            self.release(before);
        }
    }

    fn reserve(&mut self, additional: usize) {
        self.by_number.reserve(additional);
    }
}

/// Calls `with` with the party of a decline of `number` that names no company, "number:+44...",
/// written on the stack rather than into a new string.
fn with_number_party<R>(number: &PhoneNumber, with: impl FnOnce(&str) -> R) -> R {
    const PREFIX: &[u8] = b"number:";
    let digits = number.as_str().as_bytes();
    let mut party = [0u8; PREFIX.len() + 16];
    let Some(room) = party.get_mut(PREFIX.len()..PREFIX.len() + digits.len()) else {
        return with(&party_key(None, number.as_str()));
    };
    room.copy_from_slice(digits);
    party[..PREFIX.len()].copy_from_slice(PREFIX);
    with(std::str::from_utf8(&party[..PREFIX.len() + digits.len()]).expect("a number is ASCII"))
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;

    fn number(text: &str) -> PhoneNumber {
        PhoneNumber::from_e164(text).unwrap()
    }

    fn decline(text: &str, company: &str) -> Decline {
        Decline { company: Some(company.into()), ..Decline::new(Target::Number(number(text)), Timestamp::UNIX_EPOCH) }
    }

    #[test]
    fn a_decline_reads_back_exactly_as_it_was_put() {
        let noted = Decline { note: Some("kitchen upsell".into()), ..decline("+442079460123", "Everest") };
        let mut snapshot = Snapshot::default();
        snapshot.put_declines(&[noted.clone(), decline("+442079460124", "Everest")].into_iter().collect());
        assert_eq!(snapshot.decline_of(&number("+442079460123")), Some(noted));
        assert_eq!(snapshot.decline_of(&number("+442079460124")), Some(decline("+442079460124", "Everest")));
        assert_eq!(snapshot.decline_of(&number("+442079460125")), None);
    }

    #[test]
    fn numbers_that_differ_only_in_length_are_told_apart() {
        let mut snapshot = Snapshot::default();
        snapshot.put_decline(&number("+4420794601"), Some(&decline("+4420794601", "Short")));
        assert_eq!(snapshot.decline_of(&number("+44207946010")), None);
        assert_eq!(number("+999999999999999").key(), 999_999_999_999_999);
        assert_eq!(PhoneNumber::from_key(999_999_999_999_999), Some(number("+999999999999999")));
    }

    #[test]
    fn a_change_leaves_the_picture_it_was_made_from_as_it_was() {
        let mut before = Snapshot::default();
        before.put_decline(&number("+442079460123"), Some(&decline("+442079460123", "Everest")));
        let mut after = before.clone();
        after.put_decline(&number("+442079460123"), None);
        after.put_paused(true);
        assert!(before.decline_of(&number("+442079460123")).is_some());
        assert!(after.decline_of(&number("+442079460123")).is_none());
        assert!(!before.paused() && after.paused());
    }

    #[test]
    fn each_covering_decline_comes_with_its_party_and_is_told_of_by_covers() {
        let mut snapshot = Snapshot::default();
        let unnamed = Decline::new(Target::Number(number("+442079460124")), Timestamp::UNIX_EPOCH);
        snapshot.put_declines(&[decline("+442079460123", " Everest  WINDOWS"), unnamed].into_iter().collect());
        let range = Decline::new(Target::Prefix("+4420794601".into()), Timestamp::UNIX_EPOCH);
        let pattern = Decline {
            company: Some("Acme".into()),
            ..Decline::new(Target::Pattern(r"\+4420.*".into()), range.declined_at)
        };
        snapshot.put_rules(Matcher::build([range, pattern]).unwrap());
        let allow = Allow::always(number("+442079460999"), None, Timestamp::UNIX_EPOCH);
        snapshot.put_allow(&allow.number.clone(), Some(allow));
        let covering = |caller: &str| {
            let mut found = Vec::new();
            snapshot.each_decline_covering(&IncomingCall::from_caller(caller), |decline, party| {
                assert_eq!(party, decline.party());
                found.push(decline.target.to_string());
            });
            found
        };
        assert_eq!(covering("+442079460123"), ["+442079460123", "+4420794601*", r"pattern /\+4420.*/"]);
        assert_eq!(covering("+442079460124"), ["+442079460124", "+4420794601*", r"pattern /\+4420.*/"]);
        assert_eq!(covering("+442079460999"), [r"pattern /\+4420.*/"]);
        assert!(covering("+441632960000").is_empty());
        for (caller, covered) in
            [("+442079460123", true), ("+442079460999", true), ("+441632960000", false), ("withheld", false)]
        {
            assert_eq!(snapshot.covers(&IncomingCall::from_caller(caller)), covered, "{caller}");
        }
    }

    #[test]
    fn a_range_saved_then_removed_is_matched_then_not_and_the_other_rules_stay() {
        let range = |prefix: &str| Decline::new(Target::Prefix(prefix.into()), Timestamp::UNIX_EPOCH);
        let from = |number: &str| IncomingCall::from_caller(number);
        let covering = |snapshot: &Snapshot, caller: &str| {
            let mut found = Vec::new();
            snapshot.each_decline_covering(&from(caller), |decline, _| found.push(decline));
            found
        };
        let mut snapshot = Snapshot::default();
        snapshot.apply(&Change::Decline(range("+4416329601")));
        snapshot.apply(&Change::Decline(range("+4420794601")));
        assert_eq!(covering(&snapshot, "+441632960123"), [range("+4416329601")]);
        snapshot.apply(&Change::RemoveDecline(Target::Prefix("+4416329601".into())));
        assert!(covering(&snapshot, "+441632960123").is_empty());
        assert_eq!(covering(&snapshot, "+442079460123"), [range("+4420794601")]);
        snapshot.apply(&Change::Paused { paused: true, changed: crate::domain::SettingChange::default() });
        assert!(snapshot.paused());
    }

    #[test]
    fn numbers_of_one_list_share_their_terms() {
        let mut snapshot = Snapshot::default();
        let list: Vec<Decline> = (0..1000).map(|i| decline(&format!("+4420794{i:05}"), "Robocaller list")).collect();
        snapshot.put_declines(&list.iter().cloned().collect());
        assert_eq!(snapshot.numbers.terms.len(), 1);
        assert_eq!(snapshot.numbers.by_number.len(), 1000);
    }

    #[test]
    fn terms_no_number_uses_are_let_go_and_their_place_taken_again() {
        let mut snapshot = Snapshot::default();
        let dated = |i: i64| Decline {
            declined_at: Timestamp::from_second(1_800_000_000 + i).unwrap(),
            ..decline("+442079460123", "Everest")
        };
        // The owner declines one number again and again, each time with a new date.
        for i in 0..100 {
            snapshot.put_decline(&number("+442079460123"), Some(&dated(i)));
        }
        assert_eq!(snapshot.decline_of(&number("+442079460123")), Some(dated(99)));
        assert_eq!(snapshot.numbers.known.len(), 1, "only the terms in use are kept");
        // A list sharing the number's terms, then the number taken off: the list keeps them.
        let list: Vec<Decline> = (0..10)
            .map(|i| Decline { target: Target::Number(number(&format!("+4411329600{i:02}"))), ..dated(99) })
            .collect();
        snapshot.put_declines(&list.iter().cloned().collect());
        snapshot.put_decline(&number("+442079460123"), None);
        assert_eq!(snapshot.decline_of(&number("+441132960003")), Some(list[3].clone()));
        for decline in &list {
            snapshot.put_decline(decline.target.number().unwrap(), None);
        }
        assert!(snapshot.numbers.known.is_empty());
        snapshot.put_decline(&number("+442079460123"), Some(&dated(200)));
        assert_eq!(snapshot.decline_of(&number("+442079460123")), Some(dated(200)));
        assert!(snapshot.numbers.terms.len() <= 2, "a place let go is taken again");
    }
}
