//! The verdict of [`PhoneNumber::parse_typed_full`] for text already in E.164 shape (`+442079460123`,
//! `+44 20 7946 0123`), reached without the `phonenumber` crate's parser.
//!
//! Why: the crate matches every number against its numbering plan through one regex cache behind a
//! global mutex, and that cache (an LRU of 100) is far smaller than the plan, so a bulk import spends
//! most of its time recompiling and waiting for the lock, whatever the number of threads. Here the
//! same patterns, read from the same metadata (`phonenumber::metadata::DATABASE`), are compiled once
//! per country calling code, on first use, into plain `regex::Regex`es that threads share freely.
//!
//! What it must reproduce, read from phonenumber 0.3.10 (`parser/mod.rs`, `parser/helper.rs`,
//! `validator.rs`):
//! - the country code is the first of the number's first 1, 2 or 3 digits that the plan knows;
//! - the parser then looks for a national prefix after the country code (`national_number` in
//!   `helper.rs`) and takes it off when what is left is not too short. That changes the number
//!   (`+4402079460123` is stored as `+442079460123`), and then the full parser decides;
//! - validity (`is_valid`): the region among those sharing the code is the first whose leading
//!   digits match, or, for a region without leading digits, whose plan the number matches; the
//!   number is valid when it matches the region's general pattern and one of its kinds (fixed line,
//!   mobile, toll free...). The parser picks the region the same way but with the leading zeros
//!   taken off first (an Italian fixed line keeps its zero: `+390236618300`).
//! - a pattern "matches" when it matches at the start of the number (the crate takes the leftmost
//!   match and checks that it starts at 0; it does not need to reach the end) and, when the kind
//!   lists possible lengths, the number has one of them.
//!
//! Everything else (national forms, `00`, dashes without spaces, which the crate reads as RFC 3966
//! with the country code before the first dash, other punctuation, numbers a national prefix would
//! change) is left to the full parser: `parse` answers `None`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

use phonenumber::metadata::{DATABASE, Descriptor, Descriptors, Metadata};
use regex::{Regex, RegexBuilder};

use super::{MAX_E164_DIGITS, MIN_E164_DIGITS, NumberError, PhoneNumber};

/// The longest national number the crate accepts (`consts::MAX_LENGTH_FOR_NSN`).
const MAX_NATIONAL: usize = 17;

/// One entry per country calling code the metadata knows, its plan compiled on first use. `None`
/// when a plan cannot be built as the crate would read it; numbers with that code fall back.
/// (Not from `DATABASE.iter()`: that goes by region id, and the non-geographic codes share "001".)
static PLANS: LazyLock<HashMap<u16, OnceLock<Option<Plan>>>> = LazyLock::new(|| {
    (1..1000).filter(|code| DATABASE.region(code).is_some()).map(|code| (code, OnceLock::new())).collect()
});

/// The verdict of the full parser for `trimmed` (the input without surrounding white space), or
/// `None` when this path cannot prove it would be the same.
pub(super) fn parse(trimmed: &str, force: bool) -> Option<Result<PhoneNumber, NumberError>> {
    decide(&e164_digits(trimmed)?, trimmed, force)
}

/// The verdict on the E.164 number of `digits` (without the `+`), told of `input` as typed.
fn decide(digits: &str, input: &str, force: bool) -> Option<Result<PhoneNumber, NumberError>> {
    let trimmed = input;
    let Some((code, national)) = split_country_code(digits) else {
        return Some(Err(NumberError::NotANumber(trimmed.to_owned())));
    };
    // All zeros cannot be stored as a national number; the crate refuses it, by a path not copied here.
    if national.bytes().all(|b| b == b'0') {
        return None;
    }
    let plan = PLANS.get(&code)?.get_or_init(|| Plan::build(code)).as_ref()?;
    // The region whose national prefix the parser would look for, found with leading zeros taken off.
    if let Some(region) = plan.region_for(national.trim_start_matches('0'))
        && !region.keeps(national)
    {
        return None;
    }
    // A possible length is enough with force (see `is_possible` in the parent module).
    let valid = (force && plan.possible_lengths & (1 << national.len()) != 0)
        || plan.region_for(national).is_some_and(|region| region.is_valid(national));
    let e164 = format!("+{digits}");
    Some(if valid {
        Ok(PhoneNumber(e164))
    } else if force {
        Err(NumberError::NotANumber(trimmed.to_owned()))
    } else {
        Err(NumberError::NotValid { input: trimmed.to_owned(), e164 })
    })
}

