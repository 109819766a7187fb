//! The banner a page opens with after a change made on it (a decline, an edit, a removal, an allow,
//! an Undo): what is on record now and what the number's next call will do, worded by the same
//! decision the webhook and `/check` use, with the Undo beside it. Every page that changes records
//! shows these, from `templates/banners.html`.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::url_part::encode;
use crate::domain::{DecisionKind, PhoneNumber};
use crate::policy::short_date;
use crate::service::{CheckRequest, MAX_AT_ONCE, Preview, Service, ServiceError};

/// What the page was sent to after a change, in its query.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct BannerParams {
    /// Set after a decline (or an edit of one), to offer an undo.
    #[serde(default)]
    pub declined: String,
    /// Set when that decline changed one already on record.
    #[serde(default)]
    pub updated: String,
    /// Set after a decline's Undo.
    #[serde(default)]
    pub undone: String,
    /// Set after a decline was removed.
    #[serde(default)]
    pub removed: String,
    /// Set after an allow was added ("This was a customer", or the Allows page).
    #[serde(default)]
    pub allowed: String,
    /// Set when that allow replaced one already on record, which its Undo puts back.
    #[serde(default)]
    pub replaced: String,
    /// Set after an allow was removed.
    #[serde(default)]
    pub unallowed: String,
    /// Set after an allow's Undo.
    #[serde(default)]
    pub undone_allow: String,
    /// Set after several numbers were declined at once: the name of that change, for its Undo.
    #[serde(default)]
    pub declined_batch: String,
    /// Set after the Undo of several declines: their numbers, separated by commas.
    #[serde(default)]
    pub undone_batch: String,
}

impl BannerParams {
    /// The same page with no banner: where a banner's Undo leads back to.
    pub fn page(path: &str) -> String {
        path.split('?').next().unwrap_or(path).to_owned()
    }
}

/// The banner after a decline from this page, worded from the decision the next call will get.
pub struct DeclinedBanner {
    pub target: String,
    pub company: Option<String>,
    pub updated: bool,
    /// The next call's decision, when it is not a refusal (an allow still wins, say).
    pub still_rings: Option<String>,
    /// The number's allow, which the banner offers to remove.
    pub allowed: bool,
}

/// The banner after a decline was removed: what the number's next call does now.
pub struct RemovedBanner {
    pub target: String,
    pub next_call: Option<String>,
}

/// The banner after an allow was added: what the number's next call does now.
pub struct AllowedBanner {
    pub number: String,
    pub next_call: Option<String>,
    /// It replaced an allow on record (a lapsed or spent one), which the Undo puts back.
    pub replaced: bool,
}

/// The banner after an allow was removed.
pub struct UnallowedBanner {
    pub number: String,
    pub next_call: Option<String>,
}

/// The banner after an allow's Undo: the allow as it stands again, and what the next call will do.
pub struct UndoneAllowBanner {
    pub number: String,
    /// The allow put back, "Mum, 3 Nov 2026 10:00 to on, once", or empty when none is left.
    pub restored: String,
    pub next_call: Option<String>,
}

/// The banner after an Undo: what is on record now, and what the next call will do.
pub struct UndoneBanner {
    pub target: String,
    /// The decline as it stands again, "declined 3 Nov 2026", or empty when none is left.
    pub restored: String,
    pub next_call: Option<String>,
}

/// The banner after several numbers were declined at once: how many, and what each one's next
/// call does.
pub struct BatchDeclinedBanner {
    pub batch: String,
    pub numbers: Vec<String>,
    /// The company they are all declined for, when it is one.
    pub company: Option<String>,
    /// How many of them were declined already, and had their decline updated.
    pub updated: usize,
    /// Each number whose next call is not refused even so, and the decision's reason.
    pub still_ring: Vec<(String, String)>,
}

/// The banner after the Undo of several declines: each number as it stands again.
pub struct BatchUndoneBanner {
    pub numbers: Vec<UndoneBanner>,
}

/// Every banner a page may open with, and the page (without its query) an Undo returns to.
#[derive(Default)]
pub struct Banners {
    pub back: String,
    pub declined: Option<DeclinedBanner>,
    pub removed: Option<RemovedBanner>,
    pub undone: Option<UndoneBanner>,
    pub allowed: Option<AllowedBanner>,
    pub unallowed: Option<UnallowedBanner>,
    pub undone_allow: Option<UndoneAllowBanner>,
    pub declined_batch: Option<BatchDeclinedBanner>,
    pub undone_batch: Option<BatchUndoneBanner>,
}

/// What the next call from `text` (a number as the log or a form gives it) will get, in the
/// decision's own words; nothing for a range or a pattern, which no one number stands for.
pub async fn next_call(service: &Service, text: &str, now: Timestamp) -> Option<Preview> {
    PhoneNumber::from_e164(text)?;
    service.check(CheckRequest { number: Some(text.to_owned()), ..Default::default() }, now).await.ok()
}

