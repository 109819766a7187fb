//! Checks a request saidno sent against a provider's published OpenAPI description of its REST
//! API: a path and method it describes (under the path of its server's address), the path
//! parameters' patterns, the authentication it names, the body's content type, field names it
//! knows (of a form or a JSON object), its required fields, and each value's type.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD};
use regex::Regex;
use serde_json::Value;

use crate::fake_twilio::Captured;

/// One provider's description, read once from `tests/openapi/`.
pub struct Description {
    provider: &'static str,
    document: Value,
    /// The path of the description's server address (`/v2` in `https://api.telnyx.com/v2`).
    base: String,
}

impl Description {
    pub fn load(provider: &'static str, file: &'static str) -> &'static Self {
        static LOADED: OnceLock<Mutex<HashMap<&'static str, &'static Description>>> = OnceLock::new();
        let mut loaded = LOADED.get_or_init(Default::default).lock().unwrap();
        loaded.entry(file).or_insert_with(|| {
            let path = format!("{}/tests/openapi/{file}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
            let document: Value = serde_json::from_str(&text).unwrap();
            let server = document["servers"][0]["url"].as_str().unwrap_or_default();
            let base = server.split_once("://").map_or("", |(_, rest)| rest.find('/').map_or("", |at| &rest[at..]));
            let base = base.trim_end_matches('/').to_owned();
            Box::leak(Box::new(Self { provider, document, base }))
        })
    }

    /// Follows a local `$ref` such as `#/components/schemas/message_enum_traffic_type`.
    fn resolve<'d>(&'d self, schema: &'d Value) -> &'d Value {
        match schema["$ref"].as_str().and_then(|pointer| pointer.strip_prefix('#')) {
            Some(pointer) => self.resolve(self.document.pointer(pointer).unwrap_or(&Value::Null)),
            None => schema,
        }
    }

