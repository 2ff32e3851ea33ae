//! Reading a method's params: one object, by name, parsed once from the raw
//! JSON jsonrpsee hands over. Unknown fields are ignored (and logged at
//! debug), as LSP requires, so clients and servers of different versions
//! work together; a wrong type or a missing field is InvalidParams naming
//! the field ("tailLines: invalid type: string \"ten\", expected u32").

use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde::de::DeserializeOwned;

use super::ErrorCode;

pub fn parse<T: DeserializeOwned>(params: &Params<'_>) -> Result<T, ErrorObjectOwned> {
    let raw = by_name(params.as_str().unwrap_or("null"));
    if !raw.starts_with('{') {
        return Err(invalid("params must be an object (by name)".into()));
    }
    let mut ignored = Vec::new();
    let mut record = |path: serde_ignored::Path<'_>| ignored.push(path.to_string());
    let mut json = serde_json::Deserializer::from_str(raw);
    let track = serde_ignored::Deserializer::new(&mut json, &mut record);
    let parsed = serde_path_to_error::deserialize(track).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        invalid(if path == "." { inner } else { format!("{path}: {inner}") })
    })?;
    if !ignored.is_empty() {
        tracing::debug!(?ignored, "unknown params ignored");
    }
    Ok(parsed)
}

/// The params object. No params are `{}` however a client spells them:
/// missing, `null`, `[]` (Neovim encodes an empty table so) or `[null]`
/// (vscode-jsonrpc's `sendRequest(method, undefined)`); one object in an
/// array is that object.
fn by_name(raw: &str) -> &str {
    let raw = raw.trim();
    let Some(inner) = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')).map(str::trim) else {
        return if raw == "null" { "{}" } else { raw };
    };
    if inner.is_empty() || inner == "null" {
        "{}"
    } else if inner.starts_with('{') && serde_json::from_str::<&serde_json::value::RawValue>(inner).is_ok() {
        inner
    } else {
        raw
    }
}

fn invalid(detail: String) -> ErrorObjectOwned {
    ErrorCode::InvalidParams.with(format!("invalid params: {detail}"), Some(serde_json::Value::String(detail)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{GetParams, InitializeParams, ListParams};

    fn parse_str<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, ErrorObjectOwned> {
        parse(&Params::new(raw))
    }

    fn detail(e: ErrorObjectOwned) -> String {
        assert_eq!(e.code(), -32602);
        serde_json::from_str(e.data().expect("data names the field").get()).unwrap()
    }

    #[test]
    fn unknown_fields_are_ignored_as_lsp_requires() {
        let p: InitializeParams =
            parse_str(Some(r#"{"clientName":"x","processId":7,"capabilities":{"a":[1]}}"#)).unwrap();
        assert_eq!(p.client_name.as_deref(), Some("x"));
    }

    #[test]
    fn absent_or_null_params_are_an_empty_object() {
        let p: ListParams = parse_str(None).unwrap();
        assert!(p.status.is_empty());
        let p: ListParams = parse_str(Some("null")).unwrap();
        assert_eq!(p.limit, None);
    }

    #[test]
    fn every_spelling_of_no_params_is_no_params() {
        for raw in ["[]", "[null]", " [ null ] ", "{}", "null"] {
            let p: ListParams = parse_str(Some(raw)).unwrap();
            assert!(p.status.is_empty(), "{raw}");
        }
        let p: ListParams = parse_str(Some(r#"[{"limit":3}]"#)).unwrap();
        assert_eq!(p.limit, Some(3));
        assert!(parse_str::<ListParams>(Some("[1]")).is_err());
        assert!(parse_str::<ListParams>(Some(r#"[{"limit":3},{}]"#)).is_err());
    }

    #[test]
    fn a_bad_field_is_named() {
        let e = parse_str::<GetParams>(Some(r#"{"id":"x","tailLines":"ten"}"#)).unwrap_err();
        assert!(detail(e).starts_with("tailLines: invalid type: string \"ten\""));
        let e = parse_str::<ListParams>(Some(r#"{"status":["running","sleeping"]}"#)).unwrap_err();
        assert!(detail(e).starts_with("status[1]: unknown variant `sleeping`"));
        let e = parse_str::<GetParams>(Some("{}")).unwrap_err();
        assert!(detail(e).contains("missing field `id`"));
        let e = parse_str::<GetParams>(Some(r#"["positional"]"#)).unwrap_err();
        assert_eq!(detail(e), "params must be an object (by name)");
    }
}
