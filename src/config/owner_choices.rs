//! The settings the owner changes from the web page, kept in the store and laid over the
//! configuration file's values. `effective` is the one place the two are combined: the call path,
//! `/check`, the announcement and the texts all read what it gives.

use serde::{Deserialize, Serialize};

use super::{CallerPolicy, ClosedAction, DayHours, NoKey, NotifyWhen, Settings};
use crate::domain::SettingChange;

/// One of the owner's settings with its new value; `None` puts back the configuration file's.
/// Stored as written, so its names are part of the store's format.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "setting", content = "value", rename_all = "snake_case")]
pub enum Choice {
    Withheld(Option<CallerPolicy>),
    Unverified(Option<CallerPolicy>),
    Hours(Option<HoursChoice>),
    Notify(Option<NotifyChoice>),
    Announcement(Option<AnnouncementChoice>),
}

/// Which setting a `Choice` is of, as the page's addresses name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingName {
    Withheld,
    Unverified,
    Hours,
    Notify,
    Announcement,
}

impl SettingName {
    pub const ALL: [SettingName; 5] = [Self::Withheld, Self::Unverified, Self::Hours, Self::Notify, Self::Announcement];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Withheld => "withheld",
            Self::Unverified => "unverified",
            Self::Hours => "hours",
            Self::Notify => "notify",
            Self::Announcement => "announcement",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|name| name.as_str() == text)
    }

    /// Where the configuration file keeps it, and the environment variable that overrides that.
    pub fn file_keys(self) -> (&'static str, &'static str) {
        match self {
            Self::Withheld => ("[policy] withheld", "SAIDNO_POLICY__WITHHELD"),
            Self::Unverified => ("[policy] unverified", "SAIDNO_POLICY__UNVERIFIED"),
            Self::Hours => ("[hours] enabled, monday ... sunday, closed", "SAIDNO_HOURS__ENABLED"),
            Self::Notify => ("[notify] when, from_follow_up, digest_hour", "SAIDNO_NOTIFY__WHEN"),
            Self::Announcement => ("[whisper] enabled, wait_secs, no_key", "SAIDNO_WHISPER__ENABLED"),
        }
    }
}

/// Business hours as the page sets them: on or off, each day's opening, and what happens when
/// closed. The closed message stays the file's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoursChoice {
    pub enabled: bool,
    /// Monday first.
    pub days: [DayHours; 7],
    pub closed: ClosedAction,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyChoice {
    pub when: NotifyWhen,
    pub from_follow_up: u32,
    pub digest_hour: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncementChoice {
    pub enabled: bool,
    pub wait_secs: u32,
    pub no_key: NoKey,
}

/// A setting as last changed: its value (`None`: the file's) and who changed it when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved<T> {
    pub value: Option<T>,
    pub changed: SettingChange,
}

/// Every setting the owner has changed; one never changed is absent and follows the file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerChoices {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<Saved<CallerPolicy>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unverified: Option<Saved<CallerPolicy>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<Saved<HoursChoice>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<Saved<NotifyChoice>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announcement: Option<Saved<AnnouncementChoice>>,
}

impl Choice {
    pub fn name(&self) -> SettingName {
        match self {
            Self::Withheld(_) => SettingName::Withheld,
            Self::Unverified(_) => SettingName::Unverified,
            Self::Hours(_) => SettingName::Hours,
            Self::Notify(_) => SettingName::Notify,
            Self::Announcement(_) => SettingName::Announcement,
        }
    }

    /// The same setting put back to the file's value.
    pub fn from_file(name: SettingName) -> Self {
        match name {
            SettingName::Withheld => Self::Withheld(None),
            SettingName::Unverified => Self::Unverified(None),
            SettingName::Hours => Self::Hours(None),
            SettingName::Notify => Self::Notify(None),
            SettingName::Announcement => Self::Announcement(None),
        }
    }

    pub fn is_from_file(&self) -> bool {
        *self == Self::from_file(self.name())
    }
}

/// A setting's whole state: what it is set to and who changed it when, or, with `changed` `None`,
/// never changed. What an Undo puts back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingState {
    pub choice: Choice,
    pub changed: Option<SettingChange>,
}

impl OwnerChoices {
    /// Sets one setting as `state` has it.
    pub fn put(&mut self, state: &SettingState) {
        fn saved<T: Clone>(value: &Option<T>, changed: Option<SettingChange>) -> Option<Saved<T>> {
            changed.map(|changed| Saved { value: value.clone(), changed })
        }
        let changed = state.changed;
        match &state.choice {
            Choice::Withheld(value) => self.withheld = saved(value, changed),
            Choice::Unverified(value) => self.unverified = saved(value, changed),
            Choice::Hours(value) => self.hours = saved(value, changed),
            Choice::Notify(value) => self.notify = saved(value, changed),
            Choice::Announcement(value) => self.announcement = saved(value, changed),
        }
    }

