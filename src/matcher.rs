//! Declines of ranges and patterns, compiled once into in-memory matchers and rebuilt on change:
//! a look-up costs one probe for each length of range declined and one pass of each regex set.

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::domain::{Decline, IncomingCall, PhoneNumber, Target};

/// The longest pattern a person may write; longer ones are not written by hand.
pub const MAX_PATTERN_CHARS: usize = 500;
/// Compiled-size bounds, so that no pattern can take a lot of memory or time to match.
const PATTERN_SIZE_LIMIT: usize = 256 * 1024;
const SET_SIZE_LIMIT: usize = 32 * 1024 * 1024;

#[derive(Default)]
pub struct Matcher {
    prefixes: foldhash::HashMap<String, Rule>,
    /// The lengths the prefixes come in, shortest first: a number is probed at these alone.
    prefix_lengths: Vec<usize>,
    numbers: Option<Compiled>,
    caller_names: Option<Compiled>,
}

struct Compiled {
    set: RegexSet,
    rules: Vec<Rule>,
}

/// A decline of a range or pattern, with the party its follow-ups count toward
/// (`Decline::party`), made once when the matcher is built rather than on every call.
struct Rule {
    decline: Decline,
    party: Box<str>,
}

impl From<Decline> for Rule {
    fn from(decline: Decline) -> Self {
        Self { party: decline.party().into_boxed_str(), decline }
    }
}

impl Matcher {
    pub fn build(rules: impl IntoIterator<Item = Decline>) -> Result<Self, regex::Error> {
        let mut prefixes = foldhash::HashMap::default();
        let mut numbers = Vec::new();
        let mut caller_names = Vec::new();
        for decline in rules {
            match &decline.target {
                Target::Prefix(prefix) => {
                    prefixes.insert(prefix.clone(), Rule::from(decline));
                }
                Target::Pattern(_) => numbers.push(decline),
                Target::CallerName(_) => caller_names.push(decline),
                Target::Number(_) => {}
            }
        }
        let mut prefix_lengths: Vec<usize> = prefixes.keys().map(String::len).collect();
        prefix_lengths.sort_unstable();
        prefix_lengths.dedup();
        Ok(Self {
            prefixes,
            prefix_lengths,
            numbers: Compiled::build(numbers)?,
            caller_names: Compiled::build(caller_names)?,
        })
    }

    /// Every rule that covers the call.
    pub fn matching(&self, call: &IncomingCall) -> Vec<Decline> {
        let mut found = Vec::new();
        self.each_matching(call, |decline, _| found.push(decline.clone()));
        found
    }

    /// Gives `found` every rule that covers the call, in the order of `matching`, with its party.
    pub fn each_matching<'a>(&'a self, call: &IncomingCall, mut found: impl FnMut(&'a Decline, &'a str)) {
        let mut rule = |rule: &'a Rule| found(&rule.decline, &rule.party);
        if let Some(number) = call.from.number() {
            let number = number.as_str();
            // The number's prefixes of the lengths declined, "+2" up to the whole.
            let lengths = self.prefix_lengths.iter().take_while(|&&length| length <= number.len());
            lengths.filter_map(|&end| self.prefixes.get(&number[..end])).for_each(&mut rule);
            if let Some(numbers) = &self.numbers {
                numbers.matching(number).for_each(&mut rule);
            }
        }
        if let (Some(names), Some(caller_name)) = (&self.caller_names, &call.caller_name) {
            names.matching(caller_name).for_each(&mut rule);
        }
    }

    /// Whether any rule covers the call, told without listing them.
    pub fn covers(&self, call: &IncomingCall) -> bool {
        let number = call.from.number().map(PhoneNumber::as_str);
        let in_range = |number: &str| {
            let lengths = self.prefix_lengths.iter().take_while(|&&length| length <= number.len());
            lengths.into_iter().any(|&end| self.prefixes.contains_key(&number[..end]))
        };
        let matches = |compiled: &Option<Compiled>, text: Option<&str>| {
            compiled.as_ref().zip(text).is_some_and(|(compiled, text)| compiled.set.is_match(text))
        };
        number.is_some_and(in_range)
            || matches(&self.numbers, number)
            || matches(&self.caller_names, call.caller_name.as_deref())
    }

    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty() && self.numbers.is_none() && self.caller_names.is_none()
    }

    /// The rules it was built from, so that one can be changed and the rest built again.
    pub fn rules(&self) -> impl Iterator<Item = &Decline> {
        let compiled = [&self.numbers, &self.caller_names].into_iter().flatten();
        let rules = self.prefixes.values().chain(compiled.flat_map(|compiled| compiled.rules.iter()));
        rules.map(|rule| &rule.decline)
    }
}