    /// The described path whose template matches `path`, and the values of its parameters.
    fn find_path(&self, path: &str) -> Option<(&Value, Vec<(String, String)>)> {
        let path = path.strip_prefix(self.base.as_str())?;
        let sent: Vec<&str> = path.split('/').collect();
        self.document["paths"].as_object()?.iter().find_map(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != sent.len() {
                return None;
            }
            let mut parameters = Vec::new();
            for (part, value) in parts.iter().zip(&sent) {
                // A segment may mix a parameter and a suffix: `{Sid}.json`.
                match part.find('{').zip(part.find('}')) {
                    Some((open, close)) => {
                        let (prefix, suffix) = (&part[..open], &part[close + 1..]);
                        let inner = value.strip_prefix(prefix)?.strip_suffix(suffix)?;
                        parameters.push((part[open + 1..close].to_owned(), inner.to_owned()));
                    }
                    None if part == value => {}
                    None => return None,
                }
            }
            Some((item, parameters))
        })
    }

    fn check_value(&self, field: &str, value: &str, schema: &Value) -> Result<(), String> {
        let schema = self.resolve(schema);
        // A choice may be a number (`search_pattern: [0, 1, 2]`), sent as its digits.
        if let Some(choices) = schema["enum"].as_array()
            && !choices.iter().any(|choice| match choice {
                Value::String(text) => text == value,
                Value::Number(number) => number.as_i64().is_some_and(|number| value.parse() == Ok(number)),
                _ => false,
            })
        {
            return Err(format!("{field}={value:?} is not one of {choices:?}"));
        }
        let length = value.chars().count() as u64;
        if schema["minLength"].as_u64().is_some_and(|min| length < min)
            || schema["maxLength"].as_u64().is_some_and(|max| length > max)
        {
            return Err(format!("{field}={value:?} has a length the description does not allow"));
        }
        if let Some(pattern) = schema["pattern"].as_str()
            && !Regex::new(pattern).unwrap().is_match(value)
        {
            return Err(format!("{field}={value:?} does not match {pattern}"));
        }
        let typed = match (schema["type"].as_str(), schema["format"].as_str()) {
            (Some("integer"), _) => value.parse::<i64>().is_ok(),
            (Some("number"), _) => value.parse::<f64>().is_ok(),
            (Some("boolean"), _) => value == "true" || value == "false",
            (Some("string"), Some("phone-number")) => Regex::new(r"^\+[1-9][0-9]{6,14}$").unwrap().is_match(value),
            (Some("string"), Some("uri" | "url")) => value.starts_with("https://") || value.starts_with("http://"),
            (Some("string"), Some("date-time")) => value.parse::<jiff::Timestamp>().is_ok(),
            _ => true,
        };
        if typed { Ok(()) } else { Err(format!("{field}={value:?} is not a valid {schema}")) }
    }

    /// A JSON value against its schema: its type, and a string's constraints.
    fn check_json(&self, field: &str, value: &Value, schema: &Value) -> Result<(), String> {
        let schema = self.resolve(schema);
        let typed = match schema["type"].as_str() {
            Some("string") => {
                return value
                    .as_str()
                    .map_or(Err(format!("{field} is not a string")), |text| self.check_value(field, text, schema));
            }
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            Some("array") => value.is_array(),
            Some("object") => value.is_object(),
            _ => true,
        };
        if typed { Ok(()) } else { Err(format!("{field}={value} is not a valid {schema}")) }
    }

    /// The body's fields, as a form or as a JSON object; `None` when it is neither.
    fn fields(request: &Captured, media: &str) -> Option<Vec<(String, Value)>> {
        if media == "application/json" {
            let object: serde_json::Map<String, Value> = serde_json::from_slice(&request.body).ok()?;
            return Some(object.into_iter().collect());
        }
        Some(request.form().into_iter().map(|(name, value)| (name, Value::String(value))).collect())
    }

    /// The properties a body schema names, with those of the schemas it is made of (`allOf`).
    fn properties<'d>(&'d self, schema: &'d Value) -> (serde_json::Map<String, Value>, Vec<String>) {
        let schema = self.resolve(schema);
        let mut properties = schema["properties"].as_object().cloned().unwrap_or_default();
        let mut required: Vec<String> =
            schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
        for part in schema["allOf"].as_array().into_iter().flatten() {
            let (more, also) = self.properties(part);
            properties.extend(more);
            required.extend(also);
        }
        (properties, required)
    }

    /// Every way the request departs from the description; empty when the provider would accept it.
    pub fn problems(&self, request: &Captured) -> Vec<String> {
        let provider = self.provider;
        let mut problems = Vec::new();
        let Some((item, parameters)) = self.find_path(&request.path) else {
            return vec![format!("{} is not a path {provider} describes", request.path)];
        };
        let method = request.method.as_str().to_ascii_lowercase();
        let operation = &item[method.as_str()];
        if operation.is_null() {
            return vec![format!("{} {} is not an operation {provider} describes", request.method, request.path)];
        }
        let described = |name: &str, place: &str| {
            let own = operation["parameters"].as_array().into_iter().flatten();
            let shared = item["parameters"].as_array().into_iter().flatten();
            own.chain(shared).map(|p| self.resolve(p)).find(|p| p["name"] == name && p["in"] == place)
        };

        for (name, value) in &parameters {
            match described(name, "path") {
                Some(parameter) => problems.extend(self.check_value(name, value, &parameter["schema"]).err()),
                None => problems.push(format!("path parameter {name} is not described")),
            }
        }

        // Each requirement names schemes that must all be met; meeting any one requirement is enough.
        let security = operation.get("security").unwrap_or(&self.document["security"]);
        let requirements: Vec<Vec<&str>> = security
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|requirement| requirement.as_object())
            .map(|requirement| requirement.keys().map(String::as_str).collect())
            .collect();
        let authorization = request.headers.get("authorization").and_then(|value| value.to_str().ok());
        let query: Vec<(String, String)> = form_urlencoded::parse(request.query.as_bytes()).into_owned().collect();
        let mut credentials_in_query = Vec::new();
        let mut passes = |scheme: &str| {
            let definition = &self.document["components"]["securitySchemes"][scheme];
            match (definition["type"].as_str(), definition["scheme"].as_str().map(str::to_ascii_lowercase).as_deref()) {
                (Some("http"), Some("basic")) => authorization
                    .and_then(|value| value.strip_prefix("Basic "))
                    .and_then(|encoded| BASE64.decode(encoded).ok())
                    .and_then(|decoded| String::from_utf8(decoded).ok())
                    .is_some_and(|text| {
                        text.split_once(':').is_some_and(|(user, secret)| !user.is_empty() && !secret.is_empty())
                    }),
                (Some("http"), Some("bearer")) => {
                    authorization.and_then(|value| value.strip_prefix("Bearer ")).is_some_and(|token| !token.is_empty())
                }
                (Some("apiKey"), _) => {
                    let name = definition["name"].as_str().unwrap_or_default();
                    match definition["in"].as_str() {
                        Some("query") => {
                            credentials_in_query.push(name.to_owned());
                            query.iter().any(|(key, value)| key == name && !value.is_empty())
                        }
                        Some("header") => request.headers.get(name).is_some(),
                        _ => false,
                    }
                }
                _ => false,
            }
        };
        let met = requirements.iter().filter(|schemes| schemes.iter().all(|scheme| passes(scheme))).count();
        // With no scheme named (Vonage's SMS API), the credentials are fields the body describes.
        if !requirements.is_empty() && met == 0 {
            problems
                .push(format!("the request carries none of the credentials {provider} asks for ({requirements:?})"));
        }

        for (name, value) in &query {
            if credentials_in_query.contains(name) {
                continue;
            }
            // A deepObject parameter is sent as `filter[phone_number]=...`.
            let (base, inner) = match name.split_once('[') {
                Some((base, rest)) => (base, rest.strip_suffix(']')),
                None => (name.as_str(), None),
            };
            match (described(base, "query"), inner) {
                (Some(parameter), None) => problems.extend(self.check_value(name, value, &parameter["schema"]).err()),
                (Some(parameter), Some(inner)) if parameter["style"] == "deepObject" => {
                    match self.resolve(&parameter["schema"])["properties"].get(inner) {
                        Some(property) => problems.extend(self.check_value(name, value, property).err()),
                        None => problems.push(format!("query parameter {name} is not described")),
                    }
                }
                _ => problems.push(format!("query parameter {name} is not described")),
            }
        }
        // A read sends no body, and the operation describes none.
        if operation["requestBody"].is_null() && request.body.is_empty() {
            return problems;
        }
        let body = self.resolve(&operation["requestBody"]);
        let content_type = request.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let media = content_type.split(';').next().unwrap_or_default().trim();
        let Some(schema) = body["content"].get(media).map(|content| &content["schema"]) else {
            problems.push(format!("the body's content type {content_type:?} is not one {provider} takes here"));
            return problems;
        };
        let Some(fields) = Self::fields(request, media) else {
            problems.push(format!("the body is not the {media} it says it is"));
            return problems;
        };
        let (properties, required) = self.properties(schema);
        for (name, value) in &fields {
            match properties.get(name.as_str()) {
                Some(property) => {
                    let property = self.resolve(property);
                    match value {
                        Value::String(text) => {
                            let item = if property["type"] == "array" { &property["items"] } else { property };
                            problems.extend(self.check_value(name, text, item).err());
                        }
                        value => problems.extend(self.check_json(name, value, property).err()),
                    }
                }
                None => problems.push(format!("field {name} is not one {provider} describes")),
            }
        }
        for required in required {
            if !fields.iter().any(|(name, _)| *name == required) {
                problems.push(format!("required field {required} is missing"));
            }
        }
        problems
    }

    pub fn assert_accepts(&self, request: &Captured) {
        let problems = self.problems(request);
        assert!(problems.is_empty(), "{} {}: {problems:#?}", request.method, request.path);
    }
}