    /// One setting's state now, as `put` would set it again.
    pub fn state_of(&self, name: SettingName) -> SettingState {
        fn state<T: Clone>(saved: &Option<Saved<T>>, choice: fn(Option<T>) -> Choice) -> SettingState {
            match saved {
                Some(saved) => SettingState { choice: choice(saved.value.clone()), changed: Some(saved.changed) },
                None => SettingState { choice: choice(None), changed: None },
            }
        }
        match name {
            SettingName::Withheld => state(&self.withheld, Choice::Withheld),
            SettingName::Unverified => state(&self.unverified, Choice::Unverified),
            SettingName::Hours => state(&self.hours, Choice::Hours),
            SettingName::Notify => state(&self.notify, Choice::Notify),
            SettingName::Announcement => state(&self.announcement, Choice::Announcement),
        }
    }

    /// The file's settings with the owner's choices laid over them.
    pub fn effective(&self, file: &Settings) -> Settings {
        let mut settings = file.clone();
        self.lay_over(&mut settings);
        settings
    }

    fn lay_over(&self, settings: &mut Settings) {
        let value = |saved: &Option<Saved<_>>| saved.as_ref().and_then(|saved: &Saved<_>| saved.value);
        if let Some(policy) = value(&self.withheld) {
            settings.policy.withheld = policy;
        }
        if let Some(policy) = value(&self.unverified) {
            settings.policy.unverified = policy;
        }
        if let Some(HoursChoice { enabled, days, closed }) = self.hours.as_ref().and_then(|saved| saved.value.clone()) {
            let hours = &mut settings.hours;
            hours.enabled = enabled;
            hours.closed = closed;
            let [monday, tuesday, wednesday, thursday, friday, saturday, sunday] = days;
            (hours.monday, hours.tuesday, hours.wednesday, hours.thursday) = (monday, tuesday, wednesday, thursday);
            (hours.friday, hours.saturday, hours.sunday) = (friday, saturday, sunday);
        }
        if let Some(NotifyChoice { when, from_follow_up, digest_hour }) = self.notify.as_ref().and_then(|s| s.value) {
            (settings.notify.when, settings.notify.from_follow_up, settings.notify.digest_hour) =
                (when, from_follow_up, digest_hour);
        }
        if let Some(AnnouncementChoice { enabled, wait_secs, no_key }) =
            self.announcement.as_ref().and_then(|saved| saved.value)
        {
            (settings.whisper.enabled, settings.whisper.wait_secs, settings.whisper.no_key) =
                (enabled, wait_secs, no_key);
        }
    }
}

impl Settings {
    /// Whether `choice` can be laid over these settings: checked by the same rules the file's
    /// values are (`[notify] digest_hour` 0 to 23, and so on): the key and what is wrong.
    pub fn check_choice(&self, choice: &Choice) -> Result<(), (&'static str, String)> {
        let mut choices = OwnerChoices::default();
        choices.put(&SettingState { choice: choice.clone(), changed: Some(SettingChange::default()) });
        choices.effective(self).check().map_err(|misvalue| (misvalue.key, misvalue.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_choice_is_laid_over_the_file_and_putting_back_the_file_value_removes_it() {
        let file = Settings::defaults();
        let mut choices = OwnerChoices::default();
        let changed = Some(SettingChange::default());
        choices.put(&SettingState { choice: Choice::Withheld(Some(CallerPolicy::Refuse)), changed });
        assert_eq!(choices.effective(&file).policy.withheld, CallerPolicy::Refuse);
        assert_eq!(choices.effective(&file).policy.unverified, file.policy.unverified);
        choices.put(&SettingState { choice: Choice::Withheld(None), changed });
        assert_eq!(choices.effective(&file).policy.withheld, file.policy.withheld);
        assert_eq!(choices.state_of(SettingName::Withheld).changed, changed, "the put-back is recorded");
    }

    #[test]
    fn the_stored_form_names_each_setting_and_reads_back() {
        let mut choices = OwnerChoices::default();
        let notify = NotifyChoice { when: NotifyWhen::Digest, from_follow_up: 2, digest_hour: 7 };
        choices.put(&SettingState { choice: Choice::Notify(Some(notify)), changed: Some(SettingChange::default()) });
        let written = serde_json::to_value(&choices).unwrap();
        assert_eq!(written["notify"]["value"]["when"], "digest");
        assert_eq!(serde_json::from_value::<OwnerChoices>(written).unwrap(), choices);
    }

    #[test]
    fn a_choice_the_file_could_not_hold_is_refused_by_its_key() {
        let file = Settings::defaults();
        let late = NotifyChoice { when: NotifyWhen::Digest, from_follow_up: 3, digest_hour: 24 };
        let (key, message) = file.check_choice(&Choice::Notify(Some(late))).unwrap_err();
        assert_eq!((key, message.as_str()), ("notify.digest_hour", "must be an hour between 0 and 23"));
    }
}
