//! The protocol document (schema/errand.openrpc.json), and a check of real
//! traffic against it: every response against its method's result schema,
//! every notification against its params, every error code documented.

use serde_json::{json, Value};

use super::rpc::{assert_valid_response, Client};

pub fn document() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/errand.openrpc.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A schema with the document's components beside it, so `$ref`s resolve.
fn with_components(doc: &Value, schema: &Value) -> Value {
    let mut s = schema.clone();
    if let Some(obj) = s.as_object_mut() {
        obj.insert("components".into(), doc["components"].clone());
    }
    s
}

fn find<'a>(list: &'a Value, name: &str) -> Option<&'a Value> {
    list.as_array()?.iter().find(|m| m["name"] == name)
}

/// An object schema from by-name content descriptors.
fn params_schema(descriptors: &Value) -> Value {
    let mut props = serde_json::Map::new();
    let mut required = Vec::new();
    for p in descriptors.as_array().unwrap() {
        props.insert(p["name"].as_str().unwrap().to_owned(), p["schema"].clone());
        if p["required"] == true {
            required.push(p["name"].clone());
        }
    }
    json!({ "type": "object", "properties": props, "required": required, "additionalProperties": false })
}

/// Check everything the server sent this client; returns how many messages.
pub fn validate_traffic(c: &Client) -> usize {
    let doc = document();
    let mut checked = 0;
    for msg in &c.traffic {
        if let Some(name) = msg.get("method").and_then(Value::as_str) {
            assert!(find(&doc["methods"], name).is_none(), "{name} is a notification, not a method the server serves");
            let n =
                find(&doc["x-notifications"], name).unwrap_or_else(|| panic!("notification {name} is not documented"));
            let v = jsonschema::validator_for(&with_components(&doc, &params_schema(&n["params"]))).unwrap();
            if let Err(e) = v.validate(&msg["params"]) {
                panic!("{name} params do not match the schema: {e}\n{msg}");
            }
        } else if msg.get("result").is_some() {
            let name = &c.methods_by_id[&msg["id"].to_string()];
            let m = find(&doc["methods"], name).unwrap_or_else(|| panic!("method {name} is not documented"));
            let v = jsonschema::validator_for(&with_components(&doc, &m["result"]["schema"])).unwrap();
            if let Err(e) = v.validate(&msg["result"]) {
                panic!("{name} result does not match the schema: {e}\n{msg}");
            }
        } else {
            assert_valid_response(msg);
            let code = msg["error"]["code"].as_i64().unwrap();
            let documented = doc["components"]["errors"].as_object().unwrap().values().any(|e| e["code"] == code);
            assert!(documented, "error code {code} is documented");
        }
        checked += 1;
    }
    checked
}
