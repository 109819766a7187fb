//! A decline: "we told this company no", with when, by whom, what it covers (a number, a range,
//! a pattern, a caller name), until when, and how the next call is refused.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::PhoneNumber;

mod batch_json;

/// How a refused caller is answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefusalMode {
    /// Answer, say who declined them and when, ask to be removed, hang up.
    #[default]
    Message,
    /// Reject unanswered with a busy signal: not answered, so not billed.
    Reject,
}

/// Where the owner said no.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    CommandLine,
    Api,
    Web,
    Phone,
    Text,
}

/// What a decline covers. Serialised as one field named after the kind: `{"number": "+44..."}`,
/// `{"prefix": "+4416329601"}`, `{"pattern": "\\+23480\\d{8}"}`, `{"caller_name": "V\\d{15}"}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// One number.
    Number(PhoneNumber),
    /// Every number that starts with these digits (`+234` is a whole country).
    Prefix(String),
    /// Every number whose E.164 form matches this regular expression in full.
    Pattern(String),
    /// Every caller whose caller-name lookup result matches this regular expression in full.
    CallerName(String),
}

/// How a `Target` reads in JSON, for the OpenAPI description: exactly one of the fields is set.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TargetFields {
    number: Option<String>,
    prefix: Option<String>,
    pattern: Option<String>,
    caller_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "StoredDecline")]
pub struct Decline {
    #[serde(flatten)]
    #[schema(inline, value_type = TargetFields)]
    pub target: Target,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub declined_at: Timestamp,
    #[serde(default)]
    pub declined_by: Option<String>,
    #[serde(default)]
    pub channel: Channel,
    /// `None` follows the configured default, so changing the default changes every such decline.
    #[serde(default)]
    pub mode: Option<RefusalMode>,
    /// "Please do not call before March 2027": the decline lapses on its own at this moment.
    /// `None` is a plain no: "remove us from your list".
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub not_before: Option<Timestamp>,
    /// Offer "press 1 if you are calling about an existing order"; `None` follows the config.
    #[serde(default)]
    pub escape_hatch: Option<bool>,
    /// The call the no was given on (its id): the one announced when 9 was pressed, or the row
    /// of the log it was given from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_call: Option<String>,
}

/// A decline as it reads in JSON, with its target's field beside the others. Read through this
/// rather than through `#[serde(flatten)]`, which buffers every field of every record first and
/// made reading a million declines take seconds.
#[derive(Deserialize)]
struct StoredDecline {
    #[serde(default)]
    number: Option<PhoneNumber>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(default)]
    caller_name: Option<String>,
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    note: Option<String>,
    declined_at: Timestamp,
    #[serde(default)]
    declined_by: Option<String>,
    #[serde(default)]
    channel: Channel,
    #[serde(default)]
    mode: Option<RefusalMode>,
    #[serde(default)]
    not_before: Option<Timestamp>,
    #[serde(default)]
    escape_hatch: Option<bool>,
    #[serde(default)]
    on_call: Option<String>,
}

impl TryFrom<StoredDecline> for Decline {
    type Error = &'static str;
    fn try_from(stored: StoredDecline) -> Result<Self, Self::Error> {
        let target = match (stored.number, stored.prefix, stored.pattern, stored.caller_name) {
            (Some(number), None, None, None) => Target::Number(number),
            (None, Some(prefix), None, None) => Target::Prefix(prefix),
            (None, None, Some(pattern), None) => Target::Pattern(pattern),
            (None, None, None, Some(pattern)) => Target::CallerName(pattern),
            _ => return Err("a decline has exactly one of number, prefix, pattern and caller_name"),
        };
        Ok(Self {
            target,
            company: stored.company,
            note: stored.note,
            declined_at: stored.declined_at,
            declined_by: stored.declined_by,
            channel: stored.channel,
            mode: stored.mode,
            not_before: stored.not_before,
            escape_hatch: stored.escape_hatch,
            on_call: stored.on_call,
        })
    }
}

/// A decline less what it covers: what the numbers of an imported list share, kept once for all
/// of them in memory and on disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeclineTerms {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub declined_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declined_by: Option<String>,
    #[serde(default)]
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<RefusalMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escape_hatch: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_call: Option<String>,
}

