//! Spawning saidno for a test: in-process on port 0, or as the real binary in its own data folder.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use saidno::config::{Loaded, Settings};
use saidno::domain::{BusinessId, PhoneNumber};
use saidno::provider::form::Params;
use saidno::provider::twilio::signature::sign;
use saidno::startup::Application;
use saidno::store::{Businesses, MemoryStore, SledStore, Store};
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::oneshot;

mod cut_proxy;
pub mod hosted;
pub use cut_proxy::CutProxy;

pub const AUTH_TOKEN: &str = "test-auth-token-3f9a";
pub const ADMIN_TOKEN: &str = "test-admin-token-77c1";
pub const OPERATOR_TOKEN: &str = "test-operator-token-5be0";
pub const PUBLIC_URL: &str = "https://saidno.example.com";
pub const OWNER_PHONE: &str = "+442079460999";
pub const BUSINESS_NUMBER: &str = "+442079460000";
pub const PUSHY: &str = "+442079460123";
/// The owner's own mobile, from which texts are commands.
pub const OWNER_MOBILE: &str = "+447700900123";

pub struct TestApp {
    pub address: SocketAddr,
    pub metrics: Option<SocketAddr>,
    pub http: reqwest::Client,
    _dir: TempDir,
    _stop: oneshot::Sender<()>,
}

pub fn test_settings(data_dir: &Path) -> Settings {
    let mut settings = Settings::defaults();
    settings.listen = "127.0.0.1:0".parse().unwrap();
    settings.data_dir = data_dir.to_owned();
    settings.public_url = PUBLIC_URL.into();
    settings.business_name = "Acme Plumbing".into();
    settings.time_zone = jiff::tz::TimeZone::UTC;
    settings.forward.to = vec![PhoneNumber::from_e164(OWNER_PHONE).unwrap()];
    settings.twilio.auth_token = AUTH_TOKEN.into();
    settings.admin.token = ADMIN_TOKEN.into();
    settings.metrics.listen = "127.0.0.1:0".into();
    settings.owner.numbers = vec![PhoneNumber::from_e164(OWNER_MOBILE).unwrap()];
    settings
}

/// saidno on its real sled store.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    configure(&mut settings);
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&settings.database_path(), 8).unwrap());
    spawn_on(dir, settings, store).await
}

/// saidno on a store of the test's choosing (one that fails, say).
pub async fn spawn_app_on(store: Arc<dyn Store>, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    configure(&mut settings);
    spawn_on(dir, settings, store).await
}

pub fn memory_store() -> Arc<dyn Store> {
    Arc::new(MemoryStore::default())
}

/// saidno serving the operator's API (with `OPERATOR_TOKEN`) over `businesses`, its default
/// business on that business's store.
pub async fn spawn_operator_app(businesses: Arc<dyn Businesses>) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.admin.operator_token = OPERATOR_TOKEN.into();
    let store = businesses.store_of(BusinessId::DEFAULT).unwrap();
    let application = Application::build_with_store(settings, store, ADMIN_TOKEN).await.unwrap();
    let application = application.with_operator(businesses, Arc::new(Loaded::defaults())).unwrap();
    serve(dir, application)
}

async fn spawn_on(dir: TempDir, settings: Settings, store: Arc<dyn Store>) -> TestApp {
    let application = Application::build_with_store(settings, store, ADMIN_TOKEN).await.unwrap();
    serve(dir, application)
}

fn serve(dir: TempDir, application: Application) -> TestApp {
    let address = application.address();
    let metrics = application.metrics_address();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp { address, metrics, http: saidno::tls::client(), _dir: dir, _stop: stop }
}

