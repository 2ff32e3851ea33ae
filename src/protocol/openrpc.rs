//! The protocol as an OpenRPC 1.3 document with JSON Schema (2020-12)
//! inside: `errand __schema openrpc` prints it; schema/errand.openrpc.json
//! is it. Methods are what the server serves; notifications, which the
//! server sends unasked, are listed apart under `x-notifications` with the
//! same shape, so a validator never mistakes one for the other.

use serde_json::{json, Map, Value};

use super::{Described, ErrorCode, TypeSpec, PROTOCOL_VERSION};

pub fn document(d: &Described) -> Value {
    let methods: Vec<Value> = d
        .methods
        .iter()
        .map(|m| {
            let mut v = json!({
                "name": m.name,
                "summary": m.summary,
                "paramStructure": "by-name",
                "params": params(d, &m.params),
                "result": { "name": "result", "schema": m.result.schema },
            });
            if !m.errors.is_empty() {
                v["errors"] =
                    m.errors.iter().map(|e| json!({ "$ref": format!("#/components/errors/{}", e.name()) })).collect();
            }
            v
        })
        .collect();
    let notifications: Vec<Value> = d
        .notifications
        .iter()
        .map(|n| json!({ "name": n.name, "summary": n.summary, "paramStructure": "by-name", "params": params(d, &n.params) }))
        .collect();
    let errors: Map<String, Value> = ErrorCode::ALL
        .iter()
        .map(|e| (e.name().to_owned(), json!({ "code": e.code(), "message": e.meaning() })))
        .collect();
    json!({
        "openrpc": "1.3.2",
        "info": {
            "title": "errand serve",
            "version": PROTOCOL_VERSION.to_string(),
            "description": "JSON-RPC 2.0 over stdio: Content-Length framing as in LSP, or newline-delimited JSON, \
                detected from the first byte. Params are one object, by name; every name is camelCase; unknown \
                fields are ignored. `methods` are requests the server answers; `x-notifications` are sent by the \
                server, unasked. Times are milliseconds since the Unix epoch."
        },
        "methods": methods,
        "x-notifications": notifications,
        "components": { "schemas": d.schemas, "errors": errors }
    })
}

/// One content descriptor per field of a params object.
fn params(d: &Described, spec: &TypeSpec) -> Vec<Value> {
    let Some(object) = referenced(d, &spec.schema) else { return Vec::new() };
    let required: Vec<&str> =
        object["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let Some(properties) = object["properties"].as_object() else { return Vec::new() };
    properties
        .iter()
        .map(|(name, schema)| {
            let mut descriptor =
                json!({ "name": name, "required": required.contains(&name.as_str()), "schema": schema });
            if let Some(description) = schema.get("description") {
                descriptor["description"] = description.clone();
            }
            descriptor
        })
        .collect()
}

/// The definition a `$ref` schema points at (or the schema itself).
pub fn referenced<'a>(d: &'a Described, schema: &'a Value) -> Option<&'a Value> {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => d.schemas.get(r.rsplit('/').next()?),
        None => Some(schema),
    }
}