impl Banners {
    pub async fn read(
        service: &Service,
        params: &BannerParams,
        back: &str,
        time_zone: &TimeZone,
    ) -> Result<Self, ServiceError> {
        let now = Timestamp::now();
        let reason = |preview: Option<Preview>| preview.map(|preview| preview.reason);
        let mut banners = Banners { back: back.to_owned(), ..Default::default() };
        banners.declined_batch = batch_declined(service, &params.declined_batch, now).await?;
        if !params.undone_batch.is_empty() {
            let mut numbers = Vec::new();
            for target in
                params.undone_batch.split(',').filter(|n| PhoneNumber::from_e164(n).is_some()).take(MAX_AT_ONCE)
            {
                numbers.push(undone(service, target, now, time_zone).await?);
            }
            banners.undone_batch = Some(BatchUndoneBanner { numbers });
        }
        if !params.declined.is_empty()
            && let Some(decline) = service.decline_on_record(&params.declined).await?
        {
            let target = decline.target.to_string();
            let allowed = match decline.target.number() {
                Some(number) => service.allow_of(number).await?.is_some(),
                None => false,
            };
            let next = next_call(service, &target, now).await;
            banners.declined = Some(DeclinedBanner {
                company: decline.company,
                updated: !params.updated.is_empty(),
                allowed,
                still_rings: next.filter(|p| p.decision != DecisionKind::Decline).map(|p| p.reason),
                target,
            });
        }
        if !params.removed.is_empty() {
            let target = params.removed.clone();
            banners.removed = Some(RemovedBanner { next_call: reason(next_call(service, &target, now).await), target });
        }
        if !params.undone.is_empty() {
            banners.undone = Some(undone(service, &params.undone, now, time_zone).await?);
        }
        if !params.allowed.is_empty() {
            let number = params.allowed.clone();
            banners.allowed = Some(AllowedBanner {
                next_call: reason(next_call(service, &number, now).await),
                replaced: !params.replaced.is_empty(),
                number,
            });
        }
        if !params.unallowed.is_empty() {
            let number = params.unallowed.clone();
            banners.unallowed =
                Some(UnallowedBanner { next_call: reason(next_call(service, &number, now).await), number });
        }
        if !params.undone_allow.is_empty() {
            let number = params.undone_allow.clone();
            let restored = match PhoneNumber::from_e164(&number) {
                Some(number) => service.allow_of(&number).await?,
                None => None,
            };
            banners.undone_allow = Some(UndoneAllowBanner {
                restored: restored.map(|allow| super::allow_words::described(&allow, time_zone)).unwrap_or_default(),
                next_call: reason(next_call(service, &number, now).await),
                number,
            });
        }
        Ok(banners)
    }
}

impl Banners {
    /// The numbers the change reported changed, whose rows on the page change with it.
    pub fn numbers(&self) -> Vec<String> {
        let mut numbers: Vec<String> = [
            self.declined.as_ref().map(|b| &b.target),
            self.removed.as_ref().map(|b| &b.target),
            self.undone.as_ref().map(|b| &b.target),
            self.allowed.as_ref().map(|b| &b.number),
            self.unallowed.as_ref().map(|b| &b.number),
            self.undone_allow.as_ref().map(|b| &b.number),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        numbers.extend(self.declined_batch.iter().flat_map(|b| b.numbers.iter().cloned()));
        numbers.extend(self.undone_batch.iter().flat_map(|b| b.numbers.iter().map(|n| n.target.clone())));
        numbers.retain(|number| PhoneNumber::from_e164(number).is_some());
        numbers.sort();
        numbers.dedup();
        numbers
    }
}

/// The decline of `target` as an Undo left it, and what its next call does.
async fn undone(
    service: &Service,
    target: &str,
    now: Timestamp,
    time_zone: &TimeZone,
) -> Result<UndoneBanner, ServiceError> {
    let restored = service.decline_on_record(target).await?;
    Ok(UndoneBanner {
        restored: restored.map(|d| format!("declined {}", short_date(d.declined_at, time_zone))).unwrap_or_default(),
        next_call: next_call(service, target, now).await.map(|preview| preview.reason),
        target: target.to_owned(),
    })
}

/// The banner of the change of several named `batch`, while it can still be undone.
async fn batch_declined(
    service: &Service,
    batch: &str,
    now: Timestamp,
) -> Result<Option<BatchDeclinedBanner>, ServiceError> {
    if batch.is_empty() {
        return Ok(None);
    }
    let Some(declined) = service.web_batch(batch).await? else { return Ok(None) };
    let mut numbers = Vec::new();
    let mut companies = Vec::new();
    let mut still_ring = Vec::new();
    for entry in &declined {
        let number = entry.target.to_string();
        let decline = service.decline_on_record(&number).await?;
        companies.push(decline.and_then(|decline| decline.company));
        if let Some(preview) = next_call(service, &number, now).await
            && preview.decision != DecisionKind::Decline
        {
            still_ring.push((number.clone(), preview.reason));
        }
        numbers.push(number);
    }
    companies.dedup();
    let company = match companies.as_slice() {
        [Some(company)] => Some(company.clone()),
        _ => None,
    };
    let updated = declined.iter().filter(|entry| entry.before.is_some()).count();
    Ok(Some(BatchDeclinedBanner { batch: batch.to_owned(), numbers, company, updated, still_ring }))
}

/// Where a page goes after a change, with the banner that reports it: `page` without its query,
/// then `name=value`.
pub fn after_change(page: &str, name: &str, value: &str) -> String {
    format!("{}?{name}={}", BannerParams::page(page), encode(value))
}