/// Many declines at once, as an import gives them: each number as its key (`PhoneNumber::key`)
/// with the terms it shares with others kept once, and declines of ranges and patterns whole. A
/// million numbers take 16 bytes each here rather than a `Decline` each.
#[derive(Clone, Debug, Default)]
pub struct DeclineBatch {
    terms: Vec<DeclineTerms>,
    numbers: Vec<(u64, u32)>,
    rules: Vec<Decline>,
    /// Where each set of terms is in `terms`, while the batch is filled (foldhash: an import
    /// looks up every row's terms here).
    known: foldhash::HashMap<DeclineTerms, u32>,
}

impl DeclineBatch {
    pub fn push(&mut self, decline: Decline) {
        let Target::Number(number) = &decline.target else {
            self.rules.push(decline);
            return;
        };
        let key = number.key();
        // The decline's own fields become the terms: a row's text is not copied unless its terms are new.
        let shared = decline.into_terms();
        let index = match self.known.get(&shared) {
            Some(&index) => index,
            None => {
                let index =
                    u32::try_from(self.terms.len()).expect("fewer than 4 billion distinct declines in one batch");
                self.terms.push(shared.clone());
                self.known.insert(shared, index);
                index
            }
        };
        self.numbers.push((key, index));
    }

    pub fn len(&self) -> usize {
        self.numbers.len() + self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each number's key and terms, in the order they were pushed.
    pub fn numbers(&self) -> impl Iterator<Item = (u64, &DeclineTerms)> {
        self.numbers.iter().map(|&(key, index)| (key, &self.terms[index as usize]))
    }

    /// Each number's key and the index of its terms in `terms`.
    pub fn keyed(&self) -> impl Iterator<Item = (u64, usize)> {
        self.numbers.iter().map(|&(key, index)| (key, index as usize))
    }

    /// Each distinct set of terms of the numbers.
    pub fn terms(&self) -> &[DeclineTerms] {
        &self.terms
    }

    pub fn rules(&self) -> &[Decline] {
        &self.rules
    }

    /// Renames companies in place, for every number and rule that names one.
    pub fn rename_companies(&mut self, mut rename: impl FnMut(&str) -> Option<String>) {
        // Terms renamed alike may become equal; they stay apart, which changes nothing. The map
        // of terms is given up rather than cleared, so its memory goes before the batch is saved.
        self.known = foldhash::HashMap::default();
        let companies = self.terms.iter_mut().map(|terms| &mut terms.company);
        for company in companies.chain(self.rules.iter_mut().map(|rule| &mut rule.company)) {
            if let Some(name) = company.as_deref().and_then(&mut rename) {
                *company = Some(name);
            }
        }
    }

    /// Every decline whole.
    pub fn declines(&self) -> impl Iterator<Item = Decline> {
        let numbers = self.numbers().map(|(key, terms)| {
            let number = PhoneNumber::from_key(key).expect("a batch holds the keys of numbers");
            Decline::with_terms(Target::Number(number), terms)
        });
        numbers.chain(self.rules.iter().cloned())
    }
}

impl FromIterator<Decline> for DeclineBatch {
    fn from_iter<I: IntoIterator<Item = Decline>>(declines: I) -> Self {
        let mut batch = Self::default();
        declines.into_iter().for_each(|decline| batch.push(decline));
        batch
    }
}

/// How often a declined party has called since it was told no.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FollowUps {
    pub count: u32,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_at: Option<Timestamp>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_at: Option<Timestamp>,
}

impl FollowUps {
    /// Counts one more call, at `at`.
    pub fn record(&mut self, at: Timestamp) {
        self.count += 1;
        self.first_at.get_or_insert(at);
        self.last_at = Some(self.last_at.map_or(at, |last| last.max(at)));
    }

    /// Takes in counts kept elsewhere (by another process on the same database): the higher
    /// count, the earlier first call and the later last one.
    pub fn merge(&mut self, other: &FollowUps) {
        self.count = self.count.max(other.count);
        self.first_at = match (self.first_at, other.first_at) {
            (Some(mine), Some(theirs)) => Some(mine.min(theirs)),
            (mine, theirs) => mine.or(theirs),
        };
        self.last_at = self.last_at.max(other.last_at);
    }

    /// Takes in a call already numbered: `follow_up` is its number since the decline.
    pub fn numbered(&mut self, follow_up: u32, at: Timestamp) {
        self.count = self.count.max(follow_up);
        self.first_at = Some(self.first_at.map_or(at, |first| first.min(at)));
        self.last_at = Some(self.last_at.map_or(at, |last| last.max(at)));
    }
}

