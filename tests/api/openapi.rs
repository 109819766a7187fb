//! Checks a request saidno sent against Twilio's published OpenAPI description of its REST API:
//! a path and method it describes, the path parameters' patterns, the authentication it names,
//! the body's content type, form field names it knows, its required fields, and each value's type.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use regex::Regex;
use serde_json::Value;

use crate::fake_twilio::Captured;

fn description() -> &'static Value {
    static DESCRIPTION: OnceLock<Value> = OnceLock::new();
    DESCRIPTION.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openapi/twilio_api_v2010.json");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        serde_json::from_str(&text).unwrap()
    })
}

/// Follows a local `$ref` such as `#/components/schemas/message_enum_traffic_type`.
fn resolve(schema: &Value) -> &Value {
    match schema["$ref"].as_str().and_then(|pointer| pointer.strip_prefix('#')) {
        Some(pointer) => description().pointer(pointer).unwrap_or(&Value::Null),
        None => schema,
    }
}

/// The described path whose template matches `path`, and the values of its parameters.
fn find_path(path: &str) -> Option<(&'static Value, Vec<(String, String)>)> {
    let sent: Vec<&str> = path.split('/').collect();
    description()["paths"].as_object()?.iter().find_map(|(template, item)| {
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

fn check_value(field: &str, value: &str, schema: &Value) -> Result<(), String> {
    let schema = resolve(schema);
    if let Some(choices) = schema["enum"].as_array()
        && !choices.iter().any(|choice| choice.as_str() == Some(value))
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
        (Some("string"), Some("uri")) => value.starts_with("https://") || value.starts_with("http://"),
        (Some("string"), Some("date-time")) => value.parse::<jiff::Timestamp>().is_ok(),
        _ => true,
    };
    if typed { Ok(()) } else { Err(format!("{field}={value:?} is not a valid {}", schema)) }
}

/// Every way the request departs from the description; empty when Twilio would accept it.
pub fn problems(request: &Captured) -> Vec<String> {
    let mut problems = Vec::new();
    let Some((item, parameters)) = find_path(&request.path) else {
        return vec![format!("{} is not a path Twilio describes", request.path)];
    };
    let method = request.method.as_str().to_ascii_lowercase();
    let operation = &item[method.as_str()];
    if operation.is_null() {
        return vec![format!("{} {} is not an operation Twilio describes", request.method, request.path)];
    }

    for (name, value) in &parameters {
        let described = operation["parameters"]
            .as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == name.as_str() && p["in"] == "path"));
        match described {
            Some(parameter) => problems.extend(check_value(name, value, &parameter["schema"]).err()),
            None => problems.push(format!("path parameter {name} is not described")),
        }
    }

    // Security: every scheme the operation names is HTTP basic here; check the header carries one.
    let security = operation.get("security").unwrap_or(&description()["security"]);
    let schemes: Vec<&str> = security
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_object())
        .flat_map(|s| s.keys())
        .map(|k| k.as_str())
        .collect();
    for scheme in &schemes {
        let definition = &description()["components"]["securitySchemes"][scheme];
        if definition["type"] == "http" && definition["scheme"] == "basic" {
            let credentials = request
                .headers
                .get("authorization")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Basic "))
                .and_then(|encoded| BASE64.decode(encoded).ok())
                .and_then(|decoded| String::from_utf8(decoded).ok());
            match credentials.as_deref().and_then(|text| text.split_once(':')) {
                Some((user, secret)) if !user.is_empty() && !secret.is_empty() => {}
                _ => problems.push(format!("the request lacks HTTP basic credentials ({scheme})")),
            }
        }
    }
    if schemes.is_empty() {
        problems.push("the description names no authentication for this operation".into());
    }

    for (name, value) in form_urlencoded::parse(request.query.as_bytes()) {
        let described = operation["parameters"]
            .as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == name.as_ref() && p["in"] == "query"));
        match described {
            Some(parameter) => problems.extend(check_value(&name, &value, &parameter["schema"]).err()),
            None => problems.push(format!("query parameter {name} is not described")),
        }
    }
    // A read sends no body, and the operation describes none.
    if operation["requestBody"].is_null() && request.body.is_empty() {
        return problems;
    }
    let content_type = request.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let Some(schema) = operation["requestBody"]["content"].get(media).map(|content| resolve(&content["schema"])) else {
        problems.push(format!("the body's content type {content_type:?} is not one Twilio takes here"));
        return problems;
    };
    let form = request.form();
    for (name, value) in &form {
        match schema["properties"].get(name.as_str()) {
            Some(property) => {
                let property = resolve(property);
                let item = if property["type"] == "array" { &property["items"] } else { property };
                problems.extend(check_value(name, value, item).err());
            }
            None => problems.push(format!("form field {name} is not one Twilio describes")),
        }
    }
    for required in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if !form.iter().any(|(name, _)| name == required) {
            problems.push(format!("required form field {required} is missing"));
        }
    }
    problems
}

pub fn assert_twilio_accepts(request: &Captured) {
    let problems = problems(request);
    assert!(problems.is_empty(), "{} {}: {problems:#?}", request.method, request.path);
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
}