pub fn params(pairs: &[(&str, &str)]) -> Params {
    Params::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// A form body, percent-encoded the way Twilio sends it.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// The parameters Twilio sends with every incoming call.
pub fn incoming(call_id: &str, from: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AccountSid", "AC0123456789abcdef0123456789abcdef".to_owned()),
        ("ApiVersion", "2010-04-01".to_owned()),
        ("CallSid", call_id.to_owned()),
        ("CallStatus", "ringing".to_owned()),
        ("Direction", "inbound".to_owned()),
        ("From", from.to_owned()),
        ("To", BUSINESS_NUMBER.to_owned()),
        ("Caller", from.to_owned()),
        ("Called", BUSINESS_NUMBER.to_owned()),
    ]
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Posts a form to a webhook, signed as Twilio signs it.
    pub async fn post_signed(&self, path: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
        let signature = sign(AUTH_TOKEN, &format!("{PUBLIC_URL}{path}"), &params(pairs));
        self.post_form(path, form_body(pairs), Some(&signature)).await
    }

    pub async fn post_form(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        signature: Option<&str>,
    ) -> reqwest::Response {
        let mut request =
            self.http.post(self.url(path)).header("content-type", "application/x-www-form-urlencoded").body(body);
        if let Some(signature) = signature {
            request = request.header("x-twilio-signature", signature);
        }
        request.send().await.unwrap()
    }

    /// An incoming call from `from`, signed; returns the TwiML answer.
    pub async fn call(&self, call_id: &str, from: &str) -> Twiml {
        let pairs = incoming(call_id, from);
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = self.post_signed("/twilio/voice", &pairs).await;
        assert_eq!(response.status(), 200);
        Twiml::from_response(response).await
    }

    /// A text to the business number, signed; returns the TwiML answer.
    pub async fn text(&self, from: &str, body: &str) -> Twiml {
        let pairs = [
            ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
            ("ApiVersion", "2010-04-01"),
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("From", from),
            ("To", BUSINESS_NUMBER),
            ("Body", body),
            ("NumMedia", "0"),
        ];
        let response = self.post_signed("/twilio/sms", &pairs).await;
        assert_eq!(response.status(), 200);
        Twiml::from_response(response).await
    }

    /// The owner's text and saidno's reply.
    pub async fn command(&self, body: &str) -> String {
        let twiml = self.text(OWNER_MOBILE, body).await;
        let replies = twiml.text_of("Message");
        assert_eq!(replies.len(), 1, "{}", twiml.xml);
        replies[0].clone()
    }

    pub async fn declines(&self) -> Vec<Value> {
        let (status, declines) = self.api(reqwest::Method::GET, "/declines", None).await;
        assert_eq!(status, 200, "{declines}");
        declines.as_array().unwrap().clone()
    }

    pub async fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(&format!("/api/v1{path}"))).bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn decline(&self, body: Value) -> Value {
        let (status, saved) = self.api(reqwest::Method::POST, "/declines", Some(body)).await;
        assert!(status == 201 || status == 200, "{status}: {saved}");
        saved
    }

    /// The call log through the admin API, newest first.
    pub async fn calls(&self) -> Vec<Value> {
        let (status, calls) = self.api(reqwest::Method::GET, "/calls?limit=100", None).await;
        assert_eq!(status, 200, "{calls}");
        calls.as_array().unwrap().clone()
    }
}

/// A TwiML answer, parsed: tests look at elements and attributes, never at the exact text.
pub struct Twiml {
    pub xml: String,
    pub content_type: String,
}

impl Twiml {
    pub async fn from_response(response: reqwest::Response) -> Self {
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        Self { xml: response.text().await.unwrap(), content_type }
    }

    pub fn document(&self) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(&self.xml).unwrap_or_else(|e| panic!("not XML ({e}): {}", self.xml))
    }

    /// The verbs directly under `<Response>`, in order.
    pub fn verbs(&self) -> Vec<String> {
        let document = self.document();
        let root = document.root_element();
        assert_eq!(root.tag_name().name(), "Response");
        root.children().filter(|n| n.is_element()).map(|n| n.tag_name().name().to_owned()).collect()
    }

    pub fn attribute(&self, element: &str, name: &str) -> Option<String> {
        let document = self.document();
        let node = document.descendants().find(|n| n.has_tag_name(element))?;
        node.attribute(name).map(str::to_owned)
    }

    pub fn text_of(&self, element: &str) -> Vec<String> {
        self.document()
            .descendants()
            .filter(|n| n.has_tag_name(element))
            .map(|n| n.text().unwrap_or_default().to_owned())
            .collect()
    }
}

