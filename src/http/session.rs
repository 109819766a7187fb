//! Signing in to the web page: the password check, rate-limited per address, and the session cookie
//! (HttpOnly, SameSite=Strict, Secure when the public address is https).

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::AppState;
use super::api::served;
use super::client_address::client_address;
use crate::domain::SignedIn;

pub const COOKIE: &str = "saidno_session";
/// Which business the browser signed in to, in a deployment that may host many: it says which
/// business's sessions the session cookie is looked up in, and proves nothing by itself.
pub const BUSINESS_COOKIE: &str = "saidno_business";
/// A session lasts this long, however active.
const SESSION_LIFETIME: SignedDuration = SignedDuration::from_hours(12);
/// Failed sign-ins allowed from one address within `FAILURE_WINDOW` before it must wait.
const MAX_FAILURES: usize = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Recent failed sign-ins, by address, kept in memory. The signed-in browsers themselves are kept
/// in the store, so that a restart or a reload signs nobody out.
#[derive(Default)]
pub struct Sessions {
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl Sessions {
    /// Whether this address has used up its failed attempts for now.
    fn is_limited(&self, address: IpAddr) -> bool {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let recent = failures.entry(address).or_default();
        while recent.front().is_some_and(|at| at.elapsed() > FAILURE_WINDOW) {
            recent.pop_front();
        }
        recent.len() >= MAX_FAILURES
    }

    fn failed(&self, address: IpAddr) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).entry(address).or_default().push_back(Instant::now());
    }
}

fn new_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

/// What the store keeps of a cookie: enough to recognise it, never enough to use it.
fn digest(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// The session token the browser sent, if any.
fn presented(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, COOKIE)
}

/// The value of the cookie `wanted` among those the browser sent, in one or several headers.
pub(super) fn cookie<'h>(headers: &'h HeaderMap, wanted: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value)
}

/// Lets a signed-in browser through; anyone else is sent to the sign-in page, and nothing changes.
pub async fn require_session(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(digest) = session_of(request.headers()) else {
        return Redirect::to("/login").into_response();
    };
    // A database that cannot be read is said as such: being sent to sign in again would not help.
    match served(state.service.is_signed_in(&digest, Timestamp::now())).await {
        Ok(true) => next.run(request).await,
        Ok(false) => Redirect::to("/login").into_response(),
        Err(error) => super::pages::PageError::from(error).into_response(),
    }
}

/// The session the browser presents, as the store knows it.
pub(super) fn session_of(headers: &HeaderMap) -> Option<String> {
    presented(headers).map(digest)
}

/// Whether the session is still on: not signed out, not past its hours, no new password since.
pub(super) async fn still_signed_in(state: &AppState, session: &str) -> bool {
    matches!(served(state.service.is_signed_in(session, Timestamp::now())).await, Ok(true))
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct SignInPage {
    pub business: String,
    pub error: Option<String>,
    pub has_password: bool,
    /// The deployment hosts many businesses: the form asks which one.
    pub asks_business: bool,
}

impl SignInPage {
    fn of(state: &AppState, error: Option<String>, has_password: bool) -> Self {
        let asks_business = hosts_many(state);
        // One page serves every business of a deployment that hosts many: it names none of them.
        let business = if asks_business { String::new() } else { state.settings.business_name.trim().to_owned() };
        // Whether a password is set is the default business's to know, not every visitor's.
        let has_password = has_password || asks_business;
        Self { business, error, has_password, asks_business }
    }
}

fn hosts_many(state: &AppState) -> bool {
    state.hosting.as_ref().is_some_and(|hosting| hosting.directory().hosts_many())
}

pub async fn sign_in_page(State(state): State<AppState>) -> Response {
    let has_password = state.service.has_password().await.unwrap_or(true);
    SignInPage::of(&state, None, has_password).into_response()
}

#[derive(Deserialize)]
pub struct SignIn {
    password: String,
    /// The business, when the deployment hosts many.
    #[serde(default)]
    business: String,
}

/// Whether the business the form names is the one `state` is of. A deployment that hosts many
/// hands a form to the business it names, or to the default business when it names none it knows.
fn names_this_business(state: &AppState, named: &str) -> bool {
    match &state.business {
        Some(own) if hosts_many(state) => {
            let named = named.trim();
            named == own.as_str() || (named.is_empty() && own.as_str() == crate::domain::BusinessName::DEFAULT)
        }
        _ => true,
    }
}

pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<SignIn>, FormRejection>,
) -> Response {
    let refuse = |status: StatusCode, error: &str| {
        (status, SignInPage::of(&state, Some(error.to_owned()), true)).into_response()
    };
    // Behind the recommended reverse proxy every visitor's peer is the proxy: count the visitor.
    let client = client_address(peer.ip(), &headers, &state.settings.http.trusted_proxies);
    if state.sessions.is_limited(client) {
        return refuse(StatusCode::TOO_MANY_REQUESTS, "Too many wrong passwords. Try again in 15 minutes.");
    }
    let Ok(Form(SignIn { password, business })) = form else {
        return refuse(StatusCode::BAD_REQUEST, "Type the password.");
    };
    // A business this is not, or none the deployment has, counts as a wrong password: whether a
    // business exists is not for a stranger to find out here.
    let matches = match names_this_business(&state, &business) {
        true => served(state.service.password_matches(&password)).await,
        false => Ok(false),
    };
    match matches {
        Ok(true) => {}
        Ok(false) if hosts_many(&state) => {
            state.sessions.failed(client);
            tracing::warn!(address = %client, "a sign-in with a wrong business or password");
            return refuse(StatusCode::UNAUTHORIZED, "That business and password do not go together.");
        }
        Ok(false) => {
            state.sessions.failed(client);
            tracing::warn!(address = %client, "a sign-in with a wrong password");
            return refuse(StatusCode::UNAUTHORIZED, "That is not the password.");
        }
        Err(_) => return refuse(StatusCode::SERVICE_UNAVAILABLE, "The database is not available."),
    }
    let Some(token) = new_token() else {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, "Could not start a session.");
    };
    let now = Timestamp::now();
    let browser = SignedIn { digest: digest(&token), until: now + SESSION_LIFETIME };
    if served(state.service.sign_in(&browser, now)).await.is_err() {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "The database is not available.");
    }
    let secure =
        if state.settings.public_url().is_some_and(|url| url.starts_with("https://")) { "; Secure" } else { "" };
    let cookie =
        format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}", SESSION_LIFETIME.as_secs());
    let mut response = Redirect::to("/").into_response();
    let mut cookies = vec![cookie];
    if let Some(business) = &state.business {
        cookies.push(format!("{BUSINESS_COOKIE}={business}; Path=/; HttpOnly; SameSite=Strict{secure}"));
    }
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(digest) = presented(&headers).map(digest)
        && let Err(error) = served(state.service.sign_out(&digest)).await
    {
        tracing::error!(?error, "could not forget a signed-out session");
    }
    let mut response = Redirect::to("/login").into_response();
    for name in [COOKIE, BUSINESS_COOKIE] {
        let expired = format!("{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
        if let Ok(value) = HeaderValue::from_str(&expired) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}