/// A company's identity: case and spacing do not make a new company.
pub fn company_key(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Who was told no, for counting follow-ups: the company when the decline names one (all its
/// numbers count together), else the number itself.
pub fn party_key(company: Option<&str>, number: &str) -> String {
    match company {
        Some(company) => format!("company:{}", company_key(company)),
        None => format!("number:{number}"),
    }
}

impl Decline {
    /// A plain no to `target`, said at `declined_at`: no company or note, over the command line,
    /// refused in the configured way, for good.
    pub fn new(target: Target, declined_at: Timestamp) -> Self {
        Self {
            target,
            company: None,
            note: None,
            declined_at,
            declined_by: None,
            channel: Channel::CommandLine,
            mode: None,
            not_before: None,
            escape_hatch: None,
            on_call: None,
        }
    }

    /// Everything but the target, taken from the decline rather than copied.
    pub fn into_terms(self) -> DeclineTerms {
        DeclineTerms {
            company: self.company,
            note: self.note,
            declined_at: self.declined_at,
            declined_by: self.declined_by,
            channel: self.channel,
            mode: self.mode,
            not_before: self.not_before,
            escape_hatch: self.escape_hatch,
            on_call: self.on_call,
        }
    }

    /// Everything but the target.
    pub fn terms(&self) -> DeclineTerms {
        DeclineTerms {
            company: self.company.clone(),
            note: self.note.clone(),
            declined_at: self.declined_at,
            declined_by: self.declined_by.clone(),
            channel: self.channel,
            mode: self.mode,
            not_before: self.not_before,
            escape_hatch: self.escape_hatch,
            on_call: self.on_call.clone(),
        }
    }

    pub fn with_terms(target: Target, terms: &DeclineTerms) -> Self {
        let terms = terms.clone();
        Self {
            target,
            company: terms.company,
            note: terms.note,
            declined_at: terms.declined_at,
            declined_by: terms.declined_by,
            channel: terms.channel,
            mode: terms.mode,
            not_before: terms.not_before,
            escape_hatch: terms.escape_hatch,
            on_call: terms.on_call,
        }
    }

    /// Who follow-ups count toward: the company, else the number, range or pattern itself.
    pub fn party(&self) -> String {
        party_key(self.company.as_deref(), &self.target.to_string())
    }

    /// Whether the decline still holds at `now`: a not-before decline lapses at its date.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.not_before.is_none_or(|date| now < date)
    }
}

impl Target {
    /// The storage key within its kind; a number's key is the number itself.
    /// The target as the owner names it to remove or change it: a number, a range ending in `*`,
    /// `pattern:REGEX` or `caller-name:REGEX` (what `Service::decline_on_record` reads).
    pub fn as_typed(&self) -> String {
        match self {
            Self::Number(number) => number.to_string(),
            Self::Prefix(prefix) => format!("{prefix}*"),
            Self::Pattern(_) | Self::CallerName(_) => self.key(),
        }
    }

    pub fn key(&self) -> String {
        match self {
            Self::Number(number) => number.to_string(),
            Self::Prefix(prefix) => format!("prefix:{prefix}"),
            Self::Pattern(pattern) => format!("pattern:{pattern}"),
            Self::CallerName(pattern) => format!("caller-name:{pattern}"),
        }
    }

    pub fn number(&self) -> Option<&PhoneNumber> {
        match self {
            Self::Number(number) => Some(number),
            _ => None,
        }
    }

    /// How specific the target is: an exact number beats a range, a longer range a shorter one,
    /// and any range a pattern.
    pub fn specificity(&self) -> u32 {
        match self {
            Self::Number(_) => 100,
            Self::Prefix(prefix) => 50 + prefix.len() as u32,
            Self::Pattern(_) => 20,
            Self::CallerName(_) => 10,
        }
    }
}

/// As a person reads it: `+442079460123`, `+4416329601*`, `pattern /.../`, `caller name /.../`.
impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Number(number) => write!(f, "{number}"),
            Self::Prefix(prefix) => write!(f, "{prefix}*"),
            Self::Pattern(pattern) => write!(f, "pattern /{pattern}/"),
            Self::CallerName(pattern) => write!(f, "caller name /{pattern}/"),
        }
    }
}

