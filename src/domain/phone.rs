//! Phone numbers as saidno knows them: one E.164 type for every number that enters, and the caller's identity.

use std::fmt;
use std::str::FromStr;

use phonenumber::Mode;
use serde::{Deserialize, Serialize};

mod fast;

/// A phone number in E.164 form (`+442079460123`). The only way to get one is through a parser,
/// so every number the rest of the code sees has already been checked.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

/// The country a number written without `+` belongs to (ISO 3166 alpha-2, e.g. `GB`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region(phonenumber::country::Id);

/// Why text a person typed is not a phone number saidno will take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("no number given")]
    Empty,
    #[error("{0:?} contains letters; type the digits of the number")]
    Letters(String),
    #[error("{0:?} is not a phone number")]
    NotANumber(String),
    #[error("{input:?} ({e164}) is not a number in use according to the numbering plan; check it, or {ACCEPT_ANYWAY}")]
    NotValid { input: String, e164: String },
}

impl NumberError {
    /// The same error, about `input` rather than the text it was found in.
    fn of_input(self, input: &str) -> Self {
        match self {
            Self::Letters(_) => Self::Letters(input.to_owned()),
            Self::NotANumber(_) => Self::NotANumber(input.to_owned()),
            Self::NotValid { e164, .. } => Self::NotValid { input: input.to_owned(), e164 },
            Self::Empty => Self::Empty,
        }
    }
}

/// How a number found in national form is read back: through the fast path where it can decide,
/// or always through the crate (the reference).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reread {
    Fast,
    Full,
}

/// How a `NotValid` number is taken all the same: each way in (a flag, a checkbox) says so in its
/// own words beside this.
pub const ACCEPT_ANYWAY: &str = "accept it anyway if the range is new";

const MAX_E164_DIGITS: usize = 15;
const MIN_E164_DIGITS: usize = 7;

impl PhoneNumber {
    /// Parses a number a person typed: national form for `region`, or international with `+` or `00`.
    /// It must be valid per the numbering plan unless `force` is set, in which case a number of a
    /// plausible length for a known country code is enough.
    ///
    /// Text already in E.164 shape is decided without the `phonenumber` crate's parser, which is
    /// slow and takes a global lock (see `fast`); the verdict is that of [`Self::parse_typed_full`].
    /// So is a number written nationally in `region` in the plain way (`020 7946 0123` in GB): its
    /// E.164 form is found as the crate would find it (`fast::parse_national`). Any other number
    /// written nationally goes through the crate's parser once, to find its E.164 form; that form
    /// is then decided by the fast path too, rather than parsed again and matched.
    pub fn parse_typed(input: &str, region: Region, force: bool) -> Result<Self, NumberError> {
        let trimmed = input.trim();
        fast::parse(trimmed, force)
            .or_else(|| fast::parse_national(trimmed, region.code(), force))
            .unwrap_or_else(|| Self::parse_with(trimmed, region, force, Reread::Fast))
    }

    /// [`Self::parse_typed`] with every input through the `phonenumber` crate: the reference the
    /// fast path is checked against (by the tests and the `numbers` fuzz target).
    pub fn parse_typed_full(input: &str, region: Region, force: bool) -> Result<Self, NumberError> {
        Self::parse_with(input.trim(), region, force, Reread::Full)
    }