/// The digits of `+` and 7 to 15 digits with no leading zero, spaces and dashes allowed between
/// digits. Dashes only count with at least one space: without a space the crate reads the text as
/// RFC 3966 (`+44-20...`: country code 44 because of the dash), which is not copied here.
fn e164_digits(trimmed: &str) -> Option<String> {
    let rest = trimmed.strip_prefix('+')?;
    let separated = |b: u8| b == b' ' || b == b'-';
    let shaped = rest.bytes().all(|b| b.is_ascii_digit() || separated(b))
        && rest.bytes().next().is_some_and(|b| b.is_ascii_digit() && b != b'0')
        && rest.bytes().last().is_some_and(|b| b.is_ascii_digit())
        && (rest.contains(' ') || !rest.contains('-'));
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    (shaped && (MIN_E164_DIGITS..=MAX_E164_DIGITS).contains(&digits.len())).then_some(digits)
}

/// One entry per region the metadata knows, by its id (`GB`), what reading a number written
/// nationally there takes, built on first use. `None` where the region's national numbers are
/// left to the full parser (no national prefix, or rules for it this path does not copy).
static NATIONAL: LazyLock<HashMap<&'static str, OnceLock<Option<National>>>> =
    LazyLock::new(|| DATABASE.iter().map(|meta| (meta.id(), OnceLock::new())).collect());

/// The verdict of the full parser for `trimmed` read as a number written nationally in `region`
/// (`020 7946 0123` in GB), or `None` when this path cannot prove it would be the same.
///
/// What the crate does with such text (`parser/mod.rs`, `helper.rs`), copied for the inputs taken
/// here only: text of digits and spaces, dashes, dots, brackets and slashes (no `+`) is read, as
/// RFC 3966 or as natural text, as its digits, with the region's country code (`Source::Default`);
/// the region's international prefix (GB: `00`) would be taken off the start, and a number that
/// starts with the country code may be read as including it: both left to the full parser. Then
/// the national prefix is taken off (`helper::national_number`: the region's pattern for it where
/// it has one, GB's `0|180020`, without a rule rewriting the number, which AR, MX and BR have),
/// and once more if still there (left to the full parser), unless what is left is too short. The
/// E.164 form is the country code and what is left; from there the verdict is that of the E.164
/// text, as in `PhoneNumber::parse_with`, given of the text as typed.
pub(super) fn parse_national(trimmed: &str, region: &str, force: bool) -> Option<Result<PhoneNumber, NumberError>> {
    let plan = NATIONAL.get(region)?.get_or_init(|| National::build(region)).as_ref()?;
    // "+44 20..." in E.164 comes here only when the E.164 path declined it: never with a `+`.
    let mut digits = [0u8; MAX_E164_DIGITS];
    let mut count = 0;
    for byte in trimmed.bytes() {
        match byte {
            b'0'..=b'9' => {
                *digits.get_mut(count)? = byte;
                count += 1;
            }
            b' ' | b'-' | b'.' | b'(' | b')' | b'/' => {}
            _ => return None,
        }
    }
    let digits = std::str::from_utf8(&digits[..count]).ok()?;
    if plan.international.as_ref().is_some_and(|idd| idd.is_match(digits)) || digits.starts_with(&plan.code) {
        return None;
    }
    // `helper::national_number`: the pattern's leftmost match, when it starts the number, or the prefix.
    let national = match &plan.prefix_for_parsing {
        Some(parsing) => match parsing.find(digits) {
            Some(found) if found.start() == 0 => &digits[found.end()..],
            _ => digits,
        },
        None => digits.strip_prefix(plan.prefix.as_str()).unwrap_or(digits),
    };
    // A second national prefix (or a leading zero, which E.164 keeps) is the full parser's to read.
    if national.starts_with(plan.prefix.as_str()) || national.starts_with('0') || plan.too_short(national.len()) {
        return None;
    }
    let mut e164 = [0u8; MAX_E164_DIGITS];
    let length = plan.code.len() + national.len();
    if !(MIN_E164_DIGITS..=MAX_E164_DIGITS).contains(&length) {
        return None;
    }
    e164[..plan.code.len()].copy_from_slice(plan.code.as_bytes());
    e164[plan.code.len()..length].copy_from_slice(national.as_bytes());
    decide(std::str::from_utf8(&e164[..length]).ok()?, trimmed, force)
}