pub fn twilio() -> &'static Description {
    Description::load("Twilio", "twilio_api_v2010.json")
}

pub fn assert_twilio_accepts(request: &Captured) {
    twilio().assert_accepts(request);
}

fn problems(request: &Captured) -> Vec<String> {
    twilio().problems(request)
}

/// A request to Plivo against the shape its SDK sends (`tests/openapi/plivo-message.json`), as
/// `operation` there: the path with a 20-character Auth ID, the method (a GET reads the resource
/// the operation changes, and has no body), basic authentication, and a JSON body of fields it
/// knows, each of its type, with the required ones present.
pub fn plivo_accepts(sent: &Captured, operation: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openapi/plivo-message.json");
    let shape: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let operation = &shape["operations"][operation];
    let mut problems = Vec::new();
    // The path under the host: the API's, or the media host recordings are kept on.
    let url = operation["url"].as_str().unwrap();
    let template = url.strip_prefix("https://").and_then(|rest| rest.find('/').map(|at| &rest[at..])).unwrap();
    let matches = template.split('/').count() == sent.path.split('/').count()
        && template.split('/').zip(sent.path.split('/')).all(|(part, sent)| match part {
            "{auth_id}" => sent.len() == 20 && (sent.starts_with("MA") || sent.starts_with("SA")),
            part if part.starts_with('{') => {
                // A segment may end after its parameter: `{recording_id}.mp3`.
                let ending = &part[part.find('}').unwrap() + 1..];
                sent.strip_suffix(ending).is_some_and(|inner| !inner.is_empty())
            }
            part => part == sent,
        });
    if !matches {
        problems.push(format!("{} is not {template}", sent.path));
    }
    let basic = sent.headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Basic "));
    if basic.is_none() {
        problems.push("no basic authentication".into());
    }
    if sent.method == "GET" {
        if !sent.body.is_empty() {
            problems.push("a read has no body".into());
        }
        assert!(problems.is_empty(), "{problems:#?}");
        return;
    }
    if sent.method != operation["method"].as_str().unwrap() {
        problems.push(format!("the method is {}", sent.method));
    }
    let content_type = sent.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !content_type.starts_with(operation["content_type"].as_str().unwrap()) {
        problems.push(format!("the content type is {content_type:?}"));
    }
    let body: serde_json::Map<String, Value> = serde_json::from_slice(&sent.body).unwrap_or_default();
    for (name, value) in &body {
        let Some(field) = operation["fields"].get(name) else {
            problems.push(format!("field {name} is not one Plivo takes"));
            continue;
        };
        let typed = match field["type"].as_str() {
            Some("string") => value.is_string(),
            Some("boolean") => value.is_boolean(),
            Some("integer") => value.is_i64(),
            Some("array") => value.is_array(),
            Some("object") => value.is_object(),
            _ => true,
        };
        let listed = field["enum"].as_array().is_none_or(|choices| choices.contains(value));
        if !typed || !listed {
            problems.push(format!("{name}={value} is not a valid {field}"));
        }
    }
    let required = operation["required"].as_array().into_iter().flatten().map(|name| vec![name.clone()]);
    let one_of =
        operation["required_one_of"].as_array().into_iter().flatten().map(|names| names.as_array().unwrap().clone());
    for names in required.chain(one_of) {
        if !names.iter().any(|name| body.contains_key(name.as_str().unwrap())) {
            problems.push(format!("none of {names:?} is sent"));
        }
    }
    assert!(problems.is_empty(), "{} {}: {problems:#?}", sent.method, sent.path);
}