    fn parse_with(trimmed: &str, region: Region, force: bool, reread: Reread) -> Result<Self, NumberError> {
        if trimmed.is_empty() {
            return Err(NumberError::Empty);
        }
        // The parser reads letters as keypad digits ("0800 FLOWERS"); a typo must not become a number.
        if trimmed.chars().any(char::is_alphabetic) {
            return Err(NumberError::Letters(trimmed.to_owned()));
        }
        if !trimmed.chars().all(|c| c.is_ascii_digit() || " +-.()/\u{a0}".contains(c)) {
            return Err(NumberError::NotANumber(trimmed.to_owned()));
        }
        // With a default region, an international number can be re-read as national: give none.
        let country = (!trimmed.starts_with('+')).then_some(region.0);
        let parsed = phonenumber::parse(country, trimmed).map_err(|_| NumberError::NotANumber(trimmed.to_owned()))?;
        let e164 = parsed.format().mode(Mode::E164).to_string();
        let number = Self::from_e164(&e164).ok_or_else(|| NumberError::NotANumber(trimmed.to_owned()))?;
        // What is kept must read back as itself. A trunk zero the parser left after the country
        // code ("00021 79" in DE gives +4902179) makes a number no caller can ever have. Text
        // typed in E.164 already was read exactly as it would be read back.
        let parsed = if trimmed == e164 {
            parsed
        } else if let Some(verdict) = (reread == Reread::Fast).then(|| fast::parse(&e164, force)).flatten() {
            // The fast path answers only where the crate would read `e164` back as itself, so its
            // verdict on `e164` is this one's, told of the text as typed.
            return verdict.map_err(|error| error.of_input(trimmed));
        } else {
            phonenumber::parse(None, &e164)
                .ok()
                .filter(|reread| reread.format().mode(Mode::E164).to_string() == e164)
                .ok_or_else(|| NumberError::NotANumber(trimmed.to_owned()))?
        };
        // With force a possible number is enough, and telling that takes no pattern matching;
        // validity (matching the numbering plan's patterns) is the costly test.
        if (force && is_possible(&parsed)) || parsed.is_valid() {
            Ok(number)
        } else if force {
            Err(NumberError::NotANumber(trimmed.to_owned()))
        } else {
            Err(NumberError::NotValid { input: trimmed.to_owned(), e164 })
        }
    }

    /// Takes a number in E.164 form as a provider sends it. Numbering metadata lags new ranges,
    /// so only the shape is checked: a call must never fail because a range is newer than saidno.
    pub fn from_e164(text: &str) -> Option<Self> {
        let digits = text.strip_prefix('+')?;
        let shape_ok = (MIN_E164_DIGITS..=MAX_E164_DIGITS).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        shape_ok.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number's digits as an integer. E.164 has at most 15 digits and none leading with 0,
    /// so the integer is unique to the number, fits in 50 bits, and orders numbers as `from_key`
    /// reads them back.
    pub fn key(&self) -> u64 {
        self.0.bytes().skip(1).fold(0, |key, digit| key * 10 + u64::from(digit - b'0'))
    }

    /// The number whose `key` this is, if it is one.
    pub fn from_key(key: u64) -> Option<Self> {
        Self::from_e164(&format!("+{key}"))
    }

    /// The number as someone in `region` dials it: "020 7946 0123" for a number of their own
    /// country, "+1 415-555-0100" for one abroad; E.164 when the numbering plan has no format for it.
    pub fn as_dialled_in(&self, region: Region) -> String {
        let Ok(parsed) = phonenumber::parse(None, &self.0) else { return self.0.clone() };
        let mode = if parsed.country().id() == Some(region.0) { Mode::National } else { Mode::International };
        parsed.format().mode(mode).to_string()
    }

    /// The number as people in its own country write it ("020 7946 0123"), or E.164 when the
    /// numbering plan has no national format for it.
    pub fn national(&self) -> String {
        phonenumber::parse(None, &self.0)
            .map(|parsed| parsed.format().mode(Mode::National).to_string())
            .unwrap_or_else(|_| self.0.clone())
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::from_e164(&text).ok_or_else(|| format!("{text:?} is not an E.164 number (+ and 7 to 15 digits)"))
    }
}

impl From<PhoneNumber> for String {
    fn from(number: PhoneNumber) -> Self {
        number.0
    }
}

impl FromStr for Region {
    type Err = String;
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        phonenumber::country::Id::from_str(&code.trim().to_ascii_uppercase())
            .map(Region)
            .map_err(|_| format!("{code:?} is not a country code saidno knows (use ISO codes such as GB or US)"))
    }
}

/// "Possible": a known country code and a national number of a length that country uses. Weak on
/// purpose (in GB, 12345 is possible), which is why it is only enough when the user insists.
fn is_possible(parsed: &phonenumber::PhoneNumber) -> bool {
    is_possible_length(parsed.code().value(), parsed.national().to_string().len())
}

/// Whether a national number of `length` digits is possible for the country calling code `code`.
fn is_possible_length(code: u16, length: usize) -> bool {
    use phonenumber::Type;
    const DIALLABLE: [Type; 9] = [
        Type::FixedLine,
        Type::Mobile,
        Type::TollFree,
        Type::PremiumRate,
        Type::SharedCost,
        Type::PersonalNumber,
        Type::Voip,
        Type::Pager,
        Type::Uan,
    ];
    let regions = phonenumber::metadata::DATABASE.by_code(&code).unwrap_or_default();
    regions.iter().any(|region| {
        DIALLABLE
            .iter()
            .filter_map(|&kind| region.descriptors().get(kind))
            .any(|descriptor| descriptor.possible_length().iter().any(|&l| usize::from(l) == length))
    })
}

