//! One incoming message to its answer, by JSON-RPC 2.0 rules: a request is
//! answered, a notification is carried out and not answered, a batch gets
//! an array of the answers (none if it held only notifications), and what
//! is not a request gets -32700 or -32600. Requests are parsed into
//! jsonrpsee's own types and run through its `Methods`.

use jsonrpsee::core::server::{BatchResponseBuilder, MethodResponse};
use jsonrpsee::types::{ErrorObjectOwned, Id, InvalidRequest, Notification, Params, Request};
use jsonrpsee::{ConnectionId, Extensions, MethodCallback, Methods};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::transport::{Incoming, MAX_FRAME};
use crate::protocol::ErrorCode;

/// Responses can be larger than requests (a big output read).
const MAX_RESPONSE: usize = 256 << 20;

/// The answer to send, if any.
pub async fn handle(methods: &Methods, incoming: Incoming) -> Option<Box<RawValue>> {
    match incoming {
        Incoming::Malformed(message) => Some(refuse(Id::Null, ErrorCode::ParseError.with(message, None))),
        Incoming::TooLarge { id, len } => {
            let id = match id {
                Value::Number(n) => n.as_u64().map_or(Id::Null, Id::Number),
                Value::String(s) => Id::Str(s.into()),
                _ => Id::Null,
            };
            let message = format!("request of {len} bytes is over the limit of {MAX_FRAME} bytes; it was skipped");
            Some(refuse(id, ErrorCode::RequestTooLarge.with(message, None)))
        }
        Incoming::Message(bytes) if is_batch(&bytes) => batch(methods, &bytes).await,
        Incoming::Message(bytes) => one(methods, &bytes).await.map(MethodResponse::into_json),
    }
}

fn refuse(id: Id<'_>, error: ErrorObjectOwned) -> Box<RawValue> {
    MethodResponse::error(id, error).into_json()
}

fn is_batch(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}

async fn batch(methods: &Methods, bytes: &[u8]) -> Option<Box<RawValue>> {
    let items = match serde_json::from_slice::<Vec<&RawValue>>(bytes) {
        Ok(items) => items,
        Err(e) => return Some(refuse(Id::Null, ErrorCode::ParseError.with(format!("parse error: {e}"), None))),
    };
    if items.is_empty() {
        return Some(refuse(Id::Null, ErrorCode::InvalidRequest.with("empty batch", None)));
    }
    let mut answers = BatchResponseBuilder::new_with_limit(MAX_RESPONSE);
    let mut any = false;
    for item in items {
        if let Some(answer) = one(methods, item.get().as_bytes()).await {
            any = true;
            if let Err(too_big) = answers.append(answer) {
                return Some(too_big.into_json());
            }
        }
    }
    any.then(|| MethodResponse::from_batch(answers.finish()).into_json())
}

/// Does the object have an `id` member at all (even an invalid one)?
#[derive(Deserialize)]
struct IdMember<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// One request or notification.
async fn one(methods: &Methods, bytes: &[u8]) -> Option<MethodResponse> {
    let request = match serde_json::from_slice::<Request>(bytes) {
        Ok(request) => request,
        Err(not_a_request) => {
            let has_id = serde_json::from_slice::<IdMember>(bytes).is_ok_and(|m| m.id.is_some());
            if !has_id {
                if let Ok(n) = serde_json::from_slice::<Notification<Option<&RawValue>>>(bytes) {
                    // A valid notification gets no answer, not even an error.
                    call(methods, &n.method, Id::Null, params_of(n.params)).await;
                    return None;
                }
            }
            let id = serde_json::from_slice::<InvalidRequest>(bytes).map(|r| r.id).unwrap_or(Id::Null);
            let code = if serde_json::from_slice::<Value>(bytes).is_ok() {
                ErrorCode::InvalidRequest
            } else {
                ErrorCode::ParseError
            };
            let what = if code == ErrorCode::ParseError { "parse error" } else { "invalid request" };
            return Some(MethodResponse::error(id.into_owned(), code.with(format!("{what}: {not_a_request}"), None)));
        }
    };
    let params = params_of(request.params.as_deref());
    Some(call(methods, &request.method, request.id.into_owned(), params).await)
}

/// Params as jsonrpsee's methods take them (owned: a method may outlive the frame).
fn params_of(raw: Option<&RawValue>) -> Params<'static> {
    Params::new(raw.map(RawValue::get)).into_owned()
}

async fn call(methods: &Methods, method: &str, id: Id<'static>, params: Params<'static>) -> MethodResponse {
    match methods.method_with_name(method) {
        Some((_, MethodCallback::Async(f))) => f(id, params, ConnectionId(0), MAX_RESPONSE, Extensions::new()).await,
        Some((_, MethodCallback::Sync(f))) => f(id, params, MAX_RESPONSE, Extensions::new()),
        _ => {
            let name: String = method.chars().take(100).collect();
            MethodResponse::error(id, ErrorCode::MethodNotFound.with(format!("no method '{name}'"), None))
        }
    }
}