impl Compiled {
    fn build(declines: Vec<Decline>) -> Result<Option<Self>, regex::Error> {
        let declines: Vec<Rule> = declines.into_iter().map(Rule::from).collect();
        if declines.is_empty() {
            return Ok(None);
        }
        let patterns = declines.iter().map(|rule| match &rule.decline.target {
            Target::Pattern(pattern) | Target::CallerName(pattern) => anchored(pattern),
            _ => unreachable!("only patterns are compiled"),
        });
        let set = RegexSetBuilder::new(patterns).size_limit(SET_SIZE_LIMIT).dfa_size_limit(SET_SIZE_LIMIT).build()?;
        Ok(Some(Self { set, rules: declines }))
    }

    fn matching<'a>(&'a self, text: &str) -> impl Iterator<Item = &'a Rule> + 'a {
        // Most callers match no pattern, and telling so is cheaper than listing every match.
        let matches = if self.set.is_match(text) { Some(self.set.matches(text)) } else { None };
        matches.into_iter().flatten().map(|index| &self.rules[index])
    }
}

/// A pattern must match the whole number or name: `\+23480\d{8}` means exactly that, not
/// "contains it somewhere".
fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

/// Checks a pattern a person typed: it compiles, within the size bounds.
pub fn check_pattern(pattern: &str) -> Result<Regex, String> {
    if pattern.trim().is_empty() {
        return Err("the pattern is empty".into());
    }
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!("the pattern is longer than {MAX_PATTERN_CHARS} characters"));
    }
    RegexBuilder::new(&anchored(pattern)).size_limit(PATTERN_SIZE_LIMIT).build().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CallerId;

    fn rule(target: Target) -> Decline {
        Decline::new(target, jiff::Timestamp::UNIX_EPOCH)
    }

    fn call(from: &str, caller_name: Option<&str>) -> IncomingCall {
        IncomingCall {
            call_id: "CA1".into(),
            from: CallerId::from_text(from),
            to: String::new(),
            caller_name: caller_name.map(str::to_owned),
            verification: None,
        }
    }

    fn matched(matcher: &Matcher, from: &str, caller_name: Option<&str>) -> Vec<String> {
        matcher.matching(&call(from, caller_name)).into_iter().map(|d| d.target.to_string()).collect()
    }

    #[test]
    fn ranges_patterns_and_caller_names_each_match_their_own() {
        let matcher = Matcher::build([
            rule(Target::Prefix("+4416329601".into())),
            rule(Target::Prefix("+234".into())),
            rule(Target::Pattern(r"\+1800\d{7}".into())),
            rule(Target::CallerName(r"V\d{15}".into())),
        ])
        .unwrap();
        assert_eq!(matched(&matcher, "+441632960123", None), ["+4416329601*"]);
        assert_eq!(matched(&matcher, "+2348012345678", None), ["+234*"]);
        assert_eq!(matched(&matcher, "+18005550100", None), [r"pattern /\+1800\d{7}/"]);
        assert_eq!(matched(&matcher, "+442079460123", Some("V123456789012345")), [r"caller name /V\d{15}/"]);
        assert!(matched(&matcher, "+441632960223", Some("ACME LTD")).is_empty());
    }

    #[test]
    fn patterns_must_match_the_whole_number() {
        let matcher = Matcher::build([rule(Target::Pattern(r"\+1800\d{7}".into()))]).unwrap();
        assert!(matched(&matcher, "+180055501001", None).is_empty(), "one digit too many");
        let names = Matcher::build([rule(Target::CallerName(r"V\d{15}".into()))]).unwrap();
        assert!(matched(&names, "+442079460123", Some("XV1234567890123456")).is_empty());
    }

    #[test]
    fn withheld_callers_match_only_caller_name_rules() {
        let matcher =
            Matcher::build([rule(Target::Prefix("+44".into())), rule(Target::CallerName("SPAM.*".into()))]).unwrap();
        assert_eq!(matched(&matcher, "withheld", Some("SPAM LIKELY")), ["caller name /SPAM.*/"]);
    }

    #[test]
    fn bad_or_oversized_patterns_are_refused_with_the_reason() {
        assert!(check_pattern(r"\+44(").unwrap_err().contains("unclosed group"));
        assert!(check_pattern("").is_err());
        assert!(check_pattern(&"a".repeat(MAX_PATTERN_CHARS + 1)).is_err());
        // Small to write, huge to compile.
        assert!(check_pattern(r"\w{1000}\w{1000}").is_err());
        assert!(check_pattern(r"\+44\d{10}").is_ok());
    }
}
