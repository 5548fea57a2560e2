//! Helpers shared by the API integration tests: a minimal JSON Schema checker for the subset
//! utoipa emits ($ref, oneOf, type, enum, required, properties, items, and the hex patterns of
//! our string schemas). Objects are checked strictly: a member the schema does not list is an
//! error, so a change of shape in another crate fails a test.

#![allow(dead_code)] // each test binary uses its own part

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use serde_json::Value;

/// Media type of every error body.
pub const PROBLEM: &str = "application/problem+json";

/// A response, fully read.
pub struct Resp {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Resp {
    /// The body as JSON (panics with the body if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The `Content-Type` header, or "".
    pub fn content_type(&self) -> &str {
        self.headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap()).unwrap_or("")
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Assert a 200 and return the JSON body.
    #[track_caller]
    pub fn ok(&self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.text());
        self.json()
    }

    /// Assert this is a problem document with `status` and `code`, and return it.
    #[track_caller]
    pub fn assert_problem(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert_eq!(self.content_type(), PROBLEM, "body: {}", self.text());
        let p = self.json();
        assert_eq!(p["code"], code, "{p}");
        assert_eq!(p["status"], status.as_u16(), "{p}");
        assert_eq!(p["type"], format!("https://depin.dev/problems/{code}"), "{p}");
        assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()), "{p}");
        assert!(p["detail"].as_str().is_some_and(|t| !t.is_empty()), "{p}");
        p
    }
}

pub fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let name = reference.strip_prefix("#/components/schemas/").expect("local schema reference");
    &doc["components"]["schemas"][name]
}

pub fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str, strict: bool) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return conforms(doc, resolve(doc, r), value, at, strict);
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let errors: Vec<String> =
            options.iter().filter_map(|s| conforms(doc, s, value, at, strict).err()).collect();
        return match options.len() - errors.len() {
            1 => Ok(()),
            0 => Err(format!("{at}: matches no oneOf option: {errors:?}")),
            n => Err(format!("{at}: matches {n} oneOf options")),
        };
    }
    assert!(schema.get("allOf").is_none() && schema.get("anyOf").is_none(), "unsupported schema at {at}");
    if let Some(ty) = schema.get("type") {
        let types: Vec<&str> = match ty {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => panic!("bad type at {at}"),
        };
        let ok = types.iter().any(|t| match *t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_u64() || value.is_i64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        });
        if !ok {
            return Err(format!("{at}: {value} is not of type {types:?}"));
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {options:?}"));
    }
    if let (Some(pattern), Some(text)) = (schema.get("pattern").and_then(Value::as_str), value.as_str()) {
        // Only the simple patterns of our string schemas: check the hex ones exactly.
        if pattern == "^[0-9a-f]{64}$" && !(text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())) {
            return Err(format!("{at}: {text:?} does not match {pattern}"));
        }
        if pattern == "^[0-9a-f]{15}$" && !(text.len() == 15 && text.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())) {
            return Err(format!("{at}: {text:?} does not match {pattern}"));
        }
    }
    if let Some(obj) = value.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for req in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let req = req.as_str().unwrap();
            if !obj.contains_key(req) {
                return Err(format!("{at}: missing required member {req:?}"));
            }
        }
        for (k, v) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => conforms(doc, s, v, &format!("{at}.{k}"), strict)?,
                None if strict && props.is_some() => {
                    return Err(format!("{at}: member {k:?} is not in the schema"));
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            conforms(doc, items, v, &format!("{at}[{i}]"), strict)?;
        }
    }
    Ok(())
}

#[track_caller]
pub fn assert_conforms(doc: &Value, schema_name: &str, value: &Value) {
    let schema = serde_json::json!({ "$ref": format!("#/components/schemas/{schema_name}") });
    let strict = schema_name != "Problem";
    if let Err(e) = conforms(doc, &schema, value, schema_name, strict) {
        panic!("response does not match schema {schema_name}: {e}\nvalue: {value}");
    }
}