/// What a command printed to standard error, trimmed.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim().to_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The real binary with its own data folder and config file.
pub struct Binary {
    pub dir: TempDir,
}

impl Binary {
    pub fn new(extra_config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\nbusiness_name = \"Acme Plumbing\"\ntimezone = \"UTC\"\n\
             public_url = \"{PUBLIC_URL}\"\n{extra_config}\n[forward]\nto = [\"{OWNER_PHONE}\"]\n\
             [twilio]\nauth_token = \"{AUTH_TOKEN}\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n",
            dir.path().join("data").display()
        );
        std::fs::write(dir.path().join("saidno.toml"), config).unwrap();
        Self { dir }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("saidno.toml")
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_saidno"));
        command.arg("--config").arg(self.config_path()).current_dir(self.dir.path()).env_remove("RUST_LOG");
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// Runs a command that must succeed and returns what it printed.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "saidno {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// Starts `saidno serve` and waits until it says where it listens.
    pub fn serve(&self) -> Server {
        self.serve_with(|_| {})
    }

    /// The same with the command adjusted first (environment, say).
    pub fn serve_with(&self, adjust: impl FnOnce(&mut Command)) -> Server {
        let mut command = self.command();
        command.arg("serve").stdout(Stdio::null()).stderr(Stdio::piped());
        adjust(&mut command);
        let mut child = command.spawn().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (found, address) = std::sync::mpsc::channel();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let kept = log.clone();
        let reader = std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if let Some(address) = line.split("address=").nth(1) {
                    let _ = found.send(address.trim().to_owned());
                }
                kept.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let address = address
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("saidno serve did not start: {}", log.lock().unwrap()));
        Server { child, url: format!("http://{address}"), log, reader: Some(reader) }
    }
}

pub struct Server {
    pub child: Child,
    pub url: String,
    log: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// What the server has written to its log so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until `needle` has appeared `times` times in the log. The bound only keeps a broken
    /// test from hanging forever.
    pub fn wait_for_log(&self, needle: &str, times: usize) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while self.log().matches(needle).count() < times {
            assert!(std::time::Instant::now() < deadline, "{needle:?} never appeared {times} times: {}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a signal by name (HUP, TERM) to the server.
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill").arg(format!("-{name}")).arg(self.child.id().to_string()).status().unwrap();
        assert!(sent.success());
    }

    /// A GET from a thread that is not async: the status and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            // Through saidno's client, which chooses the TLS provider a test run alone has not yet.
            let response = saidno::tls::client().get(format!("{}{path}", self.url)).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        })
    }

    /// Sends SIGTERM and waits for the process to end, and for the last of its log.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.terminate_within(Duration::from_secs(120))
    }

    /// The same, failing if the process has not ended within `bound`.
    pub fn terminate_within(&mut self, bound: Duration) -> std::process::ExitStatus {
        Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        let deadline = std::time::Instant::now() + bound;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(std::time::Instant::now() < deadline, "saidno did not stop within {bound:?} of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        status
    }

    /// Ends the process at once, as a crash or power cut would.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// The metrics exposition, from where the server said it serves it.
    pub fn metrics(&self) -> String {
        let log = self.log();
        let line = log.lines().find(|line| line.contains("metrics are served here")).expect("metrics are on");
        let address = line.split("address=").nth(1).unwrap().split_whitespace().next().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let http = saidno::tls::client();
        runtime.block_on(async {
            http.get(format!("http://{address}/metrics")).send().await.unwrap().text().await.unwrap()
        })
    }

    /// A signed incoming call, from a thread that is not async.
    pub fn call(&self, call_id: &str, from: &str) -> String {
        call_at(&self.url, call_id, from)
    }
}