/// What reading a national number of one region consults of its metadata.
struct National {
    /// The country calling code as written (`44`).
    code: String,
    /// Not empty.
    prefix: String,
    /// Compiled as the crate compiles it (GB: `0|180020`): its match is used as is.
    prefix_for_parsing: Option<Regex>,
    /// The international prefix (`00`), matched at the start.
    international: Option<Regex>,
    /// The general descriptor's possible lengths, for `validator::length`.
    lengths: Vec<u16>,
    local_lengths: Vec<u16>,
}

impl National {
    fn build(region: &str) -> Option<Self> {
        let meta = DATABASE.by_id(region)?;
        // A rule rewriting the number (AR, MX, BR) is left to the full parser, and so is a region
        // without a national prefix.
        if meta.national_prefix_transform_rule().is_some() {
            return None;
        }
        let prefix = meta.national_prefix().filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))?;
        let general = meta.descriptors().general();
        Some(Self {
            code: meta.country_code().to_string(),
            prefix: prefix.to_owned(),
            prefix_for_parsing: meta.national_prefix_for_parsing().map(|re| compile(re.as_str())).transpose().ok()?,
            international: meta.international_prefix().map(|re| compile(&at_start(re.as_str()))).transpose().ok()?,
            lengths: general.possible_length().to_vec(),
            local_lengths: general.possible_local_length().to_vec(),
        })
    }

    /// `validator::length(.., Type::Unknown) == Validation::TooShort`, as `RegionPlan::too_short`.
    fn too_short(&self, length: usize) -> bool {
        let length = length as u16;
        self.lengths.first().is_some_and(|&minimum| !self.local_lengths.contains(&length) && length < minimum)
    }
}

/// The crate's rule (`country_code` in `helper.rs`): the first of 1, 2 and 3 digits that is a code.
fn split_country_code(digits: &str) -> Option<(u16, &str)> {
    (1..=3).find_map(|len| {
        let code = digits[..len].parse().ok()?;
        PLANS.contains_key(&code).then(|| (code, &digits[len..]))
    })
}

/// The numbering plan of one country calling code.
struct Plan {
    /// In the crate's order (`Database::region`): the main country first.
    regions: Vec<RegionPlan>,
    /// Bit n set when a national number of n digits is possible for the code (`is_possible`).
    possible_lengths: u32,
}

impl Plan {
    fn build(code: u16) -> Option<Self> {
        let ids = DATABASE.region(&code)?;
        // The crate takes "001" (non-geographic) as such only when alone; ids it cannot read are left to it.
        let known = |id: &&str| id.parse::<phonenumber::country::Id>().is_ok() || (*id == "001" && ids.len() == 1);
        if !ids.iter().all(known) {
            return None;
        }
        // By code, not by id: the crate reads a non-geographic code's metadata with `by_code`, and
        // `by_id("001")` is only one of them. Both lists are in the same order.
        let metas = DATABASE.by_code(&code)?;
        if metas.len() != ids.len() || metas.iter().zip(&ids).any(|(meta, id)| meta.id() != *id) {
            return None;
        }
        let regions = metas.into_iter().map(RegionPlan::build).collect::<Option<_>>()?;
        let possible_lengths = (0..=MAX_NATIONAL)
            .filter(|&length| super::is_possible_length(code, length))
            .fold(0, |bits, length| bits | 1 << length);
        Some(Self { regions, possible_lengths })
    }

    /// The region `source_for` in `validator.rs` picks for `national`.
    fn region_for(&self, national: &str) -> Option<&RegionPlan> {
        if let [only] = &self.regions[..] {
            return Some(only);
        }
        self.regions.iter().find(|region| match &region.leading_digits {
            Some(leading) => leading.is_match(national),
            None => region.is_valid(national),
        })
    }
}