impl Region {
    /// The ISO code the region was given by: `GB`, `US`.
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }

    /// Turns the digits of a range as a person types it (`01632 9601`, `+44 1632 9601`, `00234`)
    /// into the E.164 prefix it stands for (`+4416329601`, `+234`).
    pub fn range_prefix(&self, typed: &str) -> Result<String, NumberError> {
        let trimmed = typed.trim();
        if trimmed.chars().any(char::is_alphabetic) {
            return Err(NumberError::Letters(trimmed.to_owned()));
        }
        let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
        let shaped = trimmed.chars().all(|c| c.is_ascii_digit() || " +-.()".contains(c));
        let international =
            if trimmed.starts_with('+') { Some(digits.clone()) } else { digits.strip_prefix("00").map(str::to_owned) };
        let prefix = match international {
            Some(digits) => digits,
            None => {
                let metadata = phonenumber::metadata::DATABASE
                    .by_id(self.0.as_ref())
                    .ok_or_else(|| NumberError::NotANumber(trimmed.to_owned()))?;
                let trunk = metadata.national_prefix().unwrap_or_default();
                let national = digits.strip_prefix(trunk).unwrap_or(&digits);
                format!("{}{national}", metadata.country_code())
            }
        };
        if !shaped || prefix.is_empty() || prefix.len() > MAX_E164_DIGITS || prefix.starts_with('0') {
            return Err(NumberError::NotANumber(trimmed.to_owned()));
        }
        Ok(format!("+{prefix}"))
    }
}

/// Loads the numbering metadata now: the first parse takes tens of milliseconds, and that
/// should be paid at start-up rather than by the first caller or command.
pub fn warm_up() {
    let _ = phonenumber::parse(None, "+442079460123");
}

/// Who is calling, as far as the provider tells us.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum CallerId {
    Number(PhoneNumber),
    /// The caller withheld their number (or the network did not pass it on).
    Withheld,
    /// Something that is not a phone number, such as a SIP address or a browser client.
    Other(String),
}

impl CallerId {
    /// The caller as the log keeps it (E.164, `withheld`, or other text), or as a provider sent it
    /// once the provider has turned its own spellings of a withheld number into `withheld`.
    pub fn from_text(from: &str) -> Self {
        let from = from.trim();
        if from.is_empty() || from == "withheld" {
            return Self::Withheld;
        }
        match PhoneNumber::from_e164(from) {
            Some(number) => Self::Number(number),
            None => Self::Other(from.to_owned()),
        }
    }

    /// A caller as sent by a provider that writes numbers as international digits without the
    /// `+` (Plivo, Vonage). Whatever is not a number is a withheld caller: neither provider
    /// documents its spelling of one.
    pub fn from_international_digits(from: &str) -> Self {
        let from = from.trim();
        let number = match from.strip_prefix('+') {
            Some(_) => PhoneNumber::from_e164(from),
            None => PhoneNumber::from_e164(&format!("+{from}")),
        };
        number.map_or(Self::Withheld, Self::Number)
    }

    pub fn number(&self) -> Option<&PhoneNumber> {
        match self {
            Self::Number(number) => Some(number),
            _ => None,
        }
    }
}

