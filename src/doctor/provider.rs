//! The checks of each provider account: its credentials, its clock, and where its numbers send calls.

use jiff::{SignedDuration, Timestamp};

use super::{Finding, Verdict};
use crate::config::Settings;
use crate::provider::setup::{AccountSetup, LineSetup};

/// Signed requests carry a time (Telnyx, Vonage) that is refused past a few minutes: warn well before.
const CLOCK_WARN: SignedDuration = SignedDuration::from_secs(30);
const CLOCK_FIX: SignedDuration = SignedDuration::from_secs(120);

pub async fn accounts(settings: &Settings, now: Timestamp) -> Vec<Finding> {
    let accounts = crate::provider::inspect_accounts(settings).await;
    if accounts.is_empty() {
        let verdict = if let Some(hint) = crate::provider::missing_account(settings) {
            Verdict::Warn(hint.into())
        } else if settings.takes_unsigned_calls() {
            Verdict::Warn("none configured: saidno answers only requests from this machine".into())
        } else {
            Verdict::Ok(
                "webhooks are checked; `saidno connect PROVIDER NUMBER --dry-run` shows whether a number \
                 sends its calls to saidno"
                    .into(),
            )
        };
        return vec![Finding::new("provider", verdict)];
    }
    let mut findings = Vec::new();
    let mut clock_read = false;
    for account in &accounts {
        findings.extend(account_findings(account, settings));
        if let Some(theirs) = account.clock
            && !clock_read
        {
            clock_read = true;
            findings.push(clock(theirs, now, account.provider));
        }
    }
    if !clock_read {
        findings.push(Finding::new("clock", Verdict::Warn("no provider answered with its time to compare".into())));
    }
    findings
}

fn clock(theirs: Timestamp, ours: Timestamp, provider: &str) -> Finding {
    let skew = ours.duration_since(theirs);
    let off = skew.abs();
    let said = if skew.is_negative() { "behind" } else { "ahead of" };
    let verdict = if off >= CLOCK_FIX {
        Verdict::Fix(format!(
            "this machine's clock is {}s {said} {provider}'s: signed requests will be refused; \
             turn on time synchronisation (timedatectl set-ntp true)",
            off.as_secs()
        ))
    } else if off >= CLOCK_WARN {
        Verdict::Warn(format!(
            "this machine's clock is {}s {said} {provider}'s: turn on time synchronisation",
            off.as_secs()
        ))
    } else {
        Verdict::Ok(format!("within {}s of {provider}'s", off.as_secs().max(1)))
    };
    Finding::new("clock", verdict)
}

fn account_findings(account: &AccountSetup, settings: &Settings) -> Vec<Finding> {
    let provider = account.provider;
    let name = match &account.account {
        Ok(name) => name,
        Err(problem) => return vec![Finding::new(format!("{provider} account"), Verdict::Fix(problem.clone()))],
    };
    let mut findings =
        vec![Finding::new(format!("{provider} account"), Verdict::Ok(format!("the credentials work ({name})")))];
    if account.lines.is_empty() {
        findings.push(Finding::new(
            format!("{provider} numbers"),
            Verdict::Warn("the account has no phone numbers: buy or port one and point it at saidno".into()),
        ));
    }
    let base = settings.public_url().unwrap_or_default();
    for line in &account.lines {
        findings.extend(line_findings(line, account, base, !settings.owner.numbers.is_empty()));
    }
    findings
}

fn line_findings(line: &LineSetup, account: &AccountSetup, base: &str, texts_wanted: bool) -> Vec<Finding> {
    let check = format!("{} {}", account.provider, line.number);
    let voice = format!("{base}{}", account.voice_path);
    let mut findings = Vec::new();
    let webhook = if let Some(application) = &line.application {
        Verdict::Fix(format!(
            "its calls go to the provider's application {application}, not to a URL: set the number's \
             voice webhook to {voice} (HTTP POST)"
        ))
    } else if base.is_empty() {
        Verdict::Warn(format!(
            "calls go to {:?}; set public_url so doctor can tell whether that is saidno",
            line.voice_url
        ))
    } else if same_url(&line.voice_url, &voice) && line.voice_method.eq_ignore_ascii_case("POST") {
        Verdict::Ok(format!("calls come to {voice}"))
    } else if same_url(&line.voice_url, &voice) {
        Verdict::Fix(format!("calls come to {voice} with HTTP {}: set the method to POST", line.voice_method))
    } else if line.voice_url.is_empty() {
        Verdict::Fix(format!("no voice webhook: set it to {voice} (HTTP POST)"))
    } else {
        Verdict::Fix(format!(
            "calls go to {}, not to saidno: set the voice webhook to {voice} (HTTP POST)",
            line.voice_url
        ))
    };
    findings.push(Finding::new(format!("{check} voice webhook"), webhook));
    let fallback = if line.fallback_url.is_empty() {
        Verdict::Warn(
            "no fallback URL: if saidno cannot be reached the caller hears an error; set one that rings your \
             phone (see the README)"
                .into(),
        )
    } else if !base.is_empty() && line.fallback_url.starts_with(base) {
        Verdict::Warn(format!(
            "the fallback {} is saidno itself, so it fails whenever saidno does: point it at something \
             elsewhere that rings your phone",
            line.fallback_url
        ))
    } else {
        Verdict::Ok(format!("{} takes the call if saidno cannot", line.fallback_url))
    };
    findings.push(Finding::new(format!("{check} fallback"), fallback));
    if texts_wanted && !base.is_empty() {
        let sms = format!("{base}{}", account.sms_path);
        let verdict = if same_url(&line.sms_url, &sms) {
            Verdict::Ok(format!("texts come to {sms}"))
        } else {
            Verdict::Warn(format!(
                "texts go to {:?}, so the owner's text commands sent to this number will not reach saidno; \
                 set the messaging webhook to {sms} if you text this number",
                line.sms_url
            ))
        };
        findings.push(Finding::new(format!("{check} messaging webhook"), verdict));
    }
    findings
}

/// The same address, whatever a trailing slash.
fn same_url(a: &str, b: &str) -> bool {
    a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_is_judged_by_how_far_it_is_from_the_providers() {
        let theirs: Timestamp = "2026-12-01T09:00:00Z".parse().unwrap();
        let at = |secs| theirs.checked_add(SignedDuration::from_secs(secs)).unwrap();
        assert!(matches!(clock(theirs, at(3), "Plivo").verdict, Verdict::Ok(_)));
        assert!(matches!(clock(theirs, at(-45), "Plivo").verdict, Verdict::Warn(text) if text.contains("45s behind")));
        assert!(
            matches!(clock(theirs, at(600), "Plivo").verdict, Verdict::Fix(text) if text.contains("600s ahead of"))
        );
    }
}