/// The kinds of number `number_type` tries, fixed line and mobile first: most numbers are one of
/// them, and the search stops there.
fn kinds(d: &Descriptors) -> [Option<&Descriptor>; 10] {
    [
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
}

/// What `is_valid` and the parser consult of one region's metadata.
struct RegionPlan {
    leading_digits: Option<Regex>,
    general: Pattern,
    /// The kinds `number_type` tries; a number of none of them is not valid.
    kinds: Vec<Pattern>,
    national_prefix: Option<String>,
    /// Compiled exactly as the crate compiles it, since its matches and captures are used as is.
    prefix_for_parsing: Option<Regex>,
    transform_rule: Option<String>,
}

impl RegionPlan {
    fn build(meta: &Metadata) -> Option<Self> {
        let d = meta.descriptors();
        let kinds = kinds(d).into_iter().flatten();
        Some(Self {
            leading_digits: meta.leading_digits().map(|re| compile(&at_start(re.as_str()))).transpose().ok()?,
            general: Pattern::build(d.general())?,
            kinds: kinds.map(Pattern::build).collect::<Option<_>>()?,
            national_prefix: meta.national_prefix().map(str::to_owned),
            prefix_for_parsing: meta.national_prefix_for_parsing().map(|re| compile(re.as_str())).transpose().ok()?,
            transform_rule: meta.national_prefix_transform_rule().map(str::to_owned),
        })
    }

    /// `number_type(..) != Type::Unknown`.
    fn is_valid(&self, national: &str) -> bool {
        self.general.is_match(national) && self.kinds.iter().any(|kind| kind.is_match(national))
    }

    /// Whether the parser leaves `national` as it is: `helper::national_number`, then the second
    /// national-prefix strip and the length check of `parse_with`, step by step.
    fn keeps(&self, national: &str) -> bool {
        let Some(potential) = self.without_national_prefix(national) else { return false };
        let mut potential = potential.as_ref();
        if let Some(prefix) = &self.national_prefix {
            potential = potential.strip_prefix(prefix.as_str()).unwrap_or(potential);
        }
        potential == national || self.too_short(potential.len())
    }

    /// `helper::national_number`; `None` where the crate would panic.
    fn without_national_prefix<'a>(&self, national: &'a str) -> Option<Cow<'a, str>> {
        let Some(parsing) = &self.prefix_for_parsing else {
            let prefix = self.national_prefix.as_deref().unwrap_or_default();
            return Some(national.strip_prefix(prefix).unwrap_or(national).into());
        };
        let Some(found) = parsing.find(national).filter(|found| found.start() == 0) else {
            return Some(national.into());
        };
        let captures = parsing.captures(national)?;
        match (&self.transform_rule, captures.get(captures.len() - 1)) {
            (Some(rule), Some(_)) => {
                let transformed = parsing.replace(national, rule.as_str());
                if self.general.is_match(national) && !self.general.is_match(&transformed) {
                    return Some(national.into());
                }
                captures.get(1)?;
                Some(transformed.into_owned().into())
            }
            _ => Some(national[found.end()..].into()),
        }
    }

    /// `validator::length(.., Type::Unknown) == Validation::TooShort`.
    fn too_short(&self, length: usize) -> bool {
        let (possible, local) = (&self.general.lengths, &self.general.local_lengths);
        let length = length as u16;
        possible.first().is_some_and(|&minimum| !local.contains(&length) && length < minimum)
    }
}

/// A descriptor's pattern with its possible lengths (`Descriptor::is_match`).
struct Pattern {
    regex: Regex,
    lengths: Vec<u16>,
    local_lengths: Vec<u16>,
}

impl Pattern {
    fn build(descriptor: &Descriptor) -> Option<Self> {
        Some(Self {
            regex: compile(&at_start(descriptor.national_number().as_str())).ok()?,
            lengths: descriptor.possible_length().to_vec(),
            local_lengths: descriptor.possible_local_length().to_vec(),
        })
    }