/// A download of a Vonage recording against the shape its SDK sends
/// (`tests/openapi/vonage-recording.json`): a GET of the file's path with no body, and a bearer
/// JWT with the algorithm and type named there and every claim it requires. Whether the token is
/// signed by the application's key is for the stand-in to check.
pub fn vonage_recording_accepts(sent: &Captured) {
    vonage_file_accepts(sent, "download_recording");
}

/// Checks a request for one of a Vonage application's files against `operation`'s shape.
pub fn vonage_file_accepts(sent: &Captured, operation: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openapi/vonage-recording.json");
    let shape: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let operation = &shape["operations"][operation];
    let mut problems = Vec::new();
    if sent.method != operation["method"].as_str().unwrap() || !sent.body.is_empty() {
        problems.push(format!("{} with {} bytes is not a read", sent.method, sent.body.len()));
    }
    let url = operation["url"].as_str().unwrap();
    let template = url.strip_prefix("https://").and_then(|rest| rest.find('/').map(|at| &rest[at..])).unwrap();
    let (prefix, _) = template.split_once('{').unwrap();
    if !sent.path.strip_prefix(prefix).is_some_and(|id| !id.is_empty() && !id.contains('/')) {
        problems.push(format!("{} is not {template}", sent.path));
    }
    let auth = &operation["auth"];
    let token = sent.headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let parts: Vec<Value> = token
        .into_iter()
        .flat_map(|token| token.split('.').take(2))
        .filter_map(|part| URL_SAFE_NO_PAD.decode(part).ok())
        .filter_map(|json| serde_json::from_slice(&json).ok())
        .collect();
    match &parts[..] {
        [header, claims] => {
            if header["alg"] != auth["alg"] || header["typ"] != auth["typ"] {
                problems.push(format!("the token's header is {header}"));
            }
            for claim in auth["required_claims"].as_array().unwrap() {
                if claims.get(claim.as_str().unwrap()).is_none() {
                    problems.push(format!("the token has no {claim} claim"));
                }
            }
        }
        _ => problems.push("no bearer JWT".into()),
    }
    assert!(problems.is_empty(), "{} {}: {problems:#?}", sent.method, sent.path);
}

#[cfg(test)]
mod the_checker {
    //! The checker must itself be able to fail, or passing it would mean nothing.

    use axum::http::{HeaderMap, Method};

    use super::*;

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";

