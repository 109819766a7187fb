//! The settings page's forms: what each shows (the value in effect, or what was typed when it was
//! refused), and what a submitted one asks for. A form that does not read is refused by field.

use serde::Deserialize;

use crate::config::{
    AnnouncementChoice, CallerPolicy, Choice, ClosedAction, DayHours, HoursChoice, NoKey, NotifyChoice, NotifyWhen,
    SettingName, Settings,
};

pub const DAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// Every field of every setting's form, as typed. A form posts the fields of its own setting;
/// `action` is `file` to put back the configuration file's value.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct SettingForm {
    pub action: String,
    pub policy: String,
    pub enabled: String,
    pub monday: String,
    pub tuesday: String,
    pub wednesday: String,
    pub thursday: String,
    pub friday: String,
    pub saturday: String,
    pub sunday: String,
    pub closed: String,
    pub when: String,
    pub from_follow_up: String,
    pub digest_hour: String,
    pub wait_secs: String,
    pub no_key: String,
}

/// A field that does not read, and why.
pub struct Misread {
    pub field: &'static str,
    pub message: String,
}

fn misread(field: &'static str, message: String) -> Misread {
    Misread { field, message }
}

/// A word the file would take for this field, as the file spells it.
fn word<T: serde::de::DeserializeOwned>(field: &'static str, typed: &str, words: &str) -> Result<T, Misread> {
    serde_json::from_value(serde_json::Value::String(typed.trim().to_owned()))
        .map_err(|_| misread(field, format!("{:?} is not one of {words}", typed.trim())))
}

fn yes_no(field: &'static str, typed: &str) -> Result<bool, Misread> {
    match typed.trim() {
        "yes" => Ok(true),
        "no" => Ok(false),
        other => Err(misread(field, format!("{other:?} is not yes or no"))),
    }
}

fn whole<T: std::str::FromStr>(field: &'static str, typed: &str) -> Result<T, Misread> {
    typed.trim().parse().map_err(|_| misread(field, format!("{:?} is not a whole number", typed.trim())))
}

impl SettingForm {
    fn day(&self, index: usize) -> &str {
        [&self.monday, &self.tuesday, &self.wednesday, &self.thursday, &self.friday, &self.saturday, &self.sunday]
            [index]
    }

    /// What the form asks `name` to be set to.
    pub fn choice(&self, name: SettingName) -> Result<Choice, Misread> {
        if self.action == "file" {
            return Ok(Choice::from_file(name));
        }
        let policy = || word::<CallerPolicy>("policy", &self.policy, "forward, screen, refuse");
        Ok(match name {
            SettingName::Withheld => Choice::Withheld(Some(policy()?)),
            SettingName::Unverified => Choice::Unverified(Some(policy()?)),
            SettingName::Hours => {
                let mut days: [DayHours; 7] = Default::default();
                for (index, field) in DAYS.into_iter().enumerate() {
                    days[index] =
                        DayHours::try_from(self.day(index).to_owned()).map_err(|message| misread(field, message))?;
                }
                Choice::Hours(Some(HoursChoice {
                    enabled: yes_no("enabled", &self.enabled)?,
                    days,
                    closed: word::<ClosedAction>("closed", &self.closed, "voicemail, message")?,
                }))
            }
            SettingName::Notify => Choice::Notify(Some(NotifyChoice {
                when: word::<NotifyWhen>("when", &self.when, "every, from, digest, off")?,
                from_follow_up: whole("from_follow_up", &self.from_follow_up)?,
                digest_hour: whole("digest_hour", &self.digest_hour)?,
            })),
            SettingName::Announcement => Choice::Announcement(Some(AnnouncementChoice {
                enabled: yes_no("enabled", &self.enabled)?,
                wait_secs: whole("wait_secs", &self.wait_secs)?,
                no_key: word::<NoKey>("no_key", &self.no_key, "connect, voicemail")?,
            })),
        })
    }

    /// The form of `name` filled in with its value in `settings`.
    pub fn showing(name: SettingName, settings: &Settings) -> Self {
        let yes_no = |on: bool| if on { "yes" } else { "no" }.to_owned();
        match name {
            SettingName::Withheld => Self { policy: spell(&settings.policy.withheld), ..Self::default() },
            SettingName::Unverified => Self { policy: spell(&settings.policy.unverified), ..Self::default() },
            SettingName::Hours => {
                let hours = &settings.hours;
                Self {
                    enabled: yes_no(hours.enabled),
                    monday: hours.monday.to_string(),
                    tuesday: hours.tuesday.to_string(),
                    wednesday: hours.wednesday.to_string(),
                    thursday: hours.thursday.to_string(),
                    friday: hours.friday.to_string(),
                    saturday: hours.saturday.to_string(),
                    sunday: hours.sunday.to_string(),
                    closed: spell(&hours.closed),
                    ..Self::default()
                }
            }
            SettingName::Notify => Self {
                when: spell(&settings.notify.when),
                from_follow_up: settings.notify.from_follow_up.to_string(),
                digest_hour: settings.notify.digest_hour.to_string(),
                ..Self::default()
            },
            SettingName::Announcement => Self {
                enabled: yes_no(settings.whisper.enabled),
                wait_secs: settings.whisper.wait_secs.to_string(),
                no_key: spell(&settings.whisper.no_key),
                ..Self::default()
            },
        }
    }
}

/// A value spelled as the file spells it (its serde name).
fn spell(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|value| value.as_str().map(str::to_owned)).unwrap_or_default()
}
