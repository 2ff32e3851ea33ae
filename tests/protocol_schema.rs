//! The protocol is defined once, in Rust: the OpenRPC document and the
//! clients' generated types must be what the code generates now, every
//! documented method must be served, and every type and field documented.

mod common;

use common::rpc::{Client, Framing};
use common::schema::document;
use common::Home;
use serde_json::{json, Value};

fn generated(format: &str) -> String {
    let out = Home::new().cmd().args(["__schema", format]).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_generated_file_is_fresh() {
    let root = env!("CARGO_MANIFEST_DIR");
    let stale = "is stale: regenerate with `bash schema/generate.sh`";
    let doc: Value = serde_json::from_str(&generated("openrpc")).unwrap();
    assert!(doc == document(), "schema/errand.openrpc.json {stale}");
    for (format, file) in
        [("typescript", "plugin/vscode/src/protocol.ts"), ("lua", "plugin/nvim/lua/errand/protocol.lua")]
    {
        let on_disk = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
        assert!(generated(format) == on_disk, "{file} {stale}");
    }
}

#[test]
fn every_documented_method_is_served_and_notifications_are_apart() {
    let doc = document();
    let home = Home::new();
    let mut c = Client::spawn(home.cmd(), Framing::Lines);
    let methods = doc["methods"].as_array().unwrap();
    assert_eq!(methods.len(), 25);
    for m in methods {
        assert!(m["result"].is_object(), "a method has a result: {m}");
        let name = m["name"].as_str().unwrap();
        if name == "shutdown" {
            continue;
        }
        let r = c.call_raw(name, json!({ "noSuchParam": 1 }));
        assert_ne!(r["error"]["code"], -32601, "{name} is documented but not served");
        // A missing required param is named; otherwise the unknown one was ignored.
        let required: Vec<&str> = m["params"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["required"] == true)
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        if let Some(first) = required.first() {
            assert_eq!(r["error"]["code"], -32602, "{name}: {r}");
            assert!(r["error"]["data"].as_str().unwrap().contains(first), "{name}: {r}");
        } else {
            assert!(!r.to_string().contains("noSuchParam"), "{name} ignores unknown params: {r}");
        }
    }
    assert_eq!(c.call_err("task/nothing", json!({}))["code"], -32601);
    // Notifications are not methods: they are listed apart, with no result.
    let notifications = doc["x-notifications"].as_array().unwrap();
    assert_eq!(notifications.len(), 9);
    for n in notifications {
        assert!(n.get("result").is_none(), "{n}");
        assert!(!methods.iter().any(|m| m["name"] == n["name"]), "{n}");
    }
}

/// Every named type and every field of it carries a description, so the
/// schema and the generated clients explain themselves.
#[test]
fn every_type_and_field_is_documented() {
    let doc = document();
    let mut missing = Vec::new();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        if schema.get("description").is_none() {
            missing.push(name.clone());
        }
        for (field, prop) in schema["properties"].as_object().into_iter().flatten() {
            if prop.get("description").is_none() {
                missing.push(format!("{name}.{field}"));
            }
        }
        for variant in schema["oneOf"].as_array().into_iter().flatten() {
            if variant.get("description").is_none() {
                missing.push(format!("{name}: a variant"));
            }
        }
    }
    for m in doc["methods"].as_array().unwrap().iter().chain(doc["x-notifications"].as_array().unwrap()) {
        if m["summary"].as_str().unwrap_or("").is_empty() {
            missing.push(m["name"].to_string());
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:?}");
    let task = &doc["components"]["schemas"]["Task"]["properties"];
    assert_eq!(task.as_object().unwrap().len(), 36, "Task's fields");
    assert!(task.as_object().unwrap().keys().all(|k| !k.contains('_')), "camelCase");
}