/// Posts `pairs` to `path` at the server at `url`, signed as Twilio signs them, from a thread that
/// is not async: the status and the body.
pub fn post_signed_to(url: &str, path: &str, pairs: &[(&str, &str)]) -> (u16, String) {
    let signature = sign(AUTH_TOKEN, &format!("{PUBLIC_URL}{path}"), &params(pairs));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let response = saidno::tls::client()
            .post(format!("{url}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature)
            .body(form_body(pairs))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap_or_default())
    })
}

/// A signed incoming call from `from` to the line `to`, at the server at `url`: its answer.
pub fn call_line_at(url: &str, call_id: &str, from: &str, to: &str) -> String {
    let pairs = [("CallSid", call_id), ("CallStatus", "ringing"), ("From", from), ("To", to), ("Called", to)];
    let (status, twiml) = post_signed_to(url, "/twilio/voice", &pairs);
    assert_eq!(status, 200, "{twiml}");
    twiml
}

/// An admin API request with `token` to the server at `url`, from a thread that is not async: the
/// status and the body.
pub fn api_at(url: &str, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, String) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut request = saidno::tls::client().request(method, format!("{url}/api/v1{path}")).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        // A response the server cut short (a backup the store cannot take) is status 0, with why.
        match request.send().await {
            Ok(response) => (response.status().as_u16(), response.text().await.unwrap_or_default()),
            Err(error) => (0, error.to_string()),
        }
    })
}

/// A signed incoming call to the server at `url`, from a thread that is not async.
pub fn call_at(url: &str, call_id: &str, from: &str) -> String {
    let pairs = incoming(call_id, from);
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let signature = sign(AUTH_TOKEN, &format!("{PUBLIC_URL}/twilio/voice"), &params(&pairs));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let response = saidno::tls::client()
            .post(format!("{url}/twilio/voice"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature)
            .body(form_body(&pairs))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    })
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub const PASSWORD: &str = "correct horse battery";

/// A browser's view of the web page: the session cookie, and requests sent from the page itself.
pub struct Browser {
    /// Where the pages are served from, `http://address`.
    pub origin: String,
    /// The cookies the sign-in set, as the browser sends them back.
    pub cookie: Option<String>,
    /// Sent as `X-Forwarded-For`, as a reverse proxy in front of saidno would add it.
    pub forwarded_for: Option<String>,
    pub http: reqwest::Client,
}

/// A page as a browser got it: the status, where it redirected, and the HTML.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    /// The `Content-Disposition` of a download.
    pub disposition: Option<String>,
    pub html: scraper::Html,
    pub text: String,
}

impl Page {
    async fn from(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        let (location, disposition) = (header("location"), header("content-disposition"));
        let text = response.text().await.unwrap();
        Self { status, location, disposition, html: scraper::Html::parse_document(&text), text }
    }

    /// The text of every element the selector finds, white space folded.
    pub fn texts(&self, selector: &str) -> Vec<String> {
        let selector = scraper::Selector::parse(selector).unwrap();
        self.html
            .select(&selector)
            .map(|e| e.text().collect::<Vec<_>>().join(" ").split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    }

    pub fn text_of(&self, selector: &str) -> String {
        let texts = self.texts(selector);
        assert!(!texts.is_empty(), "no {selector} on the page: {}", self.text);
        texts.join(" ")
    }

    pub fn attributes(&self, selector: &str, name: &str) -> Vec<String> {
        let selector = scraper::Selector::parse(selector).unwrap();
        self.html.select(&selector).filter_map(|e| e.value().attr(name).map(str::to_owned)).collect()
    }
}

impl TestApp {
    /// Sets the web page's password through the admin API.
    pub async fn set_password(&self) {
        let (status, body) =
            self.api(reqwest::Method::PUT, "/admin/password", Some(serde_json::json!({"password": PASSWORD}))).await;
        assert_eq!(status, 204, "{body}");
    }