impl fmt::Display for CallerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(number) => number.fmt(f),
            Self::Withheld => f.write_str("withheld"),
            Self::Other(text) => f.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gb() -> Region {
        "GB".parse().unwrap()
    }

    #[test]
    fn a_national_number_becomes_e164_for_its_region() {
        let number = PhoneNumber::parse_typed("020 7946 0123", gb(), false).unwrap();
        assert_eq!(number.as_str(), "+442079460123");
    }

    #[test]
    fn an_international_number_keeps_its_own_country_whatever_the_region() {
        let us: Region = "US".parse().unwrap();
        let number = PhoneNumber::parse_typed("+33 1 42 76 49 78", us, false).unwrap();
        assert_eq!(number.as_str(), "+33142764978");
    }

    #[test]
    fn the_international_prefix_00_is_understood() {
        let number = PhoneNumber::parse_typed("0033 1 42 76 49 78", gb(), false).unwrap();
        assert_eq!(number.as_str(), "+33142764978");
    }

    #[test]
    fn letters_are_refused_rather_than_read_as_keypad_digits() {
        let err = PhoneNumber::parse_typed("0800 FLOWERS", gb(), false).unwrap_err();
        assert!(matches!(err, NumberError::Letters(_)));
    }

    #[test]
    fn a_number_outside_the_numbering_plan_needs_force() {
        // 01632 960xxx is reserved for drama: possible in length, but not a number in use.
        let err = PhoneNumber::parse_typed("01632 960123", gb(), false).unwrap_err();
        assert!(matches!(err, NumberError::NotValid { .. }), "{err:?}");
        let forced = PhoneNumber::parse_typed("01632 960123", gb(), true).unwrap();
        assert_eq!(forced.as_str(), "+441632960123");
    }

    #[test]
    fn a_short_code_is_not_a_number_even_with_force() {
        assert!(PhoneNumber::parse_typed("12345", gb(), false).is_err());
        assert!(PhoneNumber::parse_typed("123", gb(), true).is_err());
    }

    #[test]
    fn a_number_that_would_not_read_back_as_itself_is_refused_even_with_force() {
        let de: Region = "DE".parse().unwrap();
        assert!(matches!(PhoneNumber::parse_typed("00021 79", de, true), Err(NumberError::NotANumber(_))));
        assert_eq!(PhoneNumber::parse_typed("030 901820", de, false).unwrap().as_str(), "+4930901820");
    }

    #[test]
    fn empty_and_symbol_input_is_refused() {
        assert_eq!(PhoneNumber::parse_typed("  ", gb(), false), Err(NumberError::Empty));
        assert!(matches!(
            PhoneNumber::parse_typed("+44 20 7946 0123; drop", gb(), false),
            Err(NumberError::Letters(_))
        ));
        assert!(matches!(PhoneNumber::parse_typed("+44#2079460123", gb(), false), Err(NumberError::NotANumber(_))));
    }

    #[test]
    fn provider_numbers_are_taken_by_shape_only() {
        assert!(PhoneNumber::from_e164("+441632960123").is_some());
        assert!(PhoneNumber::from_e164("441632960123").is_none());
        let digits = CallerId::from_international_digits("441632960123");
        assert_eq!(digits.number().map(PhoneNumber::as_str), Some("+441632960123"));
        for withheld in ["", "anonymous", "sip:anonymous@phone.plivo.com", "266696687x", "0"] {
            assert_eq!(CallerId::from_international_digits(withheld), CallerId::Withheld, "{withheld:?}");
        }
        assert!(PhoneNumber::from_e164("+44 1632").is_none());
        assert!(PhoneNumber::from_e164("+0123456789").is_none());
        assert!(PhoneNumber::from_e164("+1234567890123456").is_none());
    }

    #[test]
    fn the_log_s_own_spellings_read_back_as_the_caller_they_were() {
        for from in ["withheld", "", "  "] {
            assert_eq!(CallerId::from_text(from), CallerId::Withheld, "{from:?}");
        }
        assert_eq!(CallerId::from_text("+442079460123").to_string(), "+442079460123");
        assert_eq!(CallerId::from_text("sip:alice@example.com"), CallerId::Other("sip:alice@example.com".into()));
    }

    #[test]
    fn ranges_are_written_national_or_international() {
        assert_eq!(gb().range_prefix("01632 9601").unwrap(), "+4416329601");
        assert_eq!(gb().range_prefix("+44 1632 9601").unwrap(), "+4416329601");
        assert_eq!(gb().range_prefix("+234").unwrap(), "+234");
        assert_eq!(gb().range_prefix("00234").unwrap(), "+234");
        let us: Region = "US".parse().unwrap();
        assert_eq!(us.range_prefix("(800) 555").unwrap(), "+1800555");
        assert!(gb().range_prefix("0800 FLOWER").is_err());
        assert!(gb().range_prefix("+").is_err());
        assert!(gb().range_prefix("+44#").is_err());
    }

    #[test]
    fn unknown_regions_are_refused() {
        assert!("ZZ".parse::<Region>().is_err());
        assert!("gb".parse::<Region>().is_ok());
    }
}
