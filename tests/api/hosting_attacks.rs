//! One deployment hosting two businesses, Acme and Bravo, and Acme trying, as an attacker would, to
//! see or change anything of Bravo's: with its own web session aimed at Bravo's records, with that
//! session presented as Bravo's, with callbacks under its own address naming Bravo's call, with
//! texts from its owner's phone to Bravo's line, and by guessing Bravo's password. Each attack is
//! judged by what Bravo's own token and pages show before and after, and by what the answers to
//! Acme show. Waits poll with a generous overall bound, which only stops a broken test.

use std::time::{Duration, Instant};

use reqwest::Method;
use saidno::domain::PhoneNumber;
use saidno::http::url_part::encode;
use saidno::store::test_db::TestDb;
use serde_json::{Value, json};

use crate::helpers::hosted::{add_business, api, hosting, hosting_with, logged, records, set_business_password};
use crate::helpers::*;
use crate::postgres_instances::{GIVE_UP_AFTER, forwarded, refused};

const ACME_LINE: &str = "+442079460110";
const ACME_PHONE: &str = "+442079460119";
const ACME_OWNER: &str = "+447700900111";
const ACME_PASSWORD: &str = "acme anvils and hammers";
const ACME_CALLER: &str = "+442079460131";
const ACME_DECLINED: &str = "+442079460132";
const ACME_CALL: &str = "CA-anvil-1";

const BRAVO_LINE: &str = "+442079460220";
const BRAVO_PHONE: &str = "+442079460229";
const BRAVO_OWNER: &str = "+447700900222";
const BRAVO_PASSWORD: &str = "bravo bakes sourdough";
/// Bravo's numbers and calls, which Acme's attacks name.
const BRAVO_DECLINED: &str = "+442079460231";
const BRAVO_ALLOWED: &str = "+442079460232";
const BRAVO_CALLER: &str = "+442079460233";
const BRAVO_COMPANY: &str = "Quillfeather Mills";
const BRAVO_FORWARDED: &str = "CA-wren-forwarded";
const BRAVO_REFUSED: &str = "CA-wren-refused";
/// Bravo's, never named by Acme: nothing Acme does can bring them onto its pages but a leak.
const BRAVO_BATCHED: &str = "+442079460234";
const BRAVO_QUIET_CALLER: &str = "+442079460235";
const BRAVO_QUIET_CALL: &str = "CA-wren-quiet";
const BRAVO_NOTE: &str = "met at the flour fair";
const BRAVO_ALLOW_NAME: &str = "Grainline Supplies";

const RECORDING: &str = "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE0123456789abcdef0123456789abcdef";

/// The deployment, its two businesses, and their admin tokens.
struct Hosted {
    /// The deployment's configuration and data folder, which last as long as the test.
    _saidno: Binary,
    server: Server,
    acme: String,
    bravo: String,
}

/// Acme and Bravo, each with its line, its phones, its owner's mobile and its web password.
fn acme_and_bravo(saidno: Binary) -> Hosted {
    let settings = |name: &str, phone: &str, owner: &str| {
        format!("business_name = \"{name}\"\n[forward]\nto = [\"{phone}\"]\n[owner]\nnumbers = [\"{owner}\"]\n")
    };
    let acme = add_business(&saidno, "acme", &settings("Acme Anvils", ACME_PHONE, ACME_OWNER), ACME_LINE);
    let bravo = add_business(&saidno, "bravo", &settings("Bravo Bakery", BRAVO_PHONE, BRAVO_OWNER), BRAVO_LINE);
    set_business_password(&saidno, "acme", ACME_PASSWORD);
    set_business_password(&saidno, "bravo", BRAVO_PASSWORD);
    let server = saidno.serve();
    Hosted { _saidno: saidno, server, acme, bravo }
}

impl Hosted {
    fn api(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = api(&self.server, token, method, path, body);
        assert!((200..300).contains(&status), "{path}: {status} {answer}");
        answer
    }

    fn call(&self, call_id: &str, from: &str, line: &str) -> String {
        call_line_at(&self.server.url, call_id, from, line)
    }