    pub fn browser(&self) -> Browser {
        Browser::at(format!("http://{}", self.address))
    }

    /// A browser signed in with the password.
    pub async fn signed_in(&self) -> Browser {
        self.set_password().await;
        let mut browser = self.browser();
        let page = browser.sign_in(PASSWORD).await;
        assert_eq!(page.status, 303, "{}", page.text);
        browser
    }
}

impl Server {
    /// A browser on the server's pages, not yet signed in.
    pub fn browser(&self) -> Browser {
        Browser::at(self.url.clone())
    }
}

impl Browser {
    pub fn at(origin: String) -> Self {
        // Through saidno's client, which chooses the TLS provider a test of the binary has not.
        let http = saidno::tls::client_builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { origin, cookie: None, forwarded_for: None, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    fn origin(&self) -> String {
        self.origin.clone()
    }

    pub async fn sign_in(&mut self, password: &str) -> Page {
        self.sign_in_with(&[("password", password)]).await
    }

    /// Signs in to one business of a deployment that hosts many, naming it as the form does.
    pub async fn sign_in_to(&mut self, business: &str, password: &str) -> Page {
        self.sign_in_with(&[("business", business), ("password", password)]).await
    }

    async fn sign_in_with(&mut self, form: &[(&str, &str)]) -> Page {
        let mut request = self.http.post(self.url("/login")).header("origin", self.origin());
        if let Some(client) = &self.forwarded_for {
            request = request.header("x-forwarded-for", client);
        }
        let response = request.form(form).send().await.unwrap();
        // The session, and in a deployment that hosts many the business it is of.
        let set: Vec<&str> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|cookie| cookie.to_str().unwrap().split(';').next().unwrap())
            .collect();
        if !set.is_empty() {
            self.cookie = Some(set.join("; "));
        }
        Page::from(response).await
    }

    pub async fn get(&self, path: &str) -> Page {
        let mut request = self.http.get(self.url(path));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        Page::from(request.send().await.unwrap()).await
    }

    /// Gets a page as the Calls page's script asks for it after an action taken in place.
    pub async fn get_in_place(&self, path: &str) -> Page {
        let mut request = self.http.get(self.url(path)).header("x-saidno-fragment", "calls");
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        Page::from(request.send().await.unwrap()).await
    }

    /// Posts a body as it is, however malformed, as a form from the page itself.
    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> Page {
        let mut request = self
            .http
            .post(self.url(path))
            .header("origin", self.origin())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        Page::from(request.send().await.unwrap()).await
    }

    /// Posts a form from the page itself (same origin).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_from(path, form, &self.origin()).await
    }

    pub async fn post_from(&self, path: &str, form: &[(&str, &str)], origin: &str) -> Page {
        let mut request = self.http.post(self.url(path)).header("origin", origin).form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        Page::from(request.send().await.unwrap()).await
    }

    /// Posts a form from the page at `page`, which the browser names as the referrer.
    pub async fn post_on(&self, page: &str, path: &str, form: &[(&str, &str)]) -> Page {
        let mut request = self
            .http
            .post(self.url(path))
            .header("origin", self.origin())
            .header("referer", format!("{}{page}", self.origin()))
            .form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        Page::from(request.send().await.unwrap()).await
    }

    /// Uploads a file through a multipart form, as the import form does.
    pub async fn upload(&self, path: &str, file_name: &str, contents: &str, skip_bad_rows: bool) -> Page {
        let mut form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::text(contents.to_owned()).file_name(file_name.to_owned()));
        if skip_bad_rows {
            form = form.text("skip_bad_rows", "1");
        }
        let mut request = self.http.post(self.url(path)).header("origin", self.origin()).multipart(form);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        Page::from(request.send().await.unwrap()).await
    }
}