    fn is_match(&self, national: &str) -> bool {
        allows(&self.lengths, national.len() as u16) && self.regex.is_match(national)
    }
}

/// No lengths listed means any length.
fn allows(lengths: &[u16], length: u16) -> bool {
    lengths.is_empty() || lengths.contains(&length)
}

/// The crate checks that the leftmost match starts at 0, which is a match anchored at the start.
/// The line break ends a `#` comment, which the crate's whitespace-insensitive syntax allows.
fn at_start(pattern: &str) -> String {
    format!("^(?:{pattern}\n)")
}

/// With the crate's options: whitespace in the metadata's patterns is layout.
fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).ignore_whitespace(true).build()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::Region;

    const REGIONS: [&str; 14] = ["GB", "US", "FR", "DE", "IT", "IN", "AU", "NG", "JP", "BR", "AR", "MX", "RU", "CN"];

    fn codes() -> Vec<u16> {
        let mut codes: Vec<u16> = PLANS.keys().copied().collect();
        codes.sort_unstable();
        codes
    }

    /// Every example national number in the metadata, with its country calling code.
    fn examples() -> Vec<(u16, String)> {
        let mut examples: Vec<(u16, String)> = codes()
            .into_iter()
            .flat_map(|code| DATABASE.by_code(&code).unwrap())
            .flat_map(|meta| {
                let d = meta.descriptors();
                [Some(d.general()), d.no_international()]
                    .into_iter()
                    .chain(kinds(d))
                    .flatten()
                    .filter_map(|descriptor| {
                        descriptor.example().map(|example| (meta.country_code(), example.to_owned()))
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        examples.sort();
        examples.dedup();
        examples
    }

    /// Where the fast path (E.164 or national) answers, its verdict is the full parser's; either
    /// way `parse_typed`'s is.
    /// Whether the fast path answered.
    fn assert_same(input: &str, region: &str, force: bool) -> bool {
        let region_id: Region = region.parse().unwrap();
        let full = PhoneNumber::parse_typed_full(input, region_id, force);
        let fast = parse(input.trim(), force).or_else(|| parse_national(input.trim(), region, force));
        if let Some(fast) = &fast {
            assert_eq!(fast, &full, "{input:?} in {region} with force {force}");
        }
        assert_eq!(PhoneNumber::parse_typed(input, region_id, force), full, "{input:?} in {region} with force {force}");
        fast.is_some()
    }

    /// The example with its last digit one higher (9 wraps to 0): a near miss of a valid number.
    fn last_digit_changed(example: &str) -> String {
        let mut changed = example.as_bytes().to_vec();
        let last = changed.len() - 1;
        changed[last] = b'0' + (changed[last] - b'0' + 1) % 10;
        String::from_utf8(changed).unwrap()
    }

    #[test]
    fn every_country_code_gives_the_full_verdict_for_its_example_numbers() {
        // No code is left to the full parser for want of a plan.
        for code in codes() {
            assert!(Plan::build(code).is_some(), "a plan for +{code}");
        }
        let (mut tried, mut decided, mut valid_decided, mut valid) = (0, 0, 0, 0);
        for (code, example) in examples() {
            let changed = last_digit_changed(&example);
            let variants = [
                format!("+{code}{example}"),
                format!("+{code} {example}"),
                format!("+{code} {}-{}", &example[..example.len() / 2], &example[example.len() / 2..]),
                format!("+{code}0{example}"),
                format!("+{code}{changed}"),
                format!("+{code}{}", &example[1..]),
                format!("+{code}{example}5"),
                format!("+{code}-{example}"),
            ];
            for input in variants {
                for (force, region) in [(false, "GB"), (true, "US")] {
                    tried += 1;
                    let answered = assert_same(&input, region, force);
                    decided += usize::from(answered);
                    if input == format!("+{code}{example}") && !force {
                        valid += 1;
                        valid_decided += usize::from(answered);
                    }
                }
            }
        }
        eprintln!("{decided} of {tried} decided by the fast path; {valid_decided} of {valid} plain examples");
        // The fast path is for E.164 text: it must decide nearly all of the metadata's own examples.
        assert!(valid_decided * 100 >= valid * 95, "{valid_decided} of {valid} examples decided");
    }

    #[test]
    fn common_numbers_are_decided_by_the_fast_path() {
        for input in ["+442079460123", "+44 20 7946 0123", "+33142764978", "+12025550143", "+390236618300"] {
            assert!(matches!(parse(input, false), Some(Ok(_))), "{input}");
        }
        assert!(matches!(parse("+441632960123", false), Some(Err(NumberError::NotValid { .. }))));
        assert!(matches!(parse("+441632960123", true), Some(Ok(_))));
        for input in ["020 7946 0123", "0044 20 7946 0123", "+44-20-7946-0123", "+4402079460123", "+44 (20) 79460123"] {
            assert_eq!(parse(input, false), None, "{input}");
        }
    }

    /// Text near E.164: a country code of the metadata and national digits, either random or one
    /// of the metadata's examples with some digits changed, written in one of several ways.
    fn near_e164() -> impl Strategy<Value = String> {
        let codes = codes();
        let examples = examples();
        let national = prop_oneof![
            proptest::string::string_regex("[0-9]{2,14}").unwrap(),
            (0..examples.len(), any::<u64>(), 0..4usize).prop_map(move |(i, seed, edits)| {
                let mut digits = examples[i].1.clone().into_bytes();
                for edit in 0..edits {
                    let at = (seed >> (edit * 8)) as usize % digits.len();
                    digits[at] = b'0' + (seed >> (edit * 8 + 4)) as u8 % 10;
                }
                String::from_utf8(digits).unwrap()
            }),
        ];
        let code = prop_oneof![
            proptest::sample::select(codes).prop_map(|code| code.to_string()),
            proptest::string::string_regex("[1-9][0-9]{0,2}").unwrap(),
        ];
        (code, national, 0..8u8, any::<u64>()).prop_map(|(code, national, form, seed)| {
            let spaced = |text: &str, separator: char| {
                let mut out = String::new();
                for (i, c) in text.chars().enumerate() {
                    if i > 0 && seed >> (i % 64) & 1 == 1 {
                        out.push(if seed >> ((i + 7) % 64) & 3 == 0 { '-' } else { separator });
                    }
                    out.push(c);
                }
                out
            };
            match form {
                0 | 1 => format!("+{code}{national}"),
                2 => format!("+{code} {}", spaced(&national, ' ')),
                3 => format!("+{}", spaced(&format!("{code}{national}"), '-')),
                4 => format!("00{code}{national}"),
                5 => format!("0{national}"),
                6 => format!(" +{code}0{national} "),
                _ => national,
            }
        })
    }

    #[test]
    fn the_fast_path_gives_the_full_verdict() {
        const CASES: u32 = 10_000;
        let config = ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() };
        let decided = std::cell::Cell::new(0);
        let cases = (near_e164(), proptest::sample::select(&REGIONS[..]), any::<bool>());
        proptest::test_runner::TestRunner::new(config)
            .run(&cases, |(input, region, force)| {
                decided.set(decided.get() + u32::from(assert_same(&input, region, force)));
                Ok(())
            })
            .unwrap();
        eprintln!("{} of {CASES} inputs decided by the fast path", decided.get());
        // Most generated inputs are E.164 text; the comparison must not be left to the fallback.
        assert!(decided.get() > CASES / 4, "{} decided", decided.get());
    }

    /// Regions to read national numbers in: with a plain national prefix (GB, DE, FR, NZ...), a
    /// prefix that is also the country code (US, CA), patterns or rules for it (AU, AR, MX, BR,
    /// RU), none (IT, with its leading zero).
    const NATIONAL_REGIONS: [&str; 18] =
        ["GB", "US", "DE", "FR", "IT", "AU", "AR", "MX", "BR", "CA", "NZ", "IE", "NL", "JP", "IN", "RU", "ES", "CH"];

    /// Every example national number of `region`'s metadata.
    fn region_examples(region: &str) -> Vec<String> {
        let d = DATABASE.by_id(region).unwrap().descriptors();
        let mut examples: Vec<String> = [Some(d.general()), d.no_international()]
            .into_iter()
            .chain(kinds(d))
            .flatten()
            .filter_map(|descriptor| descriptor.example().map(str::to_owned))
            .collect();
        examples.sort();
        examples.dedup();
        examples
    }

    /// The national prefix of `region`, or `0` where it has none (a plausible thing to type).
    fn trunk(region: &str) -> String {
        DATABASE.by_id(region).unwrap().national_prefix().unwrap_or("0").to_owned()
    }

    #[test]
    fn every_region_gives_the_full_verdict_for_its_example_numbers_written_nationally() {
        let regions: Vec<&str> =
            DATABASE.iter().map(|meta| meta.id()).filter(|id| id.parse::<Region>().is_ok()).collect();
        assert!(regions.len() > 200, "{} regions", regions.len());
        let (mut tried, mut decided) = (0, 0);
        let mut plain: HashMap<&str, (usize, usize)> = HashMap::new();
        for &region in &regions {
            let (prefix, code) = (trunk(region), DATABASE.by_id(region).unwrap().country_code());
            for example in region_examples(region) {
                let (head, tail) = example.split_at(example.len().min(3));
                let changed = last_digit_changed(&example);
                let variants = [
                    format!("{prefix}{example}"),
                    format!("{prefix}{head} {tail}"),
                    format!("({prefix}{head}) {tail}"),
                    format!("{prefix}{head}-{tail}"),
                    format!("{prefix}{head}.{tail}"),
                    format!("{prefix}{head}/{tail}"),
                    format!("{prefix}{head}\u{a0}{tail}"),
                    example.clone(),
                    format!("{head} {tail}"),
                    format!("{prefix}{prefix}{example}"),
                    format!("{code}{example}"),
                    format!("{code} {prefix}{example}"),
                    format!("00{code}{example}"),
                    format!("011 {code} {example}"),
                    format!("{prefix}{changed}"),
                    format!("{prefix}{example}5"),
                    format!("{prefix}{}", &example[1..]),
                    format!("{prefix}{example}-"),
                    format!("{prefix}{head}+{tail}"),
                ];
                for (i, input) in variants.iter().enumerate() {
                    for force in [false, true] {
                        tried += 1;
                        let answered = assert_same(input, region, force);
                        decided += usize::from(answered);
                        // With its national prefix; in the US and Canada, where it is the country code, without.
                        let plain_form = if ["US", "CA"].contains(&region) { 8 } else { 1 };
                        if i == plain_form && !force {
                            let entry = plain.entry(region).or_default();
                            entry.0 += 1;
                            entry.1 += usize::from(answered);
                        }
                    }
                }
            }
        }
        eprintln!("{decided} of {tried} decided by the fast path");
        // The plain national form of a region with a plain national prefix is the fast path's to decide.
        for region in ["GB", "DE", "FR", "NZ", "US", "CA"] {
            let (examples, answered) = plain[region];
            assert!(answered * 10 >= examples * 9, "{answered} of {examples} examples in {region}");
        }
    }

    #[test]
    fn common_national_numbers_are_decided_by_the_fast_path() {
        let e164 = |input: &str, region: &str| match parse_national(input, region, false) {
            Some(Ok(number)) => Some(number.0),
            _ => None,
        };
        assert_eq!(e164("020 7946 0123", "GB").as_deref(), Some("+442079460123"));
        assert_eq!(e164("(0161) 496-0000", "GB").as_deref(), Some("+441614960000"));
        assert_eq!(e164("07400 123456", "GB").as_deref(), Some("+447400123456"));
        assert_eq!(e164("(202) 555-0143", "US").as_deref(), Some("+12025550143"));
        assert_eq!(e164("030 901820", "DE").as_deref(), Some("+4930901820"));
        assert_eq!(e164("01 42 76 49 78", "FR").as_deref(), Some("+33142764978"));
        // AU's pattern for its prefix (`(183[12])|0`, carrier codes) rewrites nothing: it is copied.
        assert_eq!(e164("(02) 9876 5432", "AU").as_deref(), Some("+61298765432"));
        assert!(matches!(parse_national("01632 960123", "GB", false), Some(Err(NumberError::NotValid { .. }))));
        // Left to the full parser: international prefixes, the country code typed without `+`,
        // a second national prefix, regions with rules rewriting the number or with no national
        // prefix, other characters.
        for (input, region) in [
            ("0044 20 7946 0123", "GB"),
            ("44 20 7946 0123", "GB"),
            ("00 20 7946 0123", "GB"),
            ("1 202 555 0143", "US"),
            ("011 44 20 7946 0123", "US"),
            ("02 3661 8300", "IT"),
            ("011 15 2345 6789", "AR"),
            ("044 55 1234 5678", "MX"),
            ("0 11 96123 4567", "BR"),
            ("020\u{a0}7946 0123", "GB"),
            ("+44 20 7946 0123", "GB"),
            ("020 7946 0123 ext 5", "GB"),
        ] {
            assert_eq!(parse_national(input, region, false), None, "{input} in {region}");
        }
    }

    /// Text near a national number of one of `NATIONAL_REGIONS`: random digits, or one of the
    /// region's example numbers with some digits changed, written with its national prefix and
    /// punctuation, or in one of the ways the fast path must leave to the full parser.
    fn near_national() -> impl Strategy<Value = (String, &'static str)> {
        let examples: Vec<Vec<String>> = NATIONAL_REGIONS.iter().map(|region| region_examples(region)).collect();
        let random = proptest::string::string_regex("[0-9]{1,16}").unwrap();
        (0..NATIONAL_REGIONS.len(), any::<bool>(), random, any::<u64>(), 0..4usize, 0..12u8, any::<u64>()).prop_map(
            move |(r, use_example, random, pick, edits, form, seed)| {
                let region = NATIONAL_REGIONS[r];
                let national = match &examples[r][..] {
                    list if use_example && !list.is_empty() => {
                        let mut digits = list[pick as usize % list.len()].clone().into_bytes();
                        for edit in 0..edits {
                            let at = (pick >> (edit * 8 + 16)) as usize % digits.len();
                            digits[at] = b'0' + (pick >> (edit * 8 + 20)) as u8 % 10;
                        }
                        String::from_utf8(digits).unwrap()
                    }
                    _ => random,
                };
                let prefix = trunk(region);
                let code = DATABASE.by_id(region).unwrap().country_code();
                let separated = |text: &str| {
                    let mut out = String::new();
                    for (i, c) in text.chars().enumerate() {
                        if i > 0 && seed >> (i % 64) & 1 == 1 {
                            out.push(
                                [' ', ' ', '-', '.', '/', ' ', '\u{a0}', '(']
                                    [(seed >> ((i * 3 + 5) % 61)) as usize & 7],
                            );
                        }
                        out.push(c);
                    }
                    out
                };
                let text = match form {
                    0..=3 => separated(&format!("{prefix}{national}")),
                    4 => format!(
                        "({prefix}{}) {}",
                        &national[..national.len().min(3)],
                        &national[national.len().min(3)..]
                    ),
                    5 => separated(&national),
                    6 => format!("{prefix}{prefix}{national}"),
                    7 => separated(&format!("00{code}{national}")),
                    8 => separated(&format!("{code}{prefix}{national}")),
                    9 => format!("{code}{national}"),
                    10 => format!(
                        " {}{} ",
                        separated(&format!("{prefix}{national}")),
                        ["", ")", "-", "/", "+", "#"][seed as usize % 6]
                    ),
                    _ => format!("{}0{national}", ["", "(", "+", "0", "1", "-"][seed as usize % 6]),
                };
                (text, region)
            },
        )
    }

    #[test]
    fn the_national_fast_path_gives_the_full_verdict() {
        const CASES: u32 = 10_000;
        let config = ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() };
        let decided = std::cell::Cell::new(0);
        let cases = (near_national(), any::<bool>());
        proptest::test_runner::TestRunner::new(config)
            .run(&cases, |((input, region), force)| {
                decided.set(decided.get() + u32::from(assert_same(&input, region, force)));
                Ok(())
            })
            .unwrap();
        eprintln!("{} of {CASES} national inputs decided by the fast path", decided.get());
        // Many of the forms and regions are the full parser's on purpose; the rest must not be.
        assert!(decided.get() > CASES / 10, "{} decided", decided.get());
    }
}