    fn request(path: &str, auth: bool, body: &str) -> Captured {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/x-www-form-urlencoded".parse().unwrap());
        if auth {
            let basic = format!("Basic {}", BASE64.encode(format!("{ACCOUNT}:token")));
            headers.insert("authorization", basic.parse().unwrap());
        }
        Captured {
            method: Method::POST,
            path: path.into(),
            query: String::new(),
            headers,
            body: body.to_owned().into(),
        }
    }

    fn read(path: &str, query: &str) -> Captured {
        let mut captured = request(path, true, "");
        captured.method = Method::GET;
        captured.headers.remove("content-type");
        captured.query = query.into();
        captured
    }

    #[test]
    fn a_read_is_checked_by_its_path_and_query() {
        let numbers = format!("/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json");
        assert_eq!(problems(&read(&numbers, "PageSize=50")), Vec::<String>::new());
        assert!(!problems(&read(&numbers, "PageSize=fifty")).is_empty());
        assert!(!problems(&read(&numbers, "Size=50")).is_empty());
        assert!(!problems(&read("/2010-04-01/Accounts/ACshort.json", "")).is_empty());
    }

    fn messages() -> String {
        format!("/2010-04-01/Accounts/{ACCOUNT}/Messages.json")
    }

    #[test]
    fn a_well_formed_message_passes() {
        assert_eq!(
            problems(&request(&messages(), true, "To=%2B447700900123&From=%2B442079460000&Body=Hi")),
            Vec::<String>::new()
        );
    }

    #[test]
    fn each_kind_of_mistake_is_caught() {
        let cases = [
            request("/2010-04-01/Accounts/ACshort/Messages.json", true, "To=%2B447700900123&Body=Hi"),
            request("/2010-04-01/Messages.json", true, "To=%2B447700900123&Body=Hi"),
            request(&messages(), false, "To=%2B447700900123&Body=Hi"),
            request(&messages(), true, "to=%2B447700900123&Body=Hi"),
            request(&messages(), true, "Body=Hi"),
            request(&messages(), true, "To=07700900123&Body=Hi"),
            request(&messages(), true, "To=%2B447700900123&Body=Hi&ValidityPeriod=soon"),
        ];
        for case in cases {
            assert!(!problems(&case).is_empty(), "{case:?} passed");
        }
    }

    fn telnyx_message(authorization: Option<&str>, body: &str) -> Captured {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        if let Some(value) = authorization {
            headers.insert("authorization", value.parse().unwrap());
        }
        Captured {
            method: Method::POST,
            path: "/v2/messages".into(),
            query: String::new(),
            headers,
            body: body.to_owned().into(),
        }
    }

    #[test]
    fn a_json_body_is_checked_by_its_fields_and_a_bearer_token() {
        let telnyx = Description::load("Telnyx", "telnyx-openapi.json");
        let good = r#"{"from": "+442079460000", "to": "+447700900123", "text": "Hi"}"#;
        assert_eq!(telnyx.problems(&telnyx_message(Some("Bearer KEY1"), good)), Vec::<String>::new());
        let cases = [
            telnyx_message(None, good),
            telnyx_message(Some("Basic a2V5OnNlY3JldA=="), good),
            telnyx_message(Some("Bearer KEY1"), r#"{"from": "+442079460000", "text": "Hi"}"#),
            telnyx_message(Some("Bearer KEY1"), r#"{"to": "+447700900123", "body": "Hi"}"#),
            telnyx_message(Some("Bearer KEY1"), r#"{"to": "+447700900123", "use_profile_webhooks": "yes"}"#),
            telnyx_message(Some("Bearer KEY1"), "to=%2B447700900123"),
        ];
        for case in cases {
            assert!(!telnyx.problems(&case).is_empty(), "{case:?} passed");
        }
    }

    #[test]
    fn credentials_in_the_query_must_all_be_there_and_other_parameters_described() {
        let numbers = Description::load("Vonage", "vonage-numbers-openapi.json");
        let mut owned =
            read("/account/numbers", "api_key=abcd1234&api_secret=s3cret&pattern=442079460000&search_pattern=0");
        owned.headers.remove("authorization");
        assert_eq!(numbers.problems(&owned), Vec::<String>::new());
        for query in [
            "api_key=abcd1234&pattern=442079460000",
            "api_key=abcd1234&api_secret=s3cret&search_pattern=7",
            "api_key=abcd1234&api_secret=s3cret&msisdn=442079460000",
        ] {
            owned.query = query.into();
            assert!(!numbers.problems(&owned).is_empty(), "{query} passed");
        }
    }
}