    /// A provider's callback, signed, to `path` (which names the business it is under).
    fn callback(&self, path: &str, pairs: &[(&str, &str)]) -> (u16, String) {
        post_signed_to(&self.server.url, path, pairs)
    }

    /// A text to `line` from `from`, signed, as the provider posts it: saidno's answer.
    fn text(&self, from: &str, line: &str, body: &str) -> String {
        let pairs = [("MessageSid", "SM0123456789abcdef"), ("From", from), ("To", line), ("Body", body)];
        let (status, answer) = self.callback("/twilio/sms", &pairs);
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// A browser on the deployment's pages, signed in to `business`.
    fn signed_in(&self, business: &str, password: &str) -> Tab {
        let mut tab = Tab::new(&self.server);
        let answer = tab.sign_in(business, password);
        assert_eq!(answer.status, 303, "{}", answer.text);
        tab
    }

    /// Acme's own calls and declines, made before any attack.
    fn acme_records(&self) {
        self.api(
            &self.acme,
            Method::POST,
            "/declines",
            Some(json!({"number": ACME_DECLINED, "company": "Anvil Direct"})),
        );
        assert!(forwarded(&self.call(ACME_CALL, ACME_CALLER, ACME_LINE)));
        assert_eq!(logged(&self.server, &self.acme, 1), [ACME_CALL]);
    }

    /// Everything Bravo keeps, and what only Bravo's own page shows of it: its batch of declines
    /// and a setting change, each with the value its Undo sends.
    fn bravo_records(&self, bravo: &Tab) -> BravoKeys {
        let decline = json!({"number": BRAVO_DECLINED, "company": BRAVO_COMPANY, "note": BRAVO_NOTE});
        self.api(&self.bravo, Method::POST, "/declines", Some(decline));
        let allow = json!({"number": BRAVO_ALLOWED, "name": BRAVO_ALLOW_NAME});
        self.api(&self.bravo, Method::POST, "/allows", Some(allow));
        assert!(forwarded(&self.call(BRAVO_FORWARDED, BRAVO_CALLER, BRAVO_LINE)));
        assert!(refused(&self.call(BRAVO_REFUSED, BRAVO_DECLINED, BRAVO_LINE)));
        assert!(forwarded(&self.call(BRAVO_QUIET_CALL, BRAVO_QUIET_CALLER, BRAVO_LINE)));
        assert_eq!(logged(&self.server, &self.bravo, 3).len(), 3);
        let left = [("CallSid", BRAVO_FORWARDED), ("RecordingUrl", RECORDING), ("RecordingDuration", "17")];
        assert_eq!(self.callback("/b/bravo/twilio/voicemail", &left).0, 200);
        self.wait_for_calls(&self.bravo, "Bravo's voicemail", |calls| calls.contains(RECORDING));

        let batched = bravo.post("/calls/decline-selected", &[("number", BRAVO_BATCHED), ("company", BRAVO_COMPANY)]);
        let batch = query_value(&batched, "declined_batch");
        let chosen = bravo.post("/settings/withheld", &[("action", "save"), ("policy", "refuse")]);
        let change = query_value(&chosen, "change");

        let companies = self.api(&self.bravo, Method::GET, "/companies", None);
        let company = companies.as_array().unwrap().iter().find(|company| company["name"] == BRAVO_COMPANY);
        let company = company.unwrap_or_else(|| panic!("{companies}"))["key"].as_str().unwrap().to_owned();
        let held = format!("/companies/{}/legal-hold", encode(&company));
        self.api(&self.bravo, Method::PUT, &held, Some(json!({"held": true, "reason": "Bravo's complaint"})));
        self.api(&self.bravo, Method::POST, "/pause", Some(json!({"paused": true})));
        BravoKeys { company, batch, change }
    }

    /// Waits until the call log of the business behind `token`, as its API shows it, satisfies
    /// `done`.
    fn wait_for_calls(&self, token: &str, what: &str, done: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + GIVE_UP_AFTER;
        loop {
            let calls = self.api(token, Method::GET, "/calls?limit=50", None).to_string();
            if done(&calls) {
                return;
            }
            assert!(Instant::now() < deadline, "{what} never reached the log: {calls}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything of Bravo's: what its admin token shows, and its settings as its own page shows
    /// them (the admin API has none).
    fn bravo_snapshot(&self, bravo: &Tab) -> (Vec<Value>, Vec<String>) {
        let settings = bravo.get("/settings");
        assert_eq!(settings.status, 200, "{}", settings.text);
        let shown = scraper::Html::parse_document(&settings.text);
        let selector = scraper::Selector::parse("p.now, #pause-state").unwrap();
        let settings = shown.select(&selector).map(|part| part.text().collect::<String>()).collect();
        (records(&self.server, &self.bravo), settings)
    }
}

/// What only Bravo's own pages showed it: the key of its company, and the values the Undo buttons
/// of its batch of declines and its setting change send.
struct BravoKeys {
    company: String,
    batch: String,
    change: String,
}

/// A value in the query of the address a form sent the browser to.
fn query_value(answer: &Answer, name: &str) -> String {
    assert_eq!(answer.status, 303, "{}", answer.text);
    let location = answer.location.as_deref().unwrap();
    let query = location.split_once('?').map(|(_, query)| query).unwrap_or_default();
    let found = form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == name);
    found.unwrap_or_else(|| panic!("no {name} in {location}")).1.into_owned()
}

/// What a browser got: the status, where it was sent, and the text.
struct Answer {
    status: u16,
    location: Option<String>,
    text: String,
}

impl From<Page> for Answer {
    fn from(page: Page) -> Self {
        Self { status: page.status, location: page.location, text: page.text }
    }
}

/// A browser driven from the test's thread: the helpers that sign its calls and read the API
/// start runtimes of their own, which cannot run inside one.
struct Tab {
    browser: Browser,
    runtime: tokio::runtime::Runtime,
}

impl Tab {
    fn new(server: &Server) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Self { browser: server.browser(), runtime }
    }

    fn sign_in(&mut self, business: &str, password: &str) -> Answer {
        self.runtime.block_on(self.browser.sign_in_to(business, password)).into()
    }

    fn get(&self, path: &str) -> Answer {
        self.runtime.block_on(self.browser.get(path)).into()
    }

    fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.runtime.block_on(self.browser.post(path, form)).into()
    }

    /// A page or form, as the browser sends it; a live page is read up to its first event.
    fn visit(&self, visit: &Visit) -> Answer {
        match visit {
            Visit::Page(path) if path.starts_with("/calls/live") || path.starts_with("/live/") => {
                self.runtime.block_on(first_event(&self.browser, path))
            }
            Visit::Page(path) => self.get(path),
            Visit::Form(path, form) => {
                let form: Vec<(&str, &str)> = form.iter().map(|(name, value)| (*name, value.as_str())).collect();
                self.post(path, &form)
            }
            Visit::Upload(path, contents) => {
                self.runtime.block_on(self.browser.upload(path, "declines.csv", contents, true)).into()
            }
        }
    }
}

/// A live page's answer up to its first event (it streams for as long as the browser stays).
async fn first_event(browser: &Browser, path: &str) -> Answer {
    let mut request = browser.http.get(browser.url(path));
    if let Some(cookie) = &browser.cookie {
        request = request.header("cookie", cookie);
    }
    let mut response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let location = response.headers().get("location").map(|value| value.to_str().unwrap().to_owned());
    let streamed = response.headers().get("content-type").is_some_and(|kind| kind == "text/event-stream");
    if !streamed {
        return Answer { status, location, text: response.text().await.unwrap() };
    }
    let mut text = String::new();
    let has_event = |text: &str| text.rsplit_once("\n\n").is_some_and(|(done, _)| done.contains("event:"));
    tokio::time::timeout(GIVE_UP_AFTER, async {
        while !has_event(&text) {
            let chunk = response.chunk().await.unwrap().expect("the stream ended before its first event");
            text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{path} sent no event"));
    Answer { status, location, text }
}

/// A request a signed-in browser makes: a page, a form sent from a page, or a file uploaded.
enum Visit {
    Page(String),
    Form(String, Vec<(&'static str, String)>),
    Upload(String, String),
}

impl Visit {
    fn form(path: impl Into<String>, fields: &[(&'static str, &str)]) -> Self {
        Self::Form(path.into(), fields.iter().map(|(name, value)| (*name, (*value).to_owned())).collect())
    }

    /// Everything the request itself says, decoded: what it named may come back in its answer.
    fn said(&self) -> String {
        let (path, fields) = match self {
            Self::Page(path) => (path, String::new()),
            Self::Form(path, form) => {
                (path, form.iter().map(|(_, value)| value.as_str()).collect::<Vec<_>>().join(" "))
            }
            Self::Upload(path, contents) => (path, contents.clone()),
        };
        let decoded: Vec<String> = form_urlencoded::parse(path.replace('?', "&").as_bytes())
            .flat_map(|(name, value)| [name.into_owned(), value.into_owned()])
            .collect();
        format!("{} {fields}", decoded.join(" ")).to_lowercase()
    }

    fn describe(&self) -> String {
        match self {
            Self::Page(path) => format!("GET {path}"),
            Self::Form(path, form) => format!("POST {path} {form:?}"),
            Self::Upload(path, _) => format!("POST {path} (a file)"),
        }
    }
}

/// Every page and form of the web page (`src/http/router.rs`), aimed at Bravo's records: its
/// numbers, call ids, company, batch of declines and setting change. The pages come first, while
/// Acme's own records hold nothing it typed of Bravo's; the sign-out comes last.
fn aimed_at_bravo(keys: &BravoKeys) -> Vec<Visit> {
    let (declined, allowed, caller) = (encode(BRAVO_DECLINED), encode(BRAVO_ALLOWED), encode(BRAVO_CALLER));
    let company = format!("/companies/{}", encode(&keys.company));
    let number_party = format!("/companies/{}", encode(&format!("number:{BRAVO_DECLINED}")));
    let pages = [
        "/".to_owned(),
        "/calls".to_owned(),
        format!("/calls?number={caller}"),
        format!("/calls?company={}", encode(BRAVO_COMPANY)),
        format!("/calls?q={}", encode(BRAVO_COMPANY)),
        format!("/calls?before={}", encode(BRAVO_FORWARDED)),
        format!("/calls?declined={declined}&declined_batch={}", encode(&keys.batch)),
        format!("/calls?undone_batch={declined}"),
        format!("/calls/live?after={}", encode(BRAVO_FORWARDED)),
        "/live/dashboard".to_owned(),
        format!("/calls/{}/voicemail", encode(BRAVO_FORWARDED)),
        format!("/calls/{}/voicemail", encode(BRAVO_REFUSED)),
        format!("/declines/remove?target={declined}"),
        "/companies".to_owned(),
        company.clone(),
        format!("{company}/evidence"),
        format!("{company}/evidence.csv"),
        number_party,
        "/allows".to_owned(),
        format!("/allows?unallowed={allowed}&allowed={allowed}"),
        format!("/check?number={declined}"),
        format!("/check?number={allowed}"),
        "/transfer".to_owned(),
        "/transfer/declines.csv".to_owned(),
        "/transfer/declines.json".to_owned(),
        "/transfer/calls.csv".to_owned(),
        format!("/transfer/calls.csv?number={caller}"),
        "/settings".to_owned(),
        format!("/settings?saved=withheld&change={}", encode(&keys.change)),
        "/settings?undone=withheld".to_owned(),
    ];
    let mut visits: Vec<Visit> = pages.into_iter().map(Visit::Page).collect();
    visits.extend([
        // Taking back or removing what Bravo said.
        Visit::form("/declines/undo", &[("number", BRAVO_DECLINED), ("back", "/calls")]),
        Visit::form("/declines/undo-selected", &[("batch", &keys.batch)]),
        Visit::form("/declines/remove", &[("target", BRAVO_DECLINED)]),
        Visit::form("/allows/remove", &[("number", BRAVO_ALLOWED)]),
        Visit::form("/allows/undo", &[("number", BRAVO_ALLOWED)]),
        Visit::form(format!("{company}/legal-hold"), &[("held", "false")]),
        Visit::form("/settings/undo", &[("change", &keys.change)]),
        Visit::form("/settings/pause", &[("paused", "false")]),
        Visit::form("/resume", &[]),
        // Changing Bravo's records by naming them.
        Visit::form(
            format!("{company}/declines/edit"),
            &[("target", BRAVO_DECLINED), ("company", BRAVO_COMPANY), ("note", ""), ("mode", "reject")],
        ),
        Visit::form(format!("{company}/declines"), &[("target", BRAVO_CALLER), ("company", BRAVO_COMPANY)]),
        Visit::form(
            "/calls/decline",
            &[("number", BRAVO_CALLER), ("company", "Acme guessing"), ("call", BRAVO_FORWARDED)],
        ),
        Visit::form("/calls/decline-selected", &[("number", BRAVO_DECLINED), ("number", BRAVO_ALLOWED)]),
        Visit::form("/calls/allow", &[("number", BRAVO_DECLINED)]),
        Visit::form("/allows", &[("number", BRAVO_CALLER), ("name", "Acme guessing")]),
        Visit::Upload("/transfer/import".to_owned(), format!("number,company\n{BRAVO_ALLOWED},Acme guessing\n")),
    ]);
    for setting in ["withheld", "unverified", "hours", "notify", "announcement"] {
        visits.push(Visit::form(format!("/settings/{setting}"), &[("action", "file")]));
    }
    visits.push(Visit::form("/logout", &[]));
    visits
}

/// Bravo's that an answer shows, other than what the request itself named: its numbers in any of
/// the ways a page writes them, its call ids, its company, its name, its note and its allow.
fn bravos_shown(answer: &Answer, said: &str) -> Vec<&'static str> {
    let shown = format!("{} {:?} {}", answer.status, answer.location, answer.text).to_lowercase();
    let words =
        [BRAVO_FORWARDED, BRAVO_REFUSED, BRAVO_QUIET_CALL, BRAVO_COMPANY, BRAVO_NOTE, BRAVO_ALLOW_NAME, "bravo"];
    let numbers = [
        BRAVO_DECLINED,
        BRAVO_ALLOWED,
        BRAVO_CALLER,
        BRAVO_BATCHED,
        BRAVO_QUIET_CALLER,
        BRAVO_LINE,
        BRAVO_PHONE,
        BRAVO_OWNER,
    ];
    let named = |forms: &[String]| forms.iter().any(|form| said.contains(form.as_str()));
    let seen = |forms: &[String]| forms.iter().any(|form| shown.contains(form.as_str()));
    let words = words.into_iter().map(|word| (word, vec![word.to_lowercase()]));
    let numbers = numbers.into_iter().map(|number| (number, written(number)));
    words.chain(numbers).filter(|(_, forms)| !named(forms) && seen(forms)).map(|(marker, _)| marker).collect()
}

/// Whether `text` shows `number`, however written.
fn mentions(text: &str, number: &str) -> bool {
    written(number).iter().any(|form| text.contains(form.as_str()))
}

/// The ways a page may write a number: its digits after the country code (as in E.164, also
/// inside `%2B...`) and as people in its country write it, both without the trunk prefix.
fn written(number: &str) -> Vec<String> {
    let national = PhoneNumber::from_e164(number).unwrap().national();
    let national = national.trim_start_matches('0').to_owned();
    vec![national.chars().filter(char::is_ascii_digit).collect(), national]
}

/// Both businesses with their records; Bravo's browser signed in, the keys Acme's attacks name, and
/// Bravo's records as they stand before them.
fn before_the_attack(database: &TestDb) -> (Hosted, Tab, BravoKeys, (Vec<Value>, Vec<String>)) {
    let hosted = acme_and_bravo(hosting(database));
    hosted.acme_records();
    let bravo = hosted.signed_in("bravo", BRAVO_PASSWORD);
    let keys = hosted.bravo_records(&bravo);
    let before = hosted.bravo_snapshot(&bravo);
    (hosted, bravo, keys, before)
}

#[test]
fn every_page_and_form_with_acme_s_session_aimed_at_bravo_s_records_changes_and_shows_nothing_of_bravo_s() {
    let Some(database) = TestDb::new() else { return };
    let (hosted, bravo, keys, before) = before_the_attack(&database);
    let shown = serde_json::to_string(&before).unwrap();
    for kept in [BRAVO_NOTE, BRAVO_ALLOW_NAME, BRAVO_FORWARDED, RECORDING, BRAVO_BATCHED, "refuse"] {
        assert!(shown.contains(kept), "Bravo's records hold {kept}: {shown}");
    }

    let acme = hosted.signed_in("acme", ACME_PASSWORD);
    // Acme's session works, and its pages show its own: what follows is not refused for want of it.
    let calls = acme.get("/calls");
    assert!(calls.status == 200 && calls.text.contains(ACME_CALL), "{}", calls.text);
    for visit in aimed_at_bravo(&keys) {
        let answer = acme.visit(&visit);
        let what = visit.describe();
        // Signing out sends the browser to sign in; anything else doing so refused Acme's session.
        let signing_out = matches!(&visit, Visit::Form(path, _) if path == "/logout");
        let to_sign_in = answer.location.as_deref() == Some("/login");
        assert!(answer.status != 403 && (signing_out || !to_sign_in), "{what} refused Acme's session");
        assert!(answer.status < 500, "{what}: {} {}", answer.status, answer.text);
        let leaked = bravos_shown(&answer, &visit.said());
        assert!(leaked.is_empty(), "{what} showed Bravo's {leaked:?} to Acme: {}", answer.text);
    }

    assert_eq!(hosted.bravo_snapshot(&bravo), before, "Acme's session changed Bravo's records");
    // Acme's records after all that hold what Acme typed, and nothing else of Bravo's: its log
    // gained no call, and none of what Acme never named is there.
    assert_eq!(logged(&hosted.server, &hosted.acme, 1), [ACME_CALL]);
    let acme_now = serde_json::to_string(&records(&hosted.server, &hosted.acme)).unwrap();
    for bravos in [BRAVO_QUIET_CALL, BRAVO_NOTE, BRAVO_ALLOW_NAME, RECORDING, "Bravo"] {
        assert!(!acme_now.contains(bravos), "Acme's records hold Bravo's {bravos}: {acme_now}");
    }
    for bravos in [BRAVO_BATCHED, BRAVO_QUIET_CALLER] {
        assert!(!mentions(&acme_now, bravos), "Acme's records hold Bravo's {bravos}: {acme_now}");
    }
    // Acme signed out: Bravo's browser is still signed in, and Bravo's password still signs in.
    let calls = bravo.get("/calls");
    assert!(calls.status == 200 && calls.text.contains(BRAVO_FORWARDED), "{}", calls.text);
    let bravo_again = hosted.signed_in("bravo", BRAVO_PASSWORD);
    let calls = bravo_again.get("/calls");
    assert!(calls.text.contains(BRAVO_QUIET_CALL) && !calls.text.contains(ACME_CALL), "{}", calls.text);
    assert!(!hosted.server.log().contains("panicked"), "{}", hosted.server.log());
}

#[test]
fn acme_s_session_presented_as_bravo_s_is_sent_to_sign_in_on_every_page_and_form() {
    let Some(database) = TestDb::new() else { return };
    let (hosted, bravo, keys, before) = before_the_attack(&database);

    let mut acme = hosted.signed_in("acme", ACME_PASSWORD);
    let cookie = acme.browser.cookie.clone().unwrap();
    assert!(cookie.contains("saidno_business=acme"), "{cookie}");
    acme.browser.cookie = Some(cookie.replace("saidno_business=acme", "saidno_business=bravo"));
    for visit in aimed_at_bravo(&keys) {
        let answer = acme.visit(&visit);
        let what = visit.describe();
        let to_sign_in = answer.status == 303 && answer.location.as_deref() == Some("/login");
        assert!(to_sign_in || (400..500).contains(&answer.status), "{what}: {} {}", answer.status, answer.text);
        let leaked = bravos_shown(&answer, &visit.said());
        assert!(leaked.is_empty(), "{what} showed Bravo's {leaked:?}: {}", answer.text);
    }
    assert_eq!(hosted.bravo_snapshot(&bravo), before, "Acme's session changed Bravo's records");

    // The same session as Acme's is still Acme's: the sign-out above was never Acme's either.
    acme.browser.cookie = Some(cookie);
    let calls = acme.get("/calls");
    assert!(calls.status == 200 && calls.text.contains(ACME_CALL) && !calls.text.contains("wren"), "{}", calls.text);
}

/// Both businesses, after a call to Bravo's line was forwarded and logged; with Bravo's records as
/// they then stand.
fn after_a_call_to_bravo(database: &TestDb) -> (Hosted, Vec<Value>) {
    let hosted = acme_and_bravo(hosting(database));
    hosted.acme_records();
    assert!(forwarded(&hosted.call(BRAVO_FORWARDED, BRAVO_CALLER, BRAVO_LINE)));
    assert_eq!(logged(&hosted.server, &hosted.bravo, 1), [BRAVO_FORWARDED]);
    let bravo_before = records(&hosted.server, &hosted.bravo);
    (hosted, bravo_before)
}

#[test]
fn callbacks_under_acme_s_address_naming_bravo_s_call_change_nothing_of_bravo_s_or_acme_s() {
    let Some(database) = TestDb::new() else { return };
    let (hosted, bravo_before) = after_a_call_to_bravo(&database);
    let mut acme_before = records(&hosted.server, &hosted.acme);

    let whisper = format!("call={}&from={}", encode(BRAVO_FORWARDED), encode(BRAVO_CALLER));
    let call = [("CallSid", BRAVO_FORWARDED), ("From", BRAVO_CALLER), ("To", BRAVO_LINE)];
    let callbacks: [(String, Vec<(&str, &str)>); 7] = [
        (
            "dial-status".into(),
            vec![("CallSid", BRAVO_FORWARDED), ("DialCallStatus", "busy"), ("DialCallDuration", "99")],
        ),
        (
            "voicemail".into(),
            vec![("CallSid", BRAVO_FORWARDED), ("RecordingUrl", RECORDING), ("RecordingDuration", "7")],
        ),
        ("transcript".into(), vec![("CallSid", BRAVO_FORWARDED), ("TranscriptionText", "planted words")]),
        (format!("whisper?{whisper}"), vec![("CallSid", "CA-leg")]),
        // Whoever answered presses 9: decline the caller.
        (format!("whisper/key?{whisper}"), vec![("CallSid", "CA-leg"), ("Digits", "9")]),
        ("escape".into(), [call.as_slice(), &[("Digits", "1")]].concat()),
        ("screen".into(), [call.as_slice(), &[("Digits", "2")]].concat()),
    ];
    for (route, pairs) in &callbacks {
        let (status, answer) = hosted.callback(&format!("/b/acme/twilio/{route}"), pairs);
        assert!(status < 500, "{route}: {status} {answer}");
        assert!(
            !answer.contains("Quillfeather") && !answer.contains(BRAVO_PHONE),
            "{route} answered as Bravo: {answer}"
        );
    }
    // Acme's own call's outcome, after them: once it is in Acme's log, so is anything they did.
    let ended = [("CallSid", ACME_CALL), ("DialCallStatus", "completed"), ("DialCallDuration", "42")];
    assert_eq!(hosted.callback("/b/acme/twilio/dial-status", &ended).0, 200);
    hosted.wait_for_calls(&hosted.acme, "Acme's outcome", |calls| calls.contains("\"duration_secs\":42"));

    assert_eq!(records(&hosted.server, &hosted.bravo), bravo_before, "a callback under Acme's address changed Bravo's");
    let mut acme_after = records(&hosted.server, &hosted.acme);
    let acme_calls = acme_after.remove(2);
    let acme_calls: Vec<&str> =
        acme_calls.as_array().unwrap().iter().map(|call| call["call_sid"].as_str().unwrap()).collect();
    assert_eq!(acme_calls, [ACME_CALL], "Acme's log gained a call");
    acme_before.remove(2);
    assert_eq!(acme_after, acme_before, "the press of 9 for Bravo's call declined its caller at Acme");
    assert!(!mentions(&serde_json::to_string(&acme_after).unwrap(), BRAVO_CALLER), "{acme_after:?}");
    // Bravo's own callback finds its call as it was: no decline of Acme's waits on it.
    let (status, answer) = hosted.callback(
        "/b/bravo/twilio/dial-status",
        &[("CallSid", BRAVO_FORWARDED), ("DialCallStatus", "completed"), ("DialCallDuration", "5")],
    );
    assert_eq!(status, 200);
    assert!(!answer.contains("<Say"), "Bravo's caller was refused after Acme's key: {answer}");
}

#[test]
fn a_text_from_acme_s_owner_to_bravo_s_line_is_a_stranger_s_and_changes_nothing() {
    let Some(database) = TestDb::new() else { return };
    let (hosted, bravo_before) = after_a_call_to_bravo(&database);
    let acme_before = records(&hosted.server, &hosted.acme);

    // Acme's owner is an owner at Acme's line: the texts below are commands somewhere.
    let at_acme = hosted.text(ACME_OWNER, ACME_LINE, "LAST");
    assert!(at_acme.contains("<Message") && mentions(&at_acme, ACME_CALLER), "{at_acme}");
    assert!(!mentions(&at_acme, BRAVO_CALLER), "{at_acme}");
    let commands =
        ["NO +442079460240 Sneaky Ltd", "NO", "NO 1", "UNDO", "ALLOW +442079460231", "LAST", "STATUS", "STOP", "PAUSE"];
    for command in commands {
        let answer = hosted.text(ACME_OWNER, BRAVO_LINE, command);
        // A stranger's text gets no reply at all: no word of whether it was anyone's.
        assert!(!answer.contains("<Message") && !mentions(&answer, BRAVO_CALLER), "{command}: {answer}");
    }
    assert_eq!(records(&hosted.server, &hosted.bravo), bravo_before, "Acme's owner changed Bravo's records");
    assert_eq!(records(&hosted.server, &hosted.acme), acme_before, "a text to Bravo's line changed Acme's");

    // The same text from Bravo's own owner is Bravo's command.
    let answer = hosted.text(BRAVO_OWNER, BRAVO_LINE, "NO +442079460240 Sneaky Ltd");
    assert!(answer.contains("Declined +442079460240"), "{answer}");
    let declines = api(&hosted.server, &hosted.bravo, Method::GET, "/declines", None).1;
    assert!(declines.to_string().contains("+442079460240"), "{declines}");
    assert_eq!(records(&hosted.server, &hosted.acme), acme_before);
}

#[test]
fn wrong_passwords_naming_bravo_or_no_business_lock_the_client_out_of_every_business() {
    let Some(database) = TestDb::new() else { return };
    // Behind a reverse proxy, as in production: the lock-out falls on the client it names.
    let hosted = acme_and_bravo(hosting_with(&database, "[http]\ntrusted_proxies = [\"127.0.0.1/32\"]\n"));
    let bravo_before = records(&hosted.server, &hosted.bravo);
    let mut guesser = Tab::new(&hosted.server);
    guesser.browser.forwarded_for = Some("203.0.113.9".into());

    let wrong = guesser.sign_in("bravo", "sourdough?");
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    for _ in 0..3 {
        assert_eq!(guesser.sign_in("bravo", "rye?").status, 401);
    }
    // A business that does not exist is answered as a wrong password, word for word, and counts.
    let nobody = guesser.sign_in("nobody", ACME_PASSWORD);
    assert_eq!((nobody.status, &nobody.text), (wrong.status, &wrong.text));
    assert!(guesser.browser.cookie.is_none());

    // Five failures: even Acme's right password is refused from that client, for now.
    let acme = guesser.sign_in("acme", ACME_PASSWORD);
    assert_eq!(acme.status, 429, "{}", acme.text);
    assert_eq!(guesser.sign_in("bravo", BRAVO_PASSWORD).status, 429);
    assert!(guesser.browser.cookie.is_none(), "no session was started");

    // Bravo's records and password are as they were: its owner, from elsewhere, signs in.
    assert_eq!(records(&hosted.server, &hosted.bravo), bravo_before);
    let mut owner = Tab::new(&hosted.server);
    owner.browser.forwarded_for = Some("198.51.100.20".into());
    assert_eq!(owner.sign_in("bravo", BRAVO_PASSWORD).status, 303);
    assert_eq!(owner.get("/calls").status, 200);
}