impl std::fmt::Display for RefusalMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Message => "message",
            Self::Reject => "reject",
        })
    }
}

impl std::str::FromStr for RefusalMode {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "message" => Ok(Self::Message),
            "reject" | "busy" | "silent" => Ok(Self::Reject),
            other => Err(format!("{other:?} is not a refusal mode (message or reject)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_another_process_raise_the_count_and_widen_the_span_but_never_lower_them() {
        let at = |text: &str| Some(text.parse::<Timestamp>().unwrap());
        let mut here =
            FollowUps { count: 3, first_at: at("2026-11-03T10:00:00Z"), last_at: at("2026-11-03T12:00:00Z") };
        here.merge(&FollowUps { count: 2, first_at: at("2026-11-03T11:00:00Z"), last_at: at("2026-11-03T11:00:00Z") });
        assert_eq!(here.count, 3, "an older count from elsewhere lowers nothing");
        here.merge(&FollowUps { count: 5, first_at: at("2026-11-03T09:00:00Z"), last_at: at("2026-11-03T13:00:00Z") });
        assert_eq!(
            here,
            FollowUps { count: 5, first_at: at("2026-11-03T09:00:00Z"), last_at: at("2026-11-03T13:00:00Z") }
        );
        let mut new = FollowUps::default();
        new.merge(&here);
        assert_eq!(new, here, "a party first heard of from elsewhere");
    }

    fn decline(target: Target) -> Decline {
        Decline::new(target, Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn a_batch_keeps_shared_terms_once_and_gives_every_decline_back_renamed() {
        let of = |number: &str, company: Option<&str>| Decline {
            company: company.map(str::to_owned),
            ..decline(Target::Number(PhoneNumber::from_e164(number).unwrap()))
        };
        let rule = Decline { company: Some("acme".into()), ..decline(Target::Prefix("+4416329601".into())) };
        let declines =
            vec![of("+442079460001", Some("acme")), of("+442079460002", None), of("+442079460003", Some("acme")), rule];
        let mut batch: DeclineBatch = declines.iter().cloned().collect();
        assert_eq!((batch.len(), batch.terms().len(), batch.rules().len()), (4, 2, 1));
        assert_eq!(batch.declines().collect::<Vec<_>>(), declines, "in the order pushed, numbers first");

        batch.rename_companies(|company| (company == "acme").then(|| "Acme Ltd".to_owned()));
        let companies: Vec<Option<String>> = batch.declines().map(|decline| decline.company).collect();
        let acme = Some("Acme Ltd".to_owned());
        assert_eq!(companies, [acme.clone(), None, acme.clone(), acme]);
    }

    #[test]
    fn each_target_serialises_as_one_field_named_after_its_kind() {
        let number = decline(Target::Number(PhoneNumber::from_e164("+442079460123").unwrap()));
        let json = serde_json::to_value(&number).unwrap();
        assert_eq!(json["number"], "+442079460123");
        assert_eq!(serde_json::from_value::<Decline>(json).unwrap(), number);
        let range = decline(Target::Prefix("+4416329601".into()));
        let json = serde_json::to_value(&range).unwrap();
        assert_eq!(json["prefix"], "+4416329601");
        assert!(json.get("number").is_none());
        assert_eq!(serde_json::from_value::<Decline>(json).unwrap(), range);
        let name = decline(Target::CallerName("V\\d{15}".into()));
        assert_eq!(serde_json::from_value::<Decline>(serde_json::to_value(&name).unwrap()).unwrap(), name);
    }

    #[test]
    fn a_not_before_decline_lapses_at_its_date() {
        let date: Timestamp = "2027-03-01T00:00:00Z".parse().unwrap();
        let decline = Decline { not_before: Some(date), ..decline(Target::Prefix("+44".into())) };
        assert!(decline.is_active("2027-02-28T23:59:59Z".parse().unwrap()));
        assert!(!decline.is_active(date));
    }

    #[test]
    fn more_specific_targets_rank_higher() {
        let number = Target::Number(PhoneNumber::from_e164("+442079460123").unwrap());
        let long = Target::Prefix("+4420794601".into());
        let short = Target::Prefix("+44".into());
        let pattern = Target::Pattern("\\+44.*".into());
        assert!(number.specificity() > long.specificity());
        assert!(long.specificity() > short.specificity());
        assert!(short.specificity() > pattern.specificity());
    }
}
